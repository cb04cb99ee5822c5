// Inner script (run as root) of the first step on a host the program created: its host key from the user data only
// bootstraps the first connection; this step replaces it with one generated on the host and prints the new public
// half, which every later connection and the workflows' known_hosts pin.
import type { PipelineConfig } from "../../../config/types";
import { type RemoteStep, rootStep } from "../remoteStep";
import { RELOAD_SSHD } from "./system";

export const ROTATE_HOST_KEY_STEP = "rotate-host-key";
const KEY = "/etc/ssh/ssh_host_ed25519_key";

/**
 * The new key is generated in a fresh directory of /etc/ssh (root's only) and moved into place before the old keys
 * of every type go, so sshd always has a key to load; the running session keeps its keys. Stdout is the new public
 * key and nothing else (the component pins it); the reload talks on stderr.
 */
export function hostKeyRotationScript(): string {
  return [
    "fresh=$(mktemp -d /etc/ssh/pipeline-host-key-XXXXXX)",
    `ssh-keygen -q -t ed25519 -N '' -C '' -f "$fresh/key" >&2`,
    "rm -f /etc/ssh/ssh_host_*_key /etc/ssh/ssh_host_*_key.pub",
    `mv -fT "$fresh/key" ${KEY}`,
    `mv -fT "$fresh/key.pub" ${KEY}.pub`,
    'rmdir "$fresh"',
    "{",
    RELOAD_SSHD,
    "} >&2",
    `cut -d " " -f 1,2 ${KEY}.pub`,
  ].join("\n");
}

export function hostKeyRotationStep(config: Pick<PipelineConfig, "adminUser">): RemoteStep {
  return rootStep(config, ROTATE_HOST_KEY_STEP, hostKeyRotationScript());
}
