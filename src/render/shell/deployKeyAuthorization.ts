// The CI deploy key's authorized_keys line (forced command = the release agent), the step that adds it and the
// step that retires the lines of earlier rotations. Neither has a delete command: a host that leaves the stack (or
// moves) is dropped from state without connecting to it, and its key lines are never removed by a deletion.
import type { PipelineConfig } from "../../config/types";
import { parseSshPublicKey } from "../../primitives/sshPublicKey";
import { quote } from "../../primitives/shellQuote";
import { AGENT_PATH, hostLayout } from "../hostLayout";
import { argv, asRoot } from "./commands";
import type { RemoteStep } from "./remoteStep";
import { authorizedKeysPath } from "./steps/system";

/**
 * Options: `restrict` first (turns off every forwarding, the pty, ~/.ssh/rc and whatever future OpenSSH versions
 * add), then the classic explicit options, which say the same for older sshd versions and human readers.
 */
const DEPLOY_KEY_OPTIONS = "no-port-forwarding,no-X11-forwarding,no-agent-forwarding,no-pty,no-user-rc";

function deployKeyId(rotation: number): string {
  return `ci-${rotation}`;
}

/** An awk regex for any rotation's deploy key line: they all end with the comment `pipeline-ci-<rotation>`. */
const RETIRED_LINE = "[ \\t]pipeline-ci-[0-9]+$";

/** Adds the current rotation's line; runs before the GitHub secret switches to the key. */
export const AUTHORIZE_DEPLOY_KEY_STEP = "authorize-deploy-key";
/** Removes the lines of every other rotation; runs only after the GitHub secret has switched. */
export const RETIRE_OLD_DEPLOY_KEYS_STEP = "retire-old-deploy-keys";

/** `restrict,command="<agent> --key ci-<n>",no-port-forwarding,... <type> <base64> pipeline-ci-<n>` */
export function deployKeyLine(publicKeyOpenssh: string, rotation: number): string {
  const key = parseSshPublicKey(publicKeyOpenssh);
  if ("problem" in key) throw new Error(`the deploy key ${key.problem}`);
  const keyId = deployKeyId(rotation);
  return `restrict,command="${AGENT_PATH} --key ${keyId}",${DEPLOY_KEY_OPTIONS} ${key.type} ${key.blob} pipeline-${keyId}`;
}

/** Appends this rotation's line unless it is there; every other line, earlier rotations' too, stays. */
export function authorizeDeployKeyStep(
  config: PipelineConfig,
  publicKeyOpenssh: string,
  rotation: number,
): RemoteStep {
  const script = addLineScript(config, deployKeyLine(publicKeyOpenssh, rotation));
  return {
    name: AUTHORIZE_DEPLOY_KEY_STEP,
    script,
    create: asRoot(script, config.adminUser),
    touchesSecrets: false,
  };
}

/**
 * Removes every deploy key line (`... pipeline-ci-<n>`) except this rotation's exact line; other keys of the
 * deploy user stay. Changes nothing (not even the file's mtime) when there is nothing to remove.
 */
export function retireOldDeployKeysStep(
  config: PipelineConfig,
  publicKeyOpenssh: string,
  rotation: number,
): RemoteStep {
  const script = retireOtherLinesScript(config, deployKeyLine(publicKeyOpenssh, rotation));
  return {
    name: RETIRE_OLD_DEPLOY_KEYS_STEP,
    script,
    create: asRoot(script, config.adminUser),
    touchesSecrets: false,
  };
}

function keyFileVariables(config: PipelineConfig, line: string): string {
  return [`file=${quote(authorizedKeysPath(config))}`, `line=${quote(line)}`].join("\n");
}

/**
 * A deploy key line exactly as deployKeyLine() renders it, for any rotation: all a line carried over from an
 * earlier version's ~/.ssh/authorized_keys may be (the forced command, every restriction).
 */
const CARRIED_LINE = `^restrict,command="${AGENT_PATH} --key ci-[0-9]{1,7}",${DEPLOY_KEY_OPTIONS} (ssh-ed25519|ecdsa-sha2-nistp(256|384|521)|ssh-rsa) [A-Za-z0-9+/]+={0,3} pipeline-ci-[0-9]{1,7}$`;

/**
 * Adds the line unless it is there already; other lines stay as they are. The file and its directory are root's
 * (AUTHORIZED_KEYS_DIR), written through a fresh temp file and a rename. The first run on a host that an earlier
 * version provisioned (keys in ~/.ssh/authorized_keys) carries over that file's deploy key lines, and nothing
 * else, so a run that still holds the previous rotation's key keeps working until the retire step; the old file
 * is read as the deploy user, never as root.
 */
function addLineScript(config: PipelineConfig, line: string): string {
  const dir = authorizedKeysPath(config).replace(/\/[^/]+$/, "");
  const legacy = `${hostLayout(config).home}/.ssh/authorized_keys`;
  return [
    keyFileVariables(config, line),
    `install -d -m 0755 -o root -g root ${quote(dir.replace(/\/[^/]+$/, ""))} ${quote(dir)}`,
    'new=$(mktemp "$file.XXXXXX")',
    'if [ -f "$file" ]; then',
    '  cat "$file" >"$new"',
    `elif ${argv("runuser", "-u", config.deployUser, "--", "test", "-f", legacy)} 2>/dev/null; then`,
    `  { ${argv("runuser", "-u", config.deployUser, "--", "head", "-c", "65536", "--", legacy)} 2>/dev/null || true; } | grep -E ${quote(CARRIED_LINE)} >"$new" || true`,
    "fi",
    'if ! grep -qxF -- "$line" "$new"; then',
    '  if [ -s "$new" ] && [ -n "$(tail -c 1 "$new")" ]; then printf \'\\n\' >>"$new"; fi',
    '  printf \'%s\\n\' "$line" >>"$new"',
    "fi",
    'chmod 0644 "$new"',
    'if [ -f "$file" ] && cmp -s "$new" "$file" && [ "$(stat -c %a:%u:%g "$file")" = 644:0:0 ]; then rm -f "$new"; else mv -fT "$new" "$file"; fi',
  ].join("\n");
}

/**
 * Keeps every line that is not a deploy key line (root put them there), and the current one; the file is replaced
 * atomically. awk gets the current line through the environment (`-v` would interpret backslashes) and compares
 * whole lines.
 */
function retireOtherLinesScript(config: PipelineConfig, line: string): string {
  const retired = `/${RETIRED_LINE}/`;
  return [
    keyFileVariables(config, line),
    `if [ -f "$file" ] && KEEP="$line" awk '$0 != ENVIRON["KEEP"] && ${retired} { found = 1 } END { exit !found }' "$file"; then`,
    '  kept=$(mktemp "$file.XXXXXX")',
    `  KEEP="$line" awk '$0 == ENVIRON["KEEP"] || !${retired}' "$file" > "$kept"`,
    '  chmod 0644 "$kept"',
    '  mv -fT "$kept" "$file"',
    "fi",
  ].join("\n");
}
