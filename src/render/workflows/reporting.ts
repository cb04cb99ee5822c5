// Steps shared by the deploy and rollback workflows: timing, public health check, job summary, chat notification.
import type { PipelineConfig } from "../../config/types";
import { ENV_VARS, REPO_SECRETS } from "../githubNames";
import type { Step } from "./model";
import { removeSshFilesStep, secretExpr, varExpr } from "./sshSteps";

export const RUN_URL = "${{ github.server_url }}/${{ github.repository }}/actions/runs/${{ github.run_id }}";

export function recordStartStep(): Step {
  return { name: "Record start time", run: 'echo "STARTED_AT=$(date +%s)" >> "$GITHUB_ENV"' };
}

function publicHealthCheckStep(config: Pick<PipelineConfig, "url" | "app" | "deploy">): Step {
  const { publicCheckAttempts: attempts, publicCheckIntervalSeconds: interval } = config.deploy;
  return {
    name: "Check the public health URL",
    env: { PUBLIC_URL: config.url, HEALTH_PATH: config.app.healthPath },
    run: [
      'url="${PUBLIC_URL%/}${HEALTH_PATH}"',
      `for attempt in $(seq 1 ${attempts}); do`,
      '  if curl -fsS -o /dev/null --max-time 10 "$url"; then',
      '    echo "$url is healthy (attempt $attempt)"',
      "    exit 0",
      "  fi",
      `  echo "attempt $attempt/${attempts}: $url is not healthy yet"`,
      `  if [ "$attempt" -lt ${attempts} ]; then sleep ${interval}; fi`,
      "done",
      `echo "::error::$url did not answer 2xx after ${attempts} attempts"`,
      "exit 1",
    ].join("\n"),
  };
}

export interface SummaryColumn {
  header: string;
  /** A bash word, e.g. "$RELEASE_ID". */
  value: string;
}

/** A one-row Markdown table in $GITHUB_STEP_SUMMARY, written even when an earlier step failed. */
function summaryStep(title: string, env: Record<string, string>, columns: readonly SummaryColumn[]): Step {
  const all: SummaryColumn[] = [
    ...columns,
    { header: "Hosts", value: "$DEPLOY_HOSTS" },
    { header: "Duration", value: "$(( $(date +%s) - ${STARTED_AT:-$(date +%s)} ))s" },
    { header: "Result", value: "$JOB_STATUS" },
  ];
  return {
    name: "Write job summary",
    if: "always()",
    env: { ...env, DEPLOY_HOSTS: varExpr(ENV_VARS.hosts), JOB_STATUS: "${{ job.status }}" },
    run: [
      "{",
      `  echo "### ${title}"`,
      '  echo ""',
      `  echo "| ${all.map((c) => c.header).join(" | ")} |"`,
      `  echo "|${all.map(() => " --- |").join("")}"`,
      `  echo "| ${all.map((c) => c.value).join(" | ")} |"`,
      '} >> "$GITHUB_STEP_SUMMARY"',
    ].join("\n"),
  };
}

/**
 * Posts `{text, content}` (Slack and Discord-style webhooks) to the repository secret (only rendered when the stack
 * sets notifications.webhook, so invariant 2 holds), skipping at run time when the secret is empty.
 * A failing notification only warns: it must not turn a good deploy red.
 */
function notifyStep(env: Record<string, string>, messageShell: string): Step {
  return {
    name: "Notify chat",
    if: "always()",
    env: {
      ...env,
      NOTIFY_WEBHOOK_URL: secretExpr(REPO_SECRETS.notificationWebhook),
      JOB_STATUS: "${{ job.status }}",
      RUN_URL,
    },
    run: [
      'if [ -z "$NOTIFY_WEBHOOK_URL" ]; then',
      `  echo "${REPO_SECRETS.notificationWebhook} is not set: no notification"`,
      "  exit 0",
      "fi",
      `message="${messageShell}"`,
      'payload="$(jq -n --arg message "$message" \'{text: $message, content: $message}\')"',
      'if ! curl -fsS --max-time 10 -X POST -H "Content-Type: application/json" --data "$payload" "$NOTIFY_WEBHOOK_URL" > /dev/null; then',
      '  echo "::warning::The chat notification failed"',
      "fi",
    ].join("\n"),
  };
}

export interface OutcomeReport {
  title: string;
  env: Record<string, string>;
  columns: readonly SummaryColumn[];
  /** The chat message, a bash string (JOB_STATUS and RUN_URL are set). */
  message: string;
}

/** The steps after hosts changed: public health check, key removal, summary table, optional notification. */
export function outcomeSteps(config: PipelineConfig, report: OutcomeReport): Step[] {
  return [
    publicHealthCheckStep(config),
    removeSshFilesStep(),
    summaryStep(report.title, report.env, report.columns),
    ...(config.notifications.webhook ? [notifyStep(report.env, report.message)] : []),
  ];
}
