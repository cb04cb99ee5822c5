// The CI deploy key's authorized_keys line (forced command = the release agent), the step that adds it and the
// step that retires the lines of earlier rotations. Neither has a delete command: a host that leaves the stack (or
// moves) is dropped from state without connecting to it, and its key lines are never removed by a deletion.
import type { PipelineConfig } from "../../config/types";
import { parseSshPublicKey } from "../../primitives/sshPublicKey";
import { quote } from "../../primitives/shellQuote";
import { AGENT_PATH } from "../hostLayout";
import { asRoot, ensureDirectory } from "./commands";
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

/** Appends the line unless it is there already; other lines stay as they are. */
function addLineScript(config: PipelineConfig, line: string): string {
  const sshDir = authorizedKeysPath(config).replace(/\/authorized_keys$/, "");
  return [
    keyFileVariables(config, line),
    ensureDirectory(sshDir, { mode: "0700", owner: `${config.deployUser}:` }),
    'if [ ! -e "$file" ]; then install -m 0600 /dev/null "$file"; fi',
    'if ! grep -qxF -- "$line" "$file"; then',
    '  if [ -s "$file" ] && [ -n "$(tail -c 1 "$file")" ]; then printf \'\\n\' >> "$file"; fi',
    '  printf \'%s\\n\' "$line" >> "$file"',
    "fi",
    `chown ${config.deployUser}: "$file"`,
    'chmod 0600 "$file"',
  ].join("\n");
}

/**
 * Keeps every line that is not a deploy key line, and the current one; the file is replaced atomically. awk gets
 * the current line through the environment (`-v` would interpret backslashes) and compares whole lines.
 */
function retireOtherLinesScript(config: PipelineConfig, line: string): string {
  const retired = `/${RETIRED_LINE}/`;
  return [
    keyFileVariables(config, line),
    `if [ -f "$file" ] && KEEP="$line" awk '$0 != ENVIRON["KEEP"] && ${retired} { found = 1 } END { exit !found }' "$file"; then`,
    '  kept=$(mktemp "$file.XXXXXX")',
    `  KEEP="$line" awk '$0 == ENVIRON["KEEP"] || !${retired}' "$file" > "$kept"`,
    `  chown ${config.deployUser}: "$kept"`,
    '  chmod 0600 "$kept"',
    '  mv -f "$kept" "$file"',
    "fi",
  ].join("\n");
}
