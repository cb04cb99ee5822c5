// rollback-<env>.yml: switch every host back to an earlier release (symlink switch + pm2 reload, no rebuild).
// The free-text reason and the release id arrive through env: and are validated in bash, never interpolated.
import type { PipelineConfig } from "../../config/types";
import { AGENT_EXIT, RELEASE_ID_PATTERN } from "../agentProtocol";
import { environmentJob, hostStepsTimeoutMinutes } from "./environmentJob";
import {
  explainExitFunction,
  forEachHost,
  readHosts,
  remoteFunction,
  requireActor,
  requireEnv,
  requireMatch,
  scriptHeader,
  shellQuote,
} from "./hostLoop";
import { BASH_DEFAULTS, type Workflow } from "./model";
import { outcomeSteps, recordStartStep } from "./reporting";
import { hostLoopEnv, writeSshFilesStep } from "./ssh";

const RELEASE_ID_WORD = RELEASE_ID_PATTERN.slice(1, -1);

/**
 * Without TARGET_RELEASE, the target is the release before the first host's current one, and every host is
 * switched to that same id: hosts left in different states by a failed deploy must not each go "one back".
 */
function resolveTarget(): string[] {
  return [
    'if [ -z "${TARGET_RELEASE:-}" ]; then',
    '  listing="$(remote "${hosts[0]}" releases < /dev/null)"',
    '  current=""',
    "  while read -r line; do",
    `    id="$(grep -oE ${shellQuote(RELEASE_ID_WORD)} <<< "$line" || true)"`,
    '    if [ -z "$id" ]; then continue; fi',
    '    if [ -n "$current" ]; then TARGET_RELEASE="$id"; break; fi',
    '    if [[ "$line" == *\'*\'* ]]; then current="$id"; fi',
    '  done <<< "$listing"',
    '  if [ -z "${TARGET_RELEASE:-}" ]; then',
    '    echo "error: no release before the current one on ${hosts[0]}; pass a release id" >&2',
    `    exit ${AGENT_EXIT.noRollbackTarget}`,
    "  fi",
    '  echo "Rolling back to $TARGET_RELEASE (the release before the current one on ${hosts[0]})"',
    "fi",
    "",
  ];
}

export function renderRollbackScript(config: Pick<PipelineConfig, "environment">): string {
  return [
    ...scriptHeader(
      `Switches each host of ${config.environment} to an earlier release, in turn; stops at the first failure.`,
    ),
    ...requireEnv(["DEPLOY_HOSTS", "DEPLOY_USER", "SSH_KEY_FILE", "KNOWN_HOSTS_FILE", "ACTOR"]),
    'if [ -n "${TARGET_RELEASE:-}" ]; then',
    ...requireMatch("TARGET_RELEASE", RELEASE_ID_PATTERN, "a release id (YYYYMMDDhhmmss-<commit>)").map(
      (l) => `  ${l}`,
    ),
    "fi",
    ...requireActor(),
    "",
    ...remoteFunction(),
    ...explainExitFunction(),
    ...readHosts(),
    ...resolveTarget(),
    ...forEachHost({
      verb: "rollback",
      args: '"$TARGET_RELEASE" --actor "$ACTOR"',
      stdin: "/dev/null",
      label: "to $TARGET_RELEASE",
    }),
    'echo "Rolled back $total host(s) to $TARGET_RELEASE."',
    "",
  ].join("\n");
}

export function rollbackWorkflow(config: PipelineConfig): Workflow {
  const inputs = { TARGET_RELEASE: "${{ inputs.release }}", REASON: "${{ inputs.reason }}" };
  return {
    name: `Rollback ${config.environment}`,
    on: {
      workflow_dispatch: {
        inputs: {
          release: {
            description: "Release id to switch back to (empty = the release before the current one)",
            required: false,
            type: "string",
            default: "",
          },
          reason: {
            description: "Why (kept in the run summary and the notification)",
            required: true,
            type: "string",
          },
        },
      },
    },
    permissions: {},
    defaults: BASH_DEFAULTS,
    jobs: {
      rollback: environmentJob(config, {
        name: `rollback ${config.environment}`,
        timeoutMinutes: hostStepsTimeoutMinutes(config),
        steps: [
          recordStartStep(),
          writeSshFilesStep(),
          {
            name: "Roll back each host in turn",
            env: { ...hostLoopEnv(), TARGET_RELEASE: inputs.TARGET_RELEASE, ACTOR: "${{ github.actor }}" },
            run: renderRollbackScript(config),
          },
          ...outcomeSteps(config, {
            title: `Rollback of ${config.environment}`,
            env: inputs,
            columns: [
              { header: "Target", value: "${TARGET_RELEASE:-previous}" },
              { header: "Reason", value: "${REASON//|//}" },
            ],
            message: `Rollback of ${config.environment} to \${TARGET_RELEASE:-previous}: $JOB_STATUS. Reason: $REASON ($RUN_URL)`,
          }),
        ],
      }),
    },
  };
}
