// Text from another program (pm2's output, an app's logs) made safe to print on a terminal as one line.

/** CSI (colours, cursor moves), OSC (window titles, links; ended by BEL or ESC \) and any other ESC + one character. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const ESCAPE_SEQUENCE = /\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|.?)/g;
/** C0 and C1 control characters (carriage returns, tabs, bells, ...) and DEL. */
// eslint-disable-next-line no-control-regex -- as above
const CONTROL_CHARACTER = /[\x00-\x1f\x7f-\x9f]/g;

/** `line` without escape sequences, every other control character a space. */
export function plainText(line: string): string {
  return line.replace(ESCAPE_SEQUENCE, "").replace(CONTROL_CHARACTER, " ");
}
