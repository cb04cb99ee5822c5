// The per-host deploy loop, run verbatim by the deploy workflow, the sandbox and the real-host tests.
import type { PipelineConfig } from "../../config/types";
import { AGENT_EXIT, RELEASE_ID_PATTERN, agentCall } from "../agentProtocol";
import { HOST_LOOP_VARIABLES } from "./hostLoopEnvironment";
import {
  explainExitFunction,
  forEachHost,
  readHosts,
  remoteFunction,
  requireActor,
  requireEnv,
  requireMatch,
  scriptHeader,
} from "./hostLoop";

/** What the ship script reads besides the host-loop variables. */
export const SHIP_INPUTS = ["ARTIFACT", "RELEASE_ID", "ACTOR"] as const;
export type ShipInputs = Record<(typeof SHIP_INPUTS)[number], string>;

/**
 * Ships $ARTIFACT to every host of $DEPLOY_HOSTS ("host[:port] ..."), one after another, with
 * `deploy <release-id> --actor <login>`. Stops at the first host that fails, exiting with its exit code,
 * and never touches the hosts after it.
 */
export function renderShipScript(config: Pick<PipelineConfig, "environment" | "deploy">): string {
  return [
    ...scriptHeader(
      `Deploys one release artifact to each host of ${config.environment} in turn; stops at the first failure.`,
    ),
    ...requireEnv([...HOST_LOOP_VARIABLES, ...SHIP_INPUTS]),
    ...requireMatch("RELEASE_ID", RELEASE_ID_PATTERN, "a release id (YYYYMMDDhhmmss-<commit>)"),
    ...requireActor(),
    'if [ ! -s "$ARTIFACT" ]; then',
    '  echo "error: artifact $ARTIFACT is missing or empty" >&2',
    `  exit ${AGENT_EXIT.usage}`,
    "fi",
    "",
    ...remoteFunction(),
    ...explainExitFunction(),
    ...readHosts(),
    ...forEachHost({
      call: agentCall("deploy", {
        argument: '"$RELEASE_ID"',
        switches: config.deploy.maintenanceDuringMigrations ? ["--maintenance"] : [],
        actor: '"$ACTOR"',
      }),
      stdin: '"$ARTIFACT"',
      label: "deploy $RELEASE_ID",
    }),
    'echo "Deployed $RELEASE_ID to $total host(s)."',
    "",
  ].join("\n");
}
