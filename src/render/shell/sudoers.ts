// Rules in /etc/sudoers.d that let the deploy user run exactly one root-owned helper, and how they are installed.
import { quote } from "../../primitives/shellQuote";

/** A drop-in that lets `user` run exactly `command` as root, without a password, with any arguments. */
export function sudoersRule(purpose: string, user: string, command: string): string {
  return [
    `# Managed by pipeline (pulumi up rewrites this file): ${purpose}.`,
    `${user} ALL=(root) NOPASSWD: ${command}`,
    "",
  ].join("\n");
}

/**
 * Puts `rule` at `path` when it differs from what is there, checked with `visudo -c` in a temp file first (a broken
 * sudoers file would lock out sudo); the temp file's name has a dot, which sudo skips while it is being written.
 */
export function installSudoersFile(path: string, rule: string): string {
  return [
    `rule=${quote(rule)}`,
    `if [ "$(cat ${quote(path)} 2>/dev/null || true)" != "\${rule%$'\\n'}" ]; then`,
    `  check=$(mktemp ${quote(path.replace(/[^/]+$/, ".$&.XXXXXX"))})`,
    '  printf \'%s\' "$rule" >"$check"',
    '  visudo -c -q -f "$check"',
    '  chmod 0440 "$check"',
    `  mv -fT "$check" ${quote(path)}`,
    "fi",
  ].join("\n");
}
