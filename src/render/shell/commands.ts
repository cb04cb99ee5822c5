// Shell commands as small composable functions.
// Every function returns a command string; tests assert the exact joined text.
import { quote } from "../../primitives/shellQuote";

/** Words of one simple command, each quoted. */
export function argv(...words: string[]): string {
  return words.map(quote).join(" ");
}

/**
 * Runs a command string in a fresh bash with strict mode. `--norc`: bash started by sshd (Debian builds it with
 * SSH_SOURCE_BASHRC) would otherwise source /etc/bash.bashrc, which fails under -u (`PS1: unbound variable`).
 */
export function shell(script: string, callerVariables: readonly string[] = []): string {
  const args = callerVariables.map((name) => ` "\${${name}-}"`).join("");
  return `bash --norc -euo pipefail -c ${quote(script)}${args === "" ? "" : ` bash${args}`}`;
}

/**
 * Wraps a whole script so that it runs as root, whether the admin user is root or a passwordless sudoer.
 * `callerVariables`: variables of the calling session the script gets as $1, $2, ... (sudo resets the environment),
 * expanded by the admin user's login shell.
 */
export function asRoot(script: string, adminUser: string, callerVariables: readonly string[] = []): string {
  const command = shell(script, callerVariables);
  return adminUser === "root" ? command : `sudo -n ${command}`;
}

export interface FileOptions {
  /** Octal mode such as 0644. */
  mode: string;
  /** `user:group`, or `user:` for the user's login group. */
  owner: string;
}

/**
 * Writes `content` to `path` without any escaping concerns: the bytes travel as base64. The new content is assembled
 * in a fresh temp file next to the target (mktemp: a name nobody can plant in advance), given its mode and owner,
 * and renamed over the target only when content, mode or owner differ (an unchanged file keeps its mtime and
 * inode). The target itself is never opened, chmod'ed or chown'ed: a symlink planted there is replaced, not
 * followed. Only for directories no less-privileged user can write (see README, "Root and user-owned paths").
 */
export function writeFile(path: string, content: string, options: FileOptions): string {
  const encoded = Buffer.from(content, "utf8").toString("base64");
  return replaceFileFrom(`printf %s ${encoded} | base64 -d`, path, options);
}

/** Like writeFile, but the content is this script's stdin (secrets: never on a command line, never printed). */
export function writeFileFromStdin(path: string, options: FileOptions): string {
  return replaceFileFrom("cat", path, options);
}

function replaceFileFrom(producer: string, path: string, options: FileOptions): string {
  const target = quote(path);
  return [
    `pipeline_new=$(mktemp ${quote(`${path}.pipeline-`)}XXXXXX)`,
    `${producer} > "$pipeline_new"`,
    `chmod ${quote(options.mode)} "$pipeline_new"`,
    `chown ${quote(options.owner)} "$pipeline_new"`,
    `if [ -f ${target} ] && [ ! -L ${target} ] && cmp -s "$pipeline_new" ${target} && [ "$(stat -c %a:%u:%g "$pipeline_new")" = "$(stat -c %a:%u:%g ${target})" ]; then`,
    '  rm -f "$pipeline_new"',
    "else",
    `  mv -fT "$pipeline_new" ${target}`,
    "fi",
  ].join("\n");
}

/** Creates a directory (parents too) and enforces its mode and owner, also when it already exists. */
export function ensureDirectory(path: string, options: FileOptions): string {
  return [
    argv("mkdir", "-p", path),
    argv("chmod", options.mode, path),
    argv("chown", options.owner, path),
  ].join("\n");
}
