// What the sandbox prints of a runner script's output as it arrives: every line, in order, but pm2's process
// tables (which pm2 prints after each reload) only in the full log.

/** A line of a pm2 process table: box-drawing borders and rows, after the `[host] ` prefix of the runner scripts. */
export function isPm2TableLine(line: string): boolean {
  return /^(\[[^\]]+\] )?[┌│├└]/.test(line);
}

/** The printer the sandbox hands to runStreaming(). */
export function printProgressLine(write: (text: string) => void): (line: string) => void {
  return (line) => {
    if (!isPm2TableLine(line)) write(`${line}\n`);
  };
}
