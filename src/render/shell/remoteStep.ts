// One remote command of a host's step chain: what a remote.Command runs, and what the host tests run over SSH.
// No step has a delete command: pulumi-command's Delete returns without connecting when the state holds no
// `delete` (remote/commandController.go), so a host that moves or leaves the stack is never needed for removal.
import type { PipelineConfig } from "../../config/types";
import { asRoot } from "./commands";

export interface RemoteStep {
  /** kebab-case concern name, unique, e.g. "base-packages". */
  name: string;
  /** The bash script inside `create` (what shellcheck lints). */
  script: string;
  /** The full command string for remote.Command.create (the script, run as root where the step needs it). */
  create: string;
  /**
   * The secret this step reads on stdin: appEnv (the content of shared/.env, with the database's DATABASE_URL when
   * the database group is on), or the password of the app's role in the database on the host.
   */
  stdin?: "appEnv" | "databasePassword";
  /** The component sets logging "none" and marks stdout/stderr secret. */
  touchesSecrets: boolean;
}

/** A step whose script runs as root (directly, or through passwordless sudo for a non-root admin user). */
export function rootStep(
  config: Pick<PipelineConfig, "adminUser">,
  name: string,
  script: string,
  callerVariables: readonly string[] = [],
): RemoteStep {
  return { name, script, create: asRoot(script, config.adminUser, callerVariables), touchesSecrets: false };
}
