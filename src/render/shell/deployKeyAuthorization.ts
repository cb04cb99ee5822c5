// The CI deploy key's authorized_keys line (forced command = the release agent) and the step that adds it on
// create and removes it on delete.
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

/** Name of the step that authorizes the key of one rotation: a new rotation is a new step, the old one's delete runs last. */
export function authorizeDeployKeyStepName(rotation: number): string {
  return `authorize-deploy-key-${rotation}`;
}

/** `restrict,command="<agent> --key ci-<n>",no-port-forwarding,... <type> <base64> pipeline-ci-<n>` */
export function deployKeyLine(publicKeyOpenssh: string, rotation: number): string {
  const key = parseSshPublicKey(publicKeyOpenssh);
  if ("problem" in key) throw new Error(`the deploy key ${key.problem}`);
  const keyId = deployKeyId(rotation);
  return `restrict,command="${AGENT_PATH} --key ${keyId}",${DEPLOY_KEY_OPTIONS} ${key.type} ${key.blob} pipeline-${keyId}`;
}

export function authorizeDeployKeyStep(
  config: PipelineConfig,
  publicKeyOpenssh: string,
  rotation: number,
): RemoteStep {
  const line = deployKeyLine(publicKeyOpenssh, rotation);
  const script = addLineScript(config, line);
  const deleteScript = removeLineScript(config, line);
  return {
    name: authorizeDeployKeyStepName(rotation),
    script,
    create: asRoot(script, config.adminUser),
    deleteScript,
    delete: asRoot(deleteScript, config.adminUser),
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

/** Removes exactly this line (every copy of it); the file is replaced atomically. */
function removeLineScript(config: PipelineConfig, line: string): string {
  return [
    keyFileVariables(config, line),
    'if [ -f "$file" ] && grep -qxF -- "$line" "$file"; then',
    '  kept=$(mktemp "$file.XXXXXX")',
    '  grep -vxF -- "$line" "$file" > "$kept" || [ "$?" -eq 1 ]',
    `  chown ${config.deployUser}: "$kept"`,
    '  chmod 0600 "$kept"',
    '  mv -f "$kept" "$file"',
    "fi",
  ].join("\n");
}
