// The per-host deploy loop, run verbatim by the deploy workflow and by the real-host tests.
import type { PipelineConfig } from "../../config/types";
import { AGENT_EXIT, RELEASE_ID_PATTERN } from "../agentProtocol";
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

export const SHIP_SCRIPT_ENV = [
  "DEPLOY_HOSTS",
  "DEPLOY_USER",
  "SSH_KEY_FILE",
  "KNOWN_HOSTS_FILE",
  "ARTIFACT",
  "RELEASE_ID",
  "ACTOR",
] as const;

/**
 * Ships $ARTIFACT to every host of $DEPLOY_HOSTS ("host[:port] ..."), one after another, with
 * `deploy <release-id> --actor <login>`. Stops at the first host that fails, exiting with its exit code,
 * and never touches the hosts after it.
 */
export function renderShipScript(config: Pick<PipelineConfig, "environment">): string {
  return [
    ...scriptHeader(
      `Deploys one release artifact to each host of ${config.environment} in turn; stops at the first failure.`,
    ),
    ...requireEnv(SHIP_SCRIPT_ENV),
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
      verb: "deploy",
      args: '"$RELEASE_ID" --actor "$ACTOR"',
      stdin: '"$ARTIFACT"',
      label: "$RELEASE_ID",
    }),
    'echo "Deployed $RELEASE_ID to $total host(s)."',
    "",
  ].join("\n");
}
