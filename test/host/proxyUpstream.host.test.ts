// The proxy's choice between the two release ports on a real host (Debian's Caddy 2.6), seen from the deploy user's
// side: through the upstream helper it can send the proxy to either of its two ports and wait for a port's requests
// in flight, and nothing else; maintenance mode still wins; the flag and its directory are root's.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UPSTREAM_HELPER_PATH, hostLayout } from "../../src/render/hostLayout";
import { slotPorts, upstreamDir } from "../../src/render/releaseSlots";
import { quote } from "../../src/primitives/shellQuote";
import { CADDY_ADMIN_SOCKET } from "../../src/render/shell/caddyAdmin";
import { provisioningSteps } from "../../src/render/shell/provisioning";
import { CADDYFILE } from "../../src/render/shell/steps/reverseProxy";
import { UPSTREAM_SUDOERS_FILE } from "../../src/render/shell/upstreamHelper";
import type { HostHandle } from "../../src/testhost";
import {
  HostPool,
  SITE,
  type Stack,
  asRoot,
  curl,
  eventually,
  localCaFile,
  provisionedStack,
  withRoot,
} from "./support";

const pool = new HostPool("host-tests-proxy-upstream");
/** Root's: the test servers' code and the files that let their held requests go. */
const TEST_DIR = "/srv/upstream-test";
/** The deploy user's: where the servers note each held request they received. */
const HELD_DIR = "/tmp/upstream-test";

/**
 * A server on <port> (argv[2]) that answers `port <port>`; /held?id=N is noted in HELD_DIR and answered once root
 * has made TEST_DIR/release-N: a request in flight for exactly as long as the test wants.
 */
const SERVER = `
const { createServer } = require("node:http");
const { existsSync, writeFileSync } = require("node:fs");
const port = Number(process.argv[2]);
createServer((req, res) => {
  const url = new URL(req.url, "http://x");
  if (url.pathname !== "/held") return res.end("port " + port + "\\n");
  const id = url.searchParams.get("id");
  writeFileSync("${HELD_DIR}/held-" + id, "");
  const timer = setInterval(() => {
    if (!existsSync("${TEST_DIR}/release-" + id)) return;
    clearInterval(timer);
    res.end("port " + port + " held " + id + "\\n");
  }, 20);
}).listen(port);
`;

describe("the proxy's release port, switched by the upstream helper as the deploy user", () => {
  let stack: Stack;
  let host: HostHandle;
  let caFile: string;
  let first: number;
  let second: number;

  /** The helper, called the only way the deploy user can: sudo -n with words of its choosing. */
  const helper = (words: string) =>
    withRoot(host, (session) =>
      session.exec(
        `cd / && runuser -u ${stack.config.deployUser} -- sudo -n ${UPSTREAM_HELPER_PATH} ${words}`,
        {
          timeoutMs: 60_000,
        },
      ),
    );
  const asDeployUser = (command: string) =>
    withRoot(host, (session) =>
      session.exec(`cd / && runuser -u ${stack.config.deployUser} -- bash -c ${quote(command)}`),
    );
  const answer = async (path = "/") => {
    const reply = await curl(host, caFile, `https://${SITE}${path}`);
    return `${reply.status} ${reply.body}`;
  };
  const hostState = () =>
    asRoot(
      host,
      `ls -la --time-style=full-iso ${upstreamDir(stack.config)}; stat -c '%i %Y' ${CADDYFILE} ${UPSTREAM_HELPER_PATH}`,
    );

  beforeAll(async () => {
    [host] = (await pool.create(1)) as [HostHandle];
    stack = await provisionedStack([host], { url: `https://${SITE}`, ingress: { tls: "internal" } });
    [first, second] = slotPorts(stack.config);
    caFile = await localCaFile(host);
    await asRoot(
      host,
      [
        `mkdir -p ${TEST_DIR}`,
        `printf '%s' ${quote(SERVER)} > ${TEST_DIR}/server.js`,
        `runuser -u ${stack.config.deployUser} -- mkdir -p ${HELD_DIR}`,
        ...[first, second].map(
          (port) =>
            `(cd / && exec runuser -u ${stack.config.deployUser} -- setsid node ${TEST_DIR}/server.js ${port}) </dev/null >/dev/null 2>&1 &`,
        ),
      ].join("\n"),
    );
    for (const port of [first, second])
      await eventually(`the test server on port ${port}`, async () => {
        const probe = await withRoot(host, (s) => s.exec(`curl -sf --noproxy '*' http://localhost:${port}/`));
        return probe.stdout === `port ${port}\n`;
      });
  });

  afterAll(async () => {
    await pool.destroy();
  });

  it("runs Debian's Caddy 2.6, whose admin API lists both release ports with their requests in flight", async () => {
    expect(await asRoot(host, "caddy version")).toMatch(/^2\.6\./);
    const upstreams = await asRoot(
      host,
      `cd / && runuser -u caddy -- curl -sS --noproxy '*' --unix-socket ${CADDY_ADMIN_SOCKET} -H 'Host;' http://localhost/reverse_proxy/upstreams`,
    );
    const listed = (JSON.parse(upstreams) as { address: string; num_requests: number }[])
      .map(({ address, num_requests }) => `${address} ${num_requests}`)
      .sort();
    expect(listed).toEqual([`localhost:${first} 0`, `localhost:${second} 0`]);
  });

  it("routes through mutually exclusive handles: maintenance first, then the second port's flag, then app.port", async () => {
    const adapted = await asRoot(
      host,
      `cd / && runuser -u caddy -- caddy adapt --config ${CADDYFILE} 2>/dev/null`,
    );
    expect(routeSummary(JSON.parse(adapted))).toEqual([
      `file ${hostLayout(stack.config).maintenanceDir} /on, not path -> file_server 503`,
      `file ${upstreamDir(stack.config)} /${second} -> localhost:${second}`,
      `(any) -> localhost:${first}`,
    ]);
  });

  it("installs the helper, its sudoers rule and the flag directory as root's", async () => {
    expect(
      await asRoot(
        host,
        `stat -c '%U:%G %a %n' ${UPSTREAM_HELPER_PATH} ${UPSTREAM_SUDOERS_FILE} ${upstreamDir(stack.config)} ${upstreamDir(stack.config)}/..`,
      ),
    ).toBe(
      [
        `root:root 755 ${UPSTREAM_HELPER_PATH}`,
        `root:root 440 ${UPSTREAM_SUDOERS_FILE}`,
        `root:root 755 ${upstreamDir(stack.config)}`,
        `root:root 755 ${upstreamDir(stack.config)}/..`,
        "",
      ].join("\n"),
    );
  });

  it("sends the proxy to the second port and back", async () => {
    expect((await helper("serving")).stdout).toBe(`${first}\n`);
    expect(await answer()).toBe(`200 port ${first}\n`);

    const toSecond = await helper(`switch ${second}`);
    expect([toSecond.code, toSecond.stderr]).toEqual([0, ""]);
    expect((await helper("serving")).stdout).toBe(`${second}\n`);
    expect(await answer()).toBe(`200 port ${second}\n`);
    expect((await helper(`switch ${second}`)).code).toBe(0);
    expect(await answer("/orders/42")).toBe(`200 port ${second}\n`);

    const back = await helper(`switch ${first}`);
    expect([back.code, back.stderr]).toEqual([0, ""]);
    expect((await helper("serving")).stdout).toBe(`${first}\n`);
    expect(await answer()).toBe(`200 port ${first}\n`);
  });

  it("leaves maintenance mode in front of either port; the health path still reaches the serving port", async () => {
    const { maintenanceFlag } = hostLayout(stack.config);
    await helper(`switch ${second}`);
    await asDeployUser(`touch ${maintenanceFlag}`);
    try {
      expect(await answer()).toMatch(/^503 /);
      expect(await answer(stack.config.app.healthPath)).toBe(`200 port ${second}\n`);
      await helper(`switch ${first}`);
      expect(await answer()).toMatch(/^503 /);
      expect(await answer(stack.config.app.healthPath)).toBe(`200 port ${first}\n`);
    } finally {
      await asDeployUser(`rm -f ${maintenanceFlag}`);
    }
    expect(await answer()).toBe(`200 port ${first}\n`);
  });

  it("refuses every other word with exit 64 and a usage line, and changes nothing", async () => {
    const refused = [
      "",
      "switch",
      "drain",
      `switch ${second + 1}`,
      `switch ${first - 1}`,
      "switch 22",
      `switch ${second} x`,
      `switch 0${second}`,
      `switch ${quote(`${second} `)}`,
      "switch ../x",
      `switch ../${second}`,
      "switch /etc/passwd",
      `drain ${second + 1}`,
      "drain 5432",
      "serving x",
      `serving ${second}`,
      `${second} switch`,
      `SWITCH ${second}`,
      `'' ${second}`,
    ];
    for (const serving of [first, second]) {
      await helper(`switch ${serving}`);
      const before = await hostState();
      for (const words of refused) {
        const result = await helper(words);
        expect({ words, code: result.code, stdout: result.stdout }).toEqual({ words, code: 64, stdout: "" });
        expect(result.stderr).toBe(
          `usage: proxy-upstream switch|drain ${first}|${second}, or proxy-upstream serving\n`,
        );
      }
      expect(await hostState()).toBe(before);
      expect(await answer()).toBe(`200 port ${serving}\n`);
    }
    await helper(`switch ${first}`);
  });

  it("gives the deploy user no other way to the flag: it can neither make nor remove it, nor replace its directory", async () => {
    const dir = upstreamDir(stack.config);
    const attempts = [
      `touch ${dir}/${second}`,
      `ln -s /etc ${dir}/x`,
      `mv ${dir} ${dir}.old`,
      `rm -rf ${dir}`,
      `ln -sfn /tmp ${dir}`,
      "sudo -n /bin/sh -c id",
      `sudo -n -u caddy ${UPSTREAM_HELPER_PATH} serving`,
    ];
    const tryAll = () =>
      asDeployUser(
        attempts.map((attempt) => `if ${attempt} 2>/dev/null; then echo "done: ${attempt}"; fi`).join("\n"),
      );
    expect((await tryAll()).stdout).toBe("");
    await helper(`switch ${second}`);
    const before = await hostState();
    expect((await asDeployUser(`rm -f ${dir}/${second} 2>/dev/null || echo refused`)).stdout).toBe(
      "refused\n",
    );
    expect((await tryAll()).stdout).toBe("");
    expect(await hostState()).toBe(before);
    expect(await answer()).toBe(`200 port ${second}\n`);
    await helper(`switch ${first}`);
  });

  it("drains a port: returns once the request in flight to it has been answered, not before", async () => {
    await helper(`switch ${second}`);
    const events: string[] = [];
    const held = curl(host, caFile, `https://${SITE}/held?id=1`).then((reply) => {
      events.push("request answered");
      return reply;
    });
    await eventually("the request held by the server on the second port", () => exists(`${HELD_DIR}/held-1`));
    await helper(`switch ${first}`);
    expect(await answer()).toBe(`200 port ${first}\n`);
    const drain = helper(`drain ${second}`).then((result) => {
      events.push("drain exited");
      return result;
    });
    await eventually("the helper waiting for the second port", () =>
      succeeds(`pgrep -f '^/bin/bash ${UPSTREAM_HELPER_PATH} drain ${second}$'`),
    );
    expect(events).toEqual([]);
    await asRoot(host, `touch ${TEST_DIR}/release-1`);
    const [reply, drained] = await Promise.all([held, drain]);
    expect(`${reply.status} ${reply.body}`).toBe(`200 port ${second} held 1\n`);
    expect([drained.code, drained.stderr]).toEqual([0, ""]);
    expect(events).toEqual(["request answered", "drain exited"]);
    // Nothing in flight: at once.
    expect((await helper(`drain ${first}`)).code).toBe(0);
  });

  it("gives up after deploy.shutdownTimeoutSeconds with exit 75 when a request outlives it (a re-provisioned helper: same Caddyfile)", async () => {
    const short = { ...stack.config, deploy: { ...stack.config.deploy, shutdownTimeoutSeconds: 1 } };
    const step = provisioningSteps(short, { npmRegistry: host.npmRegistry }).find(
      (s) => s.name === "reverse-proxy",
    );
    const caddyfile = await asRoot(host, `stat -c %i ${CADDYFILE}`);
    const rerun = await withRoot(host, (session) =>
      session.exec(step?.create ?? "false", { timeoutMs: 120_000 }),
    );
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(await asRoot(host, `stat -c %i ${CADDYFILE}`)).toBe(caddyfile);

    await helper(`switch ${second}`);
    const held = curl(host, caFile, `https://${SITE}/held?id=2`);
    await eventually("the request held by the server on the second port", () => exists(`${HELD_DIR}/held-2`));
    await helper(`switch ${first}`);
    const drained = await helper(`drain ${second}`);
    expect([drained.code, drained.stderr]).toEqual([
      75,
      `1 requests still in flight to port ${second} after 1s\n`,
    ]);
    await asRoot(host, `touch ${TEST_DIR}/release-2`);
    expect((await held).body).toBe(`port ${second} held 2\n`);
    expect((await helper(`drain ${second}`)).code).toBe(0);
  });

  async function succeeds(command: string): Promise<boolean> {
    return (await withRoot(host, (session) => session.exec(command))).code === 0;
  }

  function exists(path: string): Promise<boolean> {
    return succeeds(`test -e ${path}`);
  }
});

interface CaddyRoute {
  match?: Record<string, unknown>[];
  handle?: { handler: string; routes?: CaddyRoute[]; upstreams?: { dial: string }[]; status_code?: number }[];
  group?: string;
}

/**
 * The site's handle blocks as Caddy ordered them (`caddy adapt`): each one's matcher and where it sends a request.
 * Only the routes of a handle group (mutually exclusive) are listed.
 */
function routeSummary(config: unknown): string[] {
  const summaries: string[] = [];
  const visit = (routes: CaddyRoute[]): void => {
    for (const route of routes) {
      if (route.group !== undefined && route.group.startsWith("group")) {
        summaries.push(`${matcherText(route.match)} -> ${targetText(route)}`);
        continue;
      }
      for (const handler of route.handle ?? []) if (handler.routes) visit(handler.routes);
    }
  };
  const servers = (config as { apps: { http: { servers: Record<string, { routes: CaddyRoute[] }> } } }).apps
    .http.servers;
  for (const server of Object.values(servers)) visit(server.routes);
  return summaries;
}

function matcherText(match: CaddyRoute["match"]): string {
  if (match === undefined) return "(any)";
  return match
    .map((set) =>
      Object.entries(set)
        .map(([kind, value]) => {
          if (kind === "file") {
            const file = value as { root: string; try_files: string[] };
            return `file ${file.root} ${file.try_files.join(" ")}`;
          }
          return kind === "not" ? "not path" : kind;
        })
        .join(", "),
    )
    .join(" | ");
}

function targetText(route: CaddyRoute): string {
  const handlers: NonNullable<CaddyRoute["handle"]> = [];
  const collect = (r: CaddyRoute): void => {
    for (const handler of r.handle ?? []) {
      handlers.push(handler);
      for (const inner of handler.routes ?? []) collect(inner);
    }
  };
  collect(route);
  const proxy = handlers.find((h) => h.handler === "reverse_proxy");
  if (proxy) return (proxy.upstreams ?? []).map((u) => u.dial).join(" ");
  const files = handlers.find((h) => h.handler === "file_server");
  return files ? `file_server ${files.status_code ?? 200}` : handlers.map((h) => h.handler).join(" ");
}
