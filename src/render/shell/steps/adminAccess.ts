// Inner script (run as root) of the step that makes a host the program created accept exactly the configured admin
// key: its user data authorized the admin key of the instance's creation, and the instance ignores later changes
// of its user data, so a new adminPrivateKey is applied here, over SSH, and the old key stops working.
import type { PipelineConfig } from "../../../config/types";
import { quote } from "../../../primitives/shellQuote";
import { ensureDirectory, writeFile } from "../commands";
import { type RemoteStep, rootStep } from "../remoteStep";

export const ADMIN_ACCESS_STEP = "admin-access";

/** Where cloud-init put the admin user's home: /root, or /home/<user>. */
export function adminHome(adminUser: string): string {
  return adminUser === "root" ? "/root" : `/home/${adminUser}`;
}

/**
 * adminUser's authorized_keys becomes the configured key alone. The step connects with that key, so it never locks
 * Pulumi out; a home elsewhere than cloud-init puts it (a user made by hand) is refused rather than guessed.
 */
export function adminAccessScript(adminUser: string, adminPublicKey: string): string {
  const home = adminHome(adminUser);
  const owner = `${adminUser}:`;
  return [
    `home=$(getent passwd ${quote(adminUser)} | cut -d: -f6)`,
    `if [ "$home" != ${quote(home)} ]; then`,
    `  echo "admin user ${adminUser} has the home '$home', not ${home}: not changing its authorized_keys" >&2`,
    "  exit 1",
    "fi",
    ensureDirectory(`${home}/.ssh`, { mode: "0700", owner }),
    writeFile(`${home}/.ssh/authorized_keys`, `${adminPublicKey.trim()}\n`, { mode: "0600", owner }),
  ].join("\n");
}

export function adminAccessStep(
  config: Pick<PipelineConfig, "adminUser">,
  adminPublicKey: string,
): RemoteStep {
  return rootStep(config, ADMIN_ACCESS_STEP, adminAccessScript(config.adminUser, adminPublicKey));
}
