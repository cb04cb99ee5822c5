// The upstream helper, run for real by bash in a temporary directory: its flag directory relocated, and `runuser`
// a stand-in that records how Caddy's admin API was asked and answers with the JSON the test gives it.
import { spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { quote } from "../../../src/primitives/shellQuote";
import { renderUpstreamHelper } from "../../../src/render/shell/upstreamHelper";
import { staging } from "./fixtures";

const USAGE = "usage: proxy-upstream switch|drain 3000|3001, or proxy-upstream serving\n";

const boxes: HelperBox[] = [];
afterEach(() => {
  for (const box of boxes.splice(0)) rmSync(box.root, { recursive: true, force: true });
});

/** Caddy 2.6's answer to GET /reverse_proxy/upstreams (Go's encoding/json: no spaces, fields in this order). */
function upstreams(inFlight: Record<number, number>): string {
  const entries = Object.entries(inFlight).map(
    ([port, count]) => `{"address":"localhost:${port}","num_requests":${count},"fails":0}`,
  );
  return `[${entries.join(",")}]\n`;
}

class HelperBox {
  readonly root = mkdtempSync(join(tmpdir(), "upstream-helper-"));
  readonly upstreamDir = join(this.root, "upstream");
  private readonly script = join(this.root, "proxy-upstream");
  private readonly calls = join(this.root, "calls");

  /** `answers`: what the admin API answers to each query in turn (the last one again after that); "fail": no answer. */
  constructor(answers: string[] = [upstreams({ 3000: 0, 3001: 0 })], drainTimeoutSeconds?: number) {
    boxes.push(this);
    const stubs = join(this.root, "bin");
    mkdirSync(stubs);
    mkdirSync(this.upstreamDir);
    answers.forEach((answer, i) => writeFileSync(join(this.root, `answer-${i}`), answer));
    writeFileSync(
      join(stubs, "runuser"),
      [
        "#!/bin/bash",
        `printf '%s\\n' "$*" >> ${quote(this.calls)}`,
        `n=$(wc -l < ${quote(this.calls)})`,
        `answer=${quote(this.root)}/answer-$((n - 1))`,
        `[ -e "$answer" ] || answer=${quote(this.root)}/answer-${answers.length - 1}`,
        'if [ "$(cat "$answer")" = fail ]; then exit 7; fi',
        'cat "$answer"',
      ].join("\n"),
      { mode: 0o755 },
    );
    let helper = renderUpstreamHelper(staging)
      .replace(/^readonly PATH=.*$/m, `readonly PATH=${quote(stubs)}:/usr/bin:/bin`)
      .replace(/^readonly UPSTREAM_DIR=.*$/m, `readonly UPSTREAM_DIR=${quote(this.upstreamDir)}`);
    if (drainTimeoutSeconds !== undefined)
      helper = helper.replace(
        /^readonly DRAIN_TIMEOUT_SECONDS=.*$/m,
        `readonly DRAIN_TIMEOUT_SECONDS=${drainTimeoutSeconds}`,
      );
    writeFileSync(this.script, helper, { mode: 0o755 });
  }

  run(...words: string[]) {
    const result = spawnSync(this.script, words, { encoding: "utf8", timeout: 20_000 });
    return { code: result.status, stdout: result.stdout, stderr: result.stderr };
  }

  flags(): string[] {
    return readdirSync(this.upstreamDir);
  }

  adminQueries(): string[] {
    return existsSync(this.calls) ? readFileSync(this.calls, "utf8").trim().split("\n") : [];
  }
}

describe("renderUpstreamHelper", () => {
  it("renders the two ports, the flag directory, the admin socket and the drain timeout in as readonly values", () => {
    expect(renderUpstreamHelper(staging)).toContain(
      [
        "set -euo pipefail",
        "readonly PATH=/usr/sbin:/usr/bin:/sbin:/bin",
        "readonly FIRST_PORT=3000",
        "readonly SECOND_PORT=3001",
        "readonly UPSTREAM_DIR=/var/lib/pipeline/storefront/upstream",
        "readonly ADMIN_SOCKET=/var/lib/caddy/admin.sock",
        "readonly DRAIN_TIMEOUT_SECONDS=10",
        "readonly POLL_SECONDS=0.05",
        "",
      ].join("\n"),
    );
    const custom = {
      ...staging,
      app: { ...staging.app, port: 8080 },
      deploy: { ...staging.deploy, shutdownTimeoutSeconds: 45 },
    };
    expect(renderUpstreamHelper(custom)).toMatch(/^readonly FIRST_PORT=8080\nreadonly SECOND_PORT=8081\n/m);
    expect(renderUpstreamHelper(custom)).toContain("\nreadonly DRAIN_TIMEOUT_SECONDS=45\n");
  });
});

describe("the upstream helper", () => {
  it("switches to the second port by making its flag, and back by removing it; serving tells which", () => {
    const box = new HelperBox();
    expect(box.run("serving")).toEqual({ code: 0, stdout: "3000\n", stderr: "" });
    expect(box.run("switch", "3001")).toEqual({ code: 0, stdout: "", stderr: "" });
    expect(box.flags()).toEqual(["3001"]);
    expect(statSync(join(box.upstreamDir, "3001")).mode & 0o7777).toBe(0o644);
    expect(box.run("serving").stdout).toBe("3001\n");
    expect(box.run("switch", "3001").code).toBe(0);
    expect(box.run("switch", "3000")).toEqual({ code: 0, stdout: "", stderr: "" });
    expect(box.flags()).toEqual([]);
    expect(box.run("serving").stdout).toBe("3000\n");
    expect(box.run("switch", "3000").code).toBe(0);
    expect(box.adminQueries()).toEqual([]);
  });

  const refused: string[][] = [
    [],
    ["switch"],
    ["drain"],
    ["switch", "3002"],
    ["switch", "2999"],
    ["switch", "3001", "x"],
    ["switch", "03001"],
    ["switch", "3001 "],
    ["switch", "../x"],
    ["switch", "../3001"],
    ["switch", "/etc/passwd"],
    ["switch", ""],
    ["drain", "5432"],
    ["drain", "3001", "3000"],
    ["serving", "x"],
    ["serving", "3001"],
    ["3001", "switch"],
    ["SWITCH", "3001"],
    ["", "3001"],
  ];
  it.each(refused.map((words) => [JSON.stringify(words), words] as const))(
    "refuses %s with exit 64 and the usage line, and changes nothing",
    (_label, words) => {
      for (const flagged of [false, true]) {
        const box = new HelperBox();
        if (flagged) writeFileSync(join(box.upstreamDir, "3001"), "");
        expect(box.run(...words)).toEqual({ code: 64, stdout: "", stderr: USAGE });
        expect(box.flags()).toEqual(flagged ? ["3001"] : []);
        expect(box.adminQueries()).toEqual([]);
      }
    },
  );

  it("drains: asks Caddy's admin API as the caddy user over its socket until no request is in flight to the port", () => {
    const box = new HelperBox([
      upstreams({ 3000: 4, 3001: 2 }),
      upstreams({ 3000: 4, 3001: 1 }),
      upstreams({ 3000: 4, 3001: 0 }),
    ]);
    expect(box.run("drain", "3001")).toEqual({ code: 0, stdout: "", stderr: "" });
    expect(box.adminQueries()).toEqual(
      Array(3).fill(
        "-u caddy -- curl -q -s --fail --max-time 5 --noproxy * --unix-socket /var/lib/caddy/admin.sock -H Host; http://localhost/reverse_proxy/upstreams",
      ),
    );
  });

  it("counts only the port it drains, and takes a port Caddy does not list as drained", () => {
    expect(new HelperBox([upstreams({ 3000: 4, 3001: 0 })]).run("drain", "3001").code).toBe(0);
    expect(new HelperBox([upstreams({ 3000: 0, 30001: 3 })]).run("drain", "3000").code).toBe(0);
    const box = new HelperBox([upstreams({ 3000: 0 })]);
    expect(box.run("drain", "3001")).toEqual({ code: 0, stdout: "", stderr: "" });
    expect(box.adminQueries()).toHaveLength(1);
  });

  it("gives up after the drain timeout with exit 75 and how many requests are still in flight", () => {
    const box = new HelperBox([upstreams({ 3000: 0, 3001: 2 })], 1);
    expect(box.run("drain", "3001")).toEqual({
      code: 75,
      stdout: "",
      stderr: "2 requests still in flight to port 3001 after 1s\n",
    });
    expect(box.adminQueries().length).toBeGreaterThan(1);
  });

  it.each([
    ["does not answer", "fail", 7],
    ["answers something else", "host not allowed: localhost\n", 0],
  ])("exits 69 with one line when the admin API %s", (_label, answer, curlExit) => {
    const box = new HelperBox([answer]);
    expect(box.run("drain", "3000")).toEqual({
      code: 69,
      stdout: "",
      stderr: `proxy-upstream: Caddy's admin API (/var/lib/caddy/admin.sock) did not list its upstreams (curl exit ${curlExit}): is Caddy running?\n`,
    });
  });
});
