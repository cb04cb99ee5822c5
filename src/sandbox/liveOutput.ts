// What the sandbox prints of a runner script's output as it arrives: every line, in order, as plain text (no escape
// sequences or control characters), but pm2's own output only in the full log: the process and module tables, the
// metrics line and its [PM2] progress lines, which pm2 colours even when it writes to a pipe. pm2's errors stay.
import { plainText } from "../primitives/plainText";

/** The `[host] ` prefix of the runner scripts, then pm2: a table, its `Module` heading, metrics, [PM2] lines. */
const PM2_OUTPUT = /^(\[[^\]]+\] )?(\[PM2\](?!(\[Module\])?\[ERROR\])|[┌│├└]|Module$|host metrics \|)/;

/** A line of pm2's output other than an error, in plain text (see plainText). */
export function isPm2Output(line: string): boolean {
  return PM2_OUTPUT.test(line);
}

/** The printer the sandbox hands to runStreaming(). */
export function printProgressLine(write: (text: string) => void): (line: string) => void {
  return (line) => {
    const plain = plainText(line);
    if (!isPm2Output(plain)) write(`${plain}\n`);
  };
}
