// The release agent's health gate (agent/health.sh), function by function in the agent harness (agentHarness.ts), with
// the real curl against a stand-in app: one that answers 500 with a body, one that never listens, one whose body
// carries ANSI escapes. The gate's message names what it saw: the last status code and an excerpt of the body, how
// many answers it got and how many attempts got none, and a hint that matches.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { readlinkSync } from "node:fs";
import { createServer } from "node:net";
import { createInterface } from "node:readline";
import { afterEach, describe, expect, it } from "vitest";
import type { PipelineConfig } from "../../../src/config/types";
import { AGENT_EXIT } from "../../../src/render/agentProtocol";
import { AgentSandbox, shellQuote } from "./agentHarness";
import { staging } from "./fixtures";

const RELEASE = "20261122140502-1a2b3c4";
const PREVIOUS = "20261122140501-1a2b3c4";

/**
 * A stand-in app on 127.0.0.1 (a process of its own: the harness runs bash synchronously): every path but /count
 * answers `status` with `body`; /count answers how many requests the others got.
 */
const STAND_IN = `
const http = require("node:http");
const status = Number(process.argv[1]);
const body = Buffer.from(process.argv[2], "base64");
let count = 0;
const server = http.createServer((request, response) => {
  if (request.url === "/count") return response.end(String(count));
  count += 1;
  response.writeHead(status, { "content-type": "text/plain" });
  response.end(body);
});
server.listen(0, "127.0.0.1", () => console.log(server.address().port));
`;

interface StandIn {
  port: number;
  /** The requests the health path got. */
  requests(): Promise<number>;
}

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

async function standIn(status: number, body: string): Promise<StandIn> {
  const child: ChildProcess = spawn(
    process.execPath,
    ["-e", STAND_IN, String(status), Buffer.from(body).toString("base64")],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  cleanups.push(() => child.kill());
  if (child.stdout === null) throw new Error("the stand-in has no stdout");
  const [line] = (await once(createInterface({ input: child.stdout }), "line")) as [string];
  const port = Number(line);
  return {
    port,
    requests: async () => Number(await (await fetch(`http://127.0.0.1:${port}/count`)).text()),
  };
}

/** A port nothing listens on: the system hands out a free one, which is closed again at once. */
async function closedPort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  server.close();
  await once(server, "close");
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

/** The agent with curl for real, the app on `port`, a gate of `timeout` seconds (0: exactly one attempt). */
function sandbox(port: number, timeout: number): AgentSandbox {
  const config: PipelineConfig = {
    ...staging,
    app: { ...staging.app, port },
    deploy: { ...staging.deploy, healthTimeoutSeconds: timeout },
  };
  const box = new AgentSandbox(config, { realCommands: ["curl"] });
  cleanups.push(() => box.dispose());
  return box;
}

const logsHint = (box: AgentSandbox) =>
  `see the app's logs (pm2 logs storefront, or the files in ${box.path("LOGS_DIR")})`;

describe("health_once", () => {
  const probe =
    'status=0; health_once || status=$?; printf "%s|%s|%s\\n" "$status" "$HEALTH_STATUS" "$HEALTH_EXCERPT"';

  it("is true on 2xx and keeps the code and the body's excerpt", async () => {
    const app = await standIn(200, "ok\n");
    const result = sandbox(app.port, 0).run(probe);
    expect(result.stderr).toBe("");
    expect(result.stdout).toBe("0|200|ok\n");
  });

  it("is false on 500, with the code and the body's excerpt", async () => {
    const app = await standIn(500, "database unreachable: connect ECONNREFUSED 127.0.0.1:5432\n");
    const result = sandbox(app.port, 0).run(probe);
    expect(result.stdout).toBe("1|500|database unreachable: connect ECONNREFUSED 127.0.0.1:5432\n");
  });

  it("is false without a code when nothing listens", async () => {
    const result = sandbox(await closedPort(), 0).run(probe);
    expect(result.stderr).toBe("");
    expect(result.stdout).toBe("1||\n");
  });

  it("strips the escape sequences and control characters of a body, and a NUL byte, to one line", async () => {
    const app = await standIn(503, "\x1b[31;1mERROR\x1b[0m\x00: \x1b]0;owned\x07db\r\n\tdown\x1b[2J\x07\n");
    const result = sandbox(app.port, 0).run(probe);
    expect(result.stderr).toBe("");
    expect(result.stdout).toBe("1|503|ERROR: db down\n");
  });
});

describe("one_line_excerpt", () => {
  it.each([
    ["plain text", "plain text"],
    ["  padded\n\n", "padded"],
    ["\x1b[1m\x1b[32m[PM2]\x1b[39m\x1b[22m bold", "[PM2] bold"],
    ["title\x1b]2;set by the app\x1b\\ end", "title end"],
    ["bell\x07 and \x1bc reset", "bell and reset"],
    ["caf\u00e9 \u2713", "caf"],
    ["<h1>Error</h1>\r\n<p>line\ttwo</p>", "<h1>Error</h1> <p>line two</p>"],
    ["x".repeat(200), `${"x".repeat(117)}...`],
  ])("%j -> %j", (text, excerpt) => {
    const result = sandbox(1, 0).run(`one_line_excerpt ${shellQuote(text)}`);
    expect(result.stdout).toBe(excerpt);
  });
});

describe("wait_until_healthy and health_gate_failed", () => {
  const gate = `wait_until_healthy || health_gate_failed ${RELEASE} ${PREVIOUS}`;

  it("names the last code and body of an app that answers 500, how often it answered, and points at its logs", async () => {
    const app = await standIn(500, 'Error: relation "users" does not exist\n');
    const box = sandbox(app.port, 1);
    const result = box.run(gate);
    const answers = await app.requests();
    expect(result.status).toBe(AGENT_EXIT.unhealthy);
    expect(result.stderr).toBe(
      [
        `release-agent: error: ${RELEASE} did not answer http://127.0.0.1:${app.port}/health with 2xx within 1s: ${answers === 1 ? "1 answer" : `${answers} answers`}, the last 500 ("Error: relation "users" does not exist"); switched back to ${PREVIOUS}`,
        `release-agent: hint: the app answers but /health returned 500: ${logsHint(box)}`,
        "",
      ].join("\n"),
    );
  });

  it("says nothing answered, and points at the PORT, when the app never listens", async () => {
    const port = await closedPort();
    const result = sandbox(port, 0).run(gate);
    expect(result.status).toBe(AGENT_EXIT.unhealthy);
    expect(result.stderr).toBe(
      [
        `release-agent: error: ${RELEASE} did not answer http://127.0.0.1:${port}/health within 0s: no answer to 1 attempt; switched back to ${PREVIOUS}`,
        `release-agent: hint: nothing answered on port ${port}: check that the app listens on the PORT it is given (app.port)`,
        "",
      ].join("\n"),
    );
  });

  it("prints an excerpt of a body with ANSI escapes without them", async () => {
    const app = await standIn(502, "\x1b[41m\x1b[37m upstream down \x1b[0m\n\x1b[1A\x1b[2Kretrying\n");
    const box = sandbox(app.port, 0);
    const result = box.run(gate);
    expect(result.status).toBe(AGENT_EXIT.unhealthy);
    expect(result.stderr).toBe(
      [
        `release-agent: error: ${RELEASE} did not answer http://127.0.0.1:${app.port}/health with 2xx within 0s: 1 answer, the last 502 ("upstream down retrying"); switched back to ${PREVIOUS}`,
        `release-agent: hint: the app answers but /health returned 502: ${logsHint(box)}`,
        "",
      ].join("\n"),
    );
  });

  it("counts the attempts that got no answer besides the answers (an app that crashed after answering)", () => {
    const box = sandbox(3000, 60);
    const result = box.run(
      `HEALTH_ATTEMPTS=5 HEALTH_ANSWERS=3 HEALTH_LAST_STATUS=503 HEALTH_LAST_EXCERPT=""\nhealth_gate_failed ${RELEASE} ""`,
    );
    expect(result.status).toBe(AGENT_EXIT.unhealthy);
    expect(result.stderr).toBe(
      [
        `release-agent: error: ${RELEASE} did not answer http://127.0.0.1:3000/health with 2xx within 60s: 3 answers, the last 503, 2 attempts without an answer; switched back to no release`,
        `release-agent: hint: the app answers but /health returned 503: ${logsHint(box)}`,
        "",
      ].join("\n"),
    );
  });

  it("passes on the first 2xx", async () => {
    const app = await standIn(204, "");
    const result = sandbox(app.port, 5).run(`${gate}\necho "healthy after $HEALTH_ATTEMPTS attempt(s)"`);
    expect(result.stderr).toBe("");
    expect(result.stdout).toBe("healthy after 1 attempt(s)\n");
  });
});

describe("go_live with an unhealthy release", () => {
  // Stubs: pm2 (PATH shim: the reloads do nothing). curl is real.
  it("fails the health phase with its time and the gate's message, and switches back", async () => {
    const app = await standIn(500, "boom");
    const box = sandbox(app.port, 0);
    const result = box.run(`
      mkdir "$RELEASES_DIR/${PREVIOUS}" "$RELEASES_DIR/${RELEASE}"
      switch_current ${PREVIOUS}
      trap on_exit EXIT
      go_live ${RELEASE} ${PREVIOUS}
    `);
    expect(result.status).toBe(AGENT_EXIT.unhealthy);
    expect(result.stderr.split("\n")).toEqual([
      `release-agent: current -> ${RELEASE}; reloading storefront`,
      expect.stringMatching(/^release-agent: phase switch \d+\.\d\ds$/),
      `release-agent: error: ${RELEASE} did not answer http://127.0.0.1:${app.port}/health with 2xx within 0s: 1 answer, the last 500 ("boom"); switched back to ${PREVIOUS}`,
      `release-agent: hint: the app answers but /health returned 500: ${logsHint(box)}`,
      expect.stringMatching(/^release-agent: phase health \d+\.\d\ds failed$/),
      "",
    ]);
    expect(readlinkSync(box.path("CURRENT_LINK"))).toBe(box.path("RELEASES_DIR", PREVIOUS));
  });
});

describe("verb_health", () => {
  it("names the code and body of an unhealthy answer", async () => {
    const app = await standIn(503, "maintenance\n");
    const result = sandbox(app.port, 0).run("verb_health");
    expect(result.status).toBe(AGENT_EXIT.unhealthy);
    expect(result.stderr).toBe(
      `release-agent: error: http://127.0.0.1:${app.port}/health answered 503 ("maintenance"), not 2xx\n`,
    );
  });

  it("says nothing answered when nothing listens", async () => {
    const port = await closedPort();
    const result = sandbox(port, 0).run("verb_health");
    expect(result.status).toBe(AGENT_EXIT.unhealthy);
    expect(result.stderr).toBe(
      `release-agent: error: nothing answered http://127.0.0.1:${port}/health (is the app listening on port ${port}?)\n`,
    );
  });
});
