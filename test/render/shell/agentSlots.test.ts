// Side-by-side releases in the release agent (agent/slots.sh), function by function in the agent harness: pm2 and
// curl are recording shims, the upstream helper a shim that moves the flag file as the real one does
// (test/host/sideBySide.host.test.ts runs all of it on a real host, with the real helper, pm2 and Caddy).
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import type { PipelineConfig } from "../../../src/config/types";
import { AGENT_EXIT } from "../../../src/render/agentProtocol";
import { AgentSandbox } from "./agentHarness";
import { staging } from "./fixtures";

const OLD = "20261122140501-1a2b3c4";
const NEW = "20261122140502-5d6e7f8";
const OLDER = "20261122140500-0a0b0c0";
const APP = staging.app.name;

const sandboxes: AgentSandbox[] = [];
afterEach(() => {
  for (const box of sandboxes.splice(0)) box.dispose();
});

function sandbox(deploy: Partial<PipelineConfig["deploy"]> = {}): AgentSandbox {
  const box = new AgentSandbox({ ...staging, deploy: { ...staging.deploy, ...deploy } });
  sandboxes.push(box);
  return box;
}

/** Health probes answer 2xx (or not) without a server; every probe is recorded with its URL. */
const HEALTHY = 'health_once() { echo "probe $HEALTH_URL" >>"$SANDBOX_DIR/probes"; HEALTH_STATUS=200; }';
const NO_ANSWER =
  'health_once() { echo "probe $HEALTH_URL" >>"$SANDBOX_DIR/probes"; HEALTH_STATUS=""; return 1; }';

/** A host where <release> runs on <port> and the proxy sends requests there. */
function serving(port: 3000 | 3001, release: string): string {
  return [
    `mkdir -p "$RELEASES_DIR/${release}" "$SLOTS_DIR" "$UPSTREAM_DIR"`,
    `echo ${release} >"$SLOTS_DIR/${port}"`,
    port === 3001 ? ': >"$UPSTREAM_DIR/3001"' : "",
    `switch_current ${release}`,
  ].join("\n");
}

describe("serving_port and other_port", () => {
  it("reads the proxy's choice from the helper's flag file: app.port without it, the port after it with it", () => {
    const box = sandbox();
    const result = box.run(
      'serving_port; other_port "$(serving_port)"; mkdir -p "$UPSTREAM_DIR"; : >"$UPSTREAM_DIR/3001"; serving_port; other_port 3001',
    );
    expect(result.stdout).toBe("3000\n3001\n3001\n3000\n");
  });
});

describe("start_slot", () => {
  it("writes the release's own ecosystem (its port, its directory, PORT) and starts it under pm2", () => {
    const box = sandbox();
    const result = box.run(`start_slot 3001 ${NEW}`);
    expect(result.status, result.stderr).toBe(0);
    const file = box.path("SLOT_ECOSYSTEM_FILE").replace("@SLOT_PORT@", "3001");
    const ecosystem = readFileSync(file, "utf8");
    expect(ecosystem).toContain(`"name": "${APP}-3001"`);
    expect(ecosystem).toContain(`"namespace": "${APP}"`);
    expect(ecosystem).toContain(`"cwd": "/home/deploy/apps/${APP}/releases/${NEW}"`);
    expect(ecosystem).toContain('{ PORT: "3001" }');
    expect(ecosystem).not.toContain("@SLOT_");
    expect(readFileSync(box.path("SLOTS_DIR", "3001"), "utf8")).toBe(`${NEW}\n`);
    expect(box.stubCalls()).toEqual([`pm2 start ${file}`]);
  });

  it("lets the requests of a release already on the port finish, then replaces it", () => {
    const box = sandbox();
    box.run(`mkdir -p "$SLOTS_DIR"; echo ${OLDER} >"$SLOTS_DIR/3001"; start_slot 3001 ${NEW}`);
    expect(box.stubCalls().map((call) => call.split(" ").slice(0, 3).join(" "))).toEqual([
      "upstream-helper drain 3001",
      `pm2 delete ${APP}-3001`,
      "pm2 start " + box.path("SLOT_ECOSYSTEM_FILE").replace("@SLOT_PORT@", "3001"),
    ]);
  });
});

describe("go_live_beside (a deploy)", () => {
  it("starts the new release on the other port, gates it there, then switches current and the proxy; the old one stays warm", () => {
    const box = sandbox();
    const result = box.run(
      `${serving(3000, OLD)}\n${HEALTHY}\nmkdir "$RELEASES_DIR/${NEW}"; go_live_beside ${NEW} ${OLD}`,
    );
    expect(result.status, result.stderr).toBe(0);
    expect(readFileSync(`${box.root}/probes`, "utf8")).toBe("probe http://127.0.0.1:3001/health\n");
    const calls = box.stubCalls();
    expect(calls[0]).toMatch(/^pm2 start .*ecosystem-3001\.config\.js$/);
    expect(calls.slice(1)).toEqual(["upstream-helper switch 3001", "pm2 save"]);
    expect(existsSync(box.path("UPSTREAM_DIR", "3001"))).toBe(true);
    expect(box.run("current_release").stdout).toBe(`${NEW}\n`);
    expect(result.stderr).toContain(`${OLD} stays warm on port 3000 for a rollback`);
    expect(result.stderr).toMatch(
      /phase start [\d.]+s\n(.*\n)*release-agent: phase health [\d.]+s\n(.*\n)*release-agent: phase switch/,
    );
  });

  it("with deploy.previousRelease stopped, stops the old release once the proxy has no request in flight to it", () => {
    const box = sandbox({ previousRelease: "stopped" });
    const result = box.run(
      `${serving(3001, OLD)}\n${HEALTHY}\nmkdir "$RELEASES_DIR/${NEW}"; go_live_beside ${NEW} ${OLD}`,
    );
    expect(result.status, result.stderr).toBe(0);
    expect(box.stubCalls().slice(1)).toEqual([
      "upstream-helper switch 3000",
      "upstream-helper drain 3001",
      `pm2 delete ${APP}-3001`,
      "pm2 save",
    ]);
    expect(existsSync(box.path("UPSTREAM_DIR", "3001"))).toBe(false);
    expect(readdirSync(box.path("SLOTS_DIR"))).toEqual(["3000"]);
  });

  it("a release that fails its gate never gets a request: stopped, the proxy and current untouched, unhealthy", () => {
    const box = sandbox({ healthTimeoutSeconds: 5 });
    const result = box.run(
      `${serving(3000, OLD)}\n${NO_ANSWER}\nSECONDS=1000; sleep() { SECONDS=$((SECONDS + 10)); }\nmkdir "$RELEASES_DIR/${NEW}"; NEW_RELEASE=${NEW}; trap on_exit EXIT; go_live_beside ${NEW} ${OLD}`,
    );
    expect(result.status).toBe(AGENT_EXIT.unhealthy);
    expect(result.stderr).toContain(`${OLD} kept serving (the proxy never sent ${NEW} a request)`);
    expect(result.stderr).toContain("nothing answered on port 3001");
    expect(box.stubCalls().filter((call) => call.startsWith("upstream-helper switch"))).toEqual([]);
    expect(box.stubCalls()).toContain(`pm2 delete ${APP}-3001`);
    expect(box.run("current_release; serving_port").stdout).toBe(`${OLD}\n3000\n`);
    expect(existsSync(box.path("RELEASES_DIR", NEW))).toBe(false);
    expect(readdirSync(box.path("SLOTS_DIR"))).toEqual(["3000"]);
  });

  it("refuses an app that listens on a fixed port at once, names the fix, and leaves the old release serving", () => {
    const box = sandbox();
    const result = box.run(
      `${serving(3000, OLD)}\n${NO_ANSWER}\nslot_listening_ports() { echo 3000; }\nmkdir "$RELEASES_DIR/${NEW}"; NEW_RELEASE=${NEW}; trap on_exit EXIT; go_live_beside ${NEW} ${OLD}`,
    );
    expect(result.status).toBe(AGENT_EXIT.unhealthy);
    expect(result.stderr).toContain(
      `error: ${NEW} listens on port 3000 instead of the PORT it was given (3001); ${OLD} kept serving`,
    );
    expect(result.stderr).toContain("set pipeline:deploy.strategy to reload");
    // One probe, not a whole health timeout.
    expect(readFileSync(`${box.root}/probes`, "utf8")).toBe("probe http://127.0.0.1:3001/health\n");
    expect(box.run("current_release; serving_port").stdout).toBe(`${OLD}\n3000\n`);
  });

  it("refuses an app whose new release found the serving release's port in use (EADDRINUSE in its error log since it started)", () => {
    const box = sandbox();
    const result = box.run(
      [
        serving(3000, OLD),
        NO_ANSWER,
        'mkdir -p "$LOGS_DIR"; echo "old: Error: listen EADDRINUSE: address already in use :::3000" >"$SLOT_ERROR_LOG"',
        'pm2_cli() { if [ "$1" = start ]; then echo "Error: bind EADDRINUSE null:3000" >>"$SLOT_ERROR_LOG"; fi; }',
        `mkdir "$RELEASES_DIR/${NEW}"; NEW_RELEASE=${NEW}; trap on_exit EXIT; go_live_beside ${NEW} ${OLD}`,
      ].join("\n"),
    );
    expect(result.status).toBe(AGENT_EXIT.unhealthy);
    expect(result.stderr).toContain(
      `${NEW} tried to listen on port 3000 (EADDRINUSE) instead of the PORT it was given (3001)`,
    );
  });

  it("does not take an EADDRINUSE from before the release started for its own", () => {
    const box = sandbox();
    const result = box.run(
      [
        serving(3000, OLD),
        'mkdir -p "$LOGS_DIR"; echo "Error: listen EADDRINUSE: address already in use :::3000" >"$SLOT_ERROR_LOG"',
        `start_slot 3001 ${NEW}; probe_port 3001; release_uses_its_port && echo uses-its-port`,
      ].join("\n"),
    );
    expect(result.stdout).toBe("uses-its-port\n");
  });
});

describe("free_next_port (a deploy's start)", () => {
  it("stops the warm release of the port the new release takes in the background, and the start waits for it", () => {
    const box = sandbox();
    const result = box.run(
      `${serving(3001, OLD)}\necho ${OLDER} >"$SLOTS_DIR/3000"\n${HEALTHY}\nfree_next_port\n[ -n "$FREEING_PID" ] && echo background\nmkdir "$RELEASES_DIR/${NEW}"; go_live_beside ${NEW} ${OLD}`,
    );
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toBe("background\n");
    expect(result.stderr).toContain(`stopping ${OLDER} on port 3000: this deploy's release takes the port`);
    expect(box.stubCalls().map((call) => call.replace(/ \/.*/, ""))).toEqual([
      "upstream-helper drain 3000",
      `pm2 delete ${APP}-3000`,
      "pm2 start",
      "upstream-helper switch 3000",
      "pm2 save",
    ]);
  });

  it("does nothing when no release runs on that port", () => {
    const box = sandbox();
    const result = box.run(`${serving(3000, OLD)}\nfree_next_port; echo "[$FREEING_PID]"`);
    expect(result.stdout).toBe("[]\n");
    expect(box.stubCalls()).toEqual([]);
  });
});

describe("roll_back_beside", () => {
  it("is a proxy switch only when the target is warm on the other port and answers", () => {
    const box = sandbox();
    // The process list was saved with both releases running (the deploy that made OLD warm).
    box.run(
      `${serving(3001, NEW)}\nmkdir "$RELEASES_DIR/${OLD}"; echo ${OLD} >"$SLOTS_DIR/3000"\nmkdir -p "$APP_HOME/.pm2"; : >"$APP_HOME/.pm2/dump.pm2"; save_slot_list; : >"$SANDBOX_DIR/stub-calls.log"`,
    );
    const result = box.run(`${HEALTHY}\nroll_back_beside ${OLD} ${NEW}`);
    expect(result.status, result.stderr).toBe(0);
    expect(box.stubCalls()).toEqual(["upstream-helper switch 3000"]);
    expect(box.run("current_release; serving_port").stdout).toBe(`${OLD}\n3000\n`);
    expect(result.stderr).toContain(`${NEW} stays warm on port 3001 for a rollback`);
  });

  it("starts, gates and switches when the target is not warm", () => {
    const box = sandbox();
    const result = box.run(
      `${serving(3001, NEW)}\nmkdir "$RELEASES_DIR/${OLD}"; echo ${OLDER} >"$SLOTS_DIR/3000"\n${HEALTHY}\nroll_back_beside ${OLD} ${NEW}`,
    );
    expect(result.status, result.stderr).toBe(0);
    expect(box.stubCalls().map((call) => call.replace(/ \/.*/, ""))).toEqual([
      "upstream-helper drain 3000",
      `pm2 delete ${APP}-3000`,
      "pm2 start",
      "upstream-helper switch 3000",
      "pm2 save",
    ]);
  });
});

describe("undo_side_by_side (an interrupted deploy)", () => {
  it("after the switch: the proxy and current go back and the new release stops", () => {
    const box = sandbox();
    const result = box.run(
      `${serving(3000, OLD)}\nmkdir "$RELEASES_DIR/${NEW}"; echo ${NEW} >"$SLOTS_DIR/3001"; : >"$UPSTREAM_DIR/3001"; switch_current ${NEW}\nNEW_RELEASE=${NEW} SWITCHED_FROM=${OLD} PROXY_SWITCHED_FROM=3000 SLOT_STARTED=3001\nundo_unfinished_deploy`,
    );
    expect(result.status, result.stderr).toBe(0);
    expect(box.stubCalls()).toEqual(["upstream-helper switch 3000", `pm2 delete ${APP}-3001`]);
    expect(box.run("current_release; serving_port").stdout).toBe(`${OLD}\n3000\n`);
    expect(readdirSync(box.path("RELEASES_DIR"))).toEqual([OLD]);
  });

  it("before the switch: only the new release stops", () => {
    const box = sandbox();
    box.run(
      `${serving(3000, OLD)}\nmkdir "$RELEASES_DIR/${NEW}"; echo ${NEW} >"$SLOTS_DIR/3001"\nNEW_RELEASE=${NEW} SLOT_STARTED=3001\nundo_unfinished_deploy`,
    );
    expect(box.stubCalls()).toEqual([`pm2 delete ${APP}-3001`]);
    expect(box.run("current_release").stdout).toBe(`${OLD}\n`);
  });
});

describe("changing deploy.strategy", () => {
  it("reload -> sideBySide: the in-place app stops once the proxy sends to the new release", () => {
    const box = sandbox();
    const result = box.run(
      `mkdir -p "$RELEASES_DIR/${OLD}" "$RELEASES_DIR/${NEW}"; switch_current ${OLD}; echo '// in place' >"$ECOSYSTEM_FILE"\n${HEALTHY}\ngo_live_beside ${NEW} ${OLD}`,
    );
    expect(result.status, result.stderr).toBe(0);
    expect(box.stubCalls().map((call) => call.replace(/ \/.*/, ""))).toEqual([
      "pm2 start",
      "upstream-helper switch 3001",
      "upstream-helper drain 3000",
      "pm2 delete",
      "pm2 save",
    ]);
    expect(existsSync(box.path("ECOSYSTEM_FILE"))).toBe(false);
  });

  it("sideBySide -> reload: the release on app.port stops, the in-place app starts there, then the other one stops", () => {
    const box = new AgentSandbox({ ...staging, deploy: { ...staging.deploy, strategy: "reload" } });
    sandboxes.push(box);
    const result = box.run(
      `${serving(3001, OLD)}\necho ${OLDER} >"$SLOTS_DIR/3000"; mkdir "$RELEASES_DIR/${NEW}"\n${HEALTHY}\ngo_live ${NEW} ${OLD}`,
    );
    expect(result.status, result.stderr).toBe(0);
    expect(box.stubCalls().map((call) => call.replace(/ \/.*/, ""))).toEqual([
      `pm2 delete ${APP}-3000`,
      "pm2 startOrReload",
      "upstream-helper switch 3000",
      "upstream-helper drain 3001",
      `pm2 delete ${APP}-3001`,
      "pm2 save",
    ]);
    expect(readdirSync(box.path("SLOTS_DIR"))).toEqual([]);
  });
});

describe("prune_releases", () => {
  it("keeps the releases the two ports run, however old", () => {
    const box = sandbox({ keepReleases: 2 });
    const ids = [
      "20261122140500-0000001",
      "20261122140501-0000002",
      "20261122140502-0000003",
      "20261122140503-0000004",
    ];
    box.run(
      `for r in ${ids.join(" ")}; do mkdir -p "$RELEASES_DIR/$r"; done; mkdir -p "$SLOTS_DIR"; echo ${ids[0]} >"$SLOTS_DIR/3001"; prune_releases x y`,
    );
    expect(readdirSync(box.path("RELEASES_DIR"))).toEqual([ids[0], ids[2], ids[3]]);
  });
});
