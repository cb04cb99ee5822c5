// The CI deploy key's authorized_keys line (forced command = the release agent) and the steps that add/remove it.
import type { PipelineConfig } from "../../config/types";
import { AGENT_PATH } from "../hostLayout";
import { asRoot, ensureDirectory, quote } from "./commands";
import type { RemoteStep } from "./provisioning";
import { authorizedKeysPath } from "./steps/system";

const KEY_TYPES = [
  "ssh-ed25519",
  "ecdsa-sha2-nistp256",
  "ecdsa-sha2-nistp384",
  "ecdsa-sha2-nistp521",
  "ssh-rsa",
];
const KEY_BLOB = /^[A-Za-z0-9+/]+={0,3}$/;

/**
 * Options: `restrict` first (turns off every forwarding, the pty, ~/.ssh/rc and whatever future OpenSSH versions
 * add), then the classic explicit options, which say the same for older sshd versions and human readers.
 */
export const DEPLOY_KEY_OPTIONS =
  "no-port-forwarding,no-X11-forwarding,no-agent-forwarding,no-pty,no-user-rc";

export function deployKeyId(rotation: number): string {
  return `ci-${rotation}`;
}

/** `restrict,command="<agent> --key ci-<n>",no-port-forwarding,... <type> <base64> pipeline-ci-<n>` */
export function deployKeyLine(_config: PipelineConfig, publicKeyOpenssh: string, rotation: number): string {
  const { type, blob } = parsePublicKey(publicKeyOpenssh);
  const keyId = deployKeyId(rotation);
  return `restrict,command="${AGENT_PATH} --key ${keyId}",${DEPLOY_KEY_OPTIONS} ${type} ${blob} pipeline-${keyId}`;
}

function parsePublicKey(publicKeyOpenssh: string): { type: string; blob: string } {
  const [type, blob] = publicKeyOpenssh.trim().split(/\s+/);
  if (!type || !KEY_TYPES.includes(type) || !blob || !KEY_BLOB.test(blob)) {
    throw new Error(`not an OpenSSH public key ('<type> <base64>' with type ${KEY_TYPES.join(", ")})`);
  }
  return { type, blob };
}

export function authorizeDeployKeyStep(
  config: PipelineConfig,
  publicKeyOpenssh: string,
  rotation: number,
): RemoteStep {
  const line = deployKeyLine(config, publicKeyOpenssh, rotation);
  const script = addLineScript(config, line);
  const deleteScript = removeLineScript(config, line);
  return {
    name: `authorize-deploy-key-${rotation}`,
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

/** Prints the host's ed25519 public key (world-readable: no root needed); the component builds known_hosts from it. */
export const readHostKeyStep: RemoteStep = {
  name: "read-host-key",
  script: "cat /etc/ssh/ssh_host_ed25519_key.pub",
  create: "cat /etc/ssh/ssh_host_ed25519_key.pub",
  touchesSecrets: false,
};
