// The step that writes the deploy key and the pinned known_hosts (never ssh-keyscan: trust is decided by Pulumi,
// which knows every host key, not by whoever answers on the network at deploy time).
import { ENV_SECRETS, ENV_VARS } from "../githubNames";
import { type HostLoopVariable, hostLoopEnvironment } from "../runner/hostLoopEnvironment";
import type { Step } from "./model";

/** Files the SSH step writes; the runner-side scripts read them through SSH_KEY_FILE and KNOWN_HOSTS_FILE. */
export const SSH_FILES = {
  key: "${{ runner.temp }}/deploy_key",
  knownHosts: "${{ runner.temp }}/known_hosts",
} as const;

export const secretExpr = (name: string) => `\${{ secrets.${name} }}`;
export const varExpr = (name: string) => `\${{ vars.${name} }}`;

export function writeSshFilesStep(): Step {
  return {
    name: "Write deploy key and pinned known_hosts",
    env: {
      DEPLOY_SSH_KEY: secretExpr(ENV_SECRETS.deployKey),
      DEPLOY_KNOWN_HOSTS: varExpr(ENV_VARS.knownHosts),
      SSH_KEY_FILE: SSH_FILES.key,
      KNOWN_HOSTS_FILE: SSH_FILES.knownHosts,
    },
    run: [
      'if [ -z "$DEPLOY_SSH_KEY" ] || [ -z "$DEPLOY_KNOWN_HOSTS" ]; then',
      `  echo "::error::${ENV_SECRETS.deployKey} or ${ENV_VARS.knownHosts} is not set for this environment (run pulumi up for this stack)"`,
      "  exit 1",
      "fi",
      "umask 077",
      'printf \'%s\\n\' "$DEPLOY_SSH_KEY" > "$SSH_KEY_FILE"',
      'printf \'%s\\n\' "$DEPLOY_KNOWN_HOSTS" > "$KNOWN_HOSTS_FILE"',
    ].join("\n"),
  };
}

/** Env for a step that runs a runner-side script: the environment's variables and the files written above. */
export function hostLoopEnv(): Record<HostLoopVariable, string> {
  return hostLoopEnvironment({
    hosts: varExpr(ENV_VARS.hosts),
    deployUser: varExpr(ENV_VARS.deployUser),
    keyFile: SSH_FILES.key,
    knownHostsFile: SSH_FILES.knownHosts,
  });
}

/** Removes the key even when an earlier step failed. */
export function removeSshFilesStep(): Step {
  return {
    name: "Remove deploy key",
    if: "always()",
    env: { SSH_KEY_FILE: SSH_FILES.key },
    run: 'rm -f "$SSH_KEY_FILE"',
  };
}
