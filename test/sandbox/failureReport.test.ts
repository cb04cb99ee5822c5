// The sandbox's report for a release that never became healthy: the hint is the release agent's, so it matches what
// the health gate saw (an app that answers with an error is not told to check its PORT).
import { describe, expect, it } from "vitest";
import { agentHint, failedHost, neverHealthyText } from "../../src/sandbox/failureReport";
import { stagingConfig } from "../render/workflows/fixtures";

const first = { address: "10.200.1.2", port: 22 };
const second = { address: "10.200.2.2", port: 22 };
const LOGS = "--- /home/deploy/apps/storefront/shared/logs/storefront-error.log\nError: relation missing";

/** The ship script's output for a deploy whose second host failed its health gate with `hint`. */
function shipOutput(hint: string): string {
  return [
    "==> [1/2] 10.200.1.2: deploy 20261122140501-1a2b3c4d5e6f",
    "[10.200.1.2] release-agent: release 20261122140501-1a2b3c4d5e6f is live",
    "OK   [1/2] 10.200.1.2: deploy 20261122140501-1a2b3c4d5e6f in 9s",
    "==> [2/2] 10.200.2.2:22: deploy 20261122140501-1a2b3c4d5e6f",
    "[10.200.2.2:22] release-agent: error: 20261122140501-1a2b3c4d5e6f did not answer http://127.0.0.1:3000/health with 2xx within 60s: 290 answers, the last 500; switched back to 20261120100000-cccccccccccc",
    `[10.200.2.2:22] release-agent: hint: ${hint}`,
    "FAIL [2/2] 10.200.2.2:22: exit 69: unhealthy after 61s",
  ].join("\n");
}

const ANSWERS =
  "the app answers but /health returned 500: see the app's logs (pm2 logs storefront, or the files in /home/deploy/apps/storefront/shared/logs)";
const NO_ANSWER =
  "nothing answered on port 3000: check that the app listens on the PORT it is given (app.port)";

describe("neverHealthyText", () => {
  it("passes on the agent's hint for an app that answered 500, without the PORT hint", () => {
    const output = shipOutput(ANSWERS);
    const host = failedHost(output, [first, second]);
    expect(host).toBe(second);
    expect(neverHealthyText(stagingConfig(), second, output, LOGS)).toBe(
      [
        `the app never became healthy on 10.200.2.2: ${ANSWERS}. The previous release, if any, is serving again.`,
        "Last lines of the app's logs on 10.200.2.2:",
        LOGS,
      ].join("\n"),
    );
  });

  it("passes on the PORT hint when nothing answered", () => {
    expect(neverHealthyText(stagingConfig(), second, shipOutput(NO_ANSWER), LOGS).split("\n")[0]).toBe(
      `the app never became healthy on 10.200.2.2: ${NO_ANSWER}. The previous release, if any, is serving again.`,
    );
  });

  it("says what may have happened when the agent gave no hint (pm2 could not start the release)", () => {
    const output = "FAIL [1/1] 10.200.1.2: exit 74: reload failed after 3s";
    expect(neverHealthyText(stagingConfig(), first, output, LOGS).split("\n")[0]).toBe(
      "the app never became healthy on 10.200.1.2: pm2 could not start it, or it did not answer /health with 2xx within 60s (deploy.healthTimeoutSeconds). The previous release, if any, is serving again.",
    );
  });
});

describe("agentHint", () => {
  it("takes the hint of the host asked about only", () => {
    expect(agentHint(shipOutput(ANSWERS), second)).toBe(ANSWERS);
    expect(agentHint(shipOutput(ANSWERS), first)).toBeUndefined();
  });
});
