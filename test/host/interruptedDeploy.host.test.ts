// A deploy whose client goes away (a cancelled workflow run, a lost connection) in each phase of the agent's work:
// the previous release keeps serving, nothing of the new one is left behind, and the audit log never says ok.
// The client is ssh itself, killed with SIGKILL when the agent reports the phase on stderr: the agent learns it
// only from the closed channel (EOF on its input, SIGPIPE at its next write), as it would in production.
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hostLayout } from "../../src/render/hostLayout";
import { EXAMPLE_APP, spawnCollecting } from "../../src/sandbox";
import { type HostHandle, sshCommandLineArgs } from "../../src/testhost";
import {
  HostPool,
  type Release,
  type Stack,
  asRoot,
  auditEntries,
  currentRelease,
  deployOk,
  eventually,
  makeRelease,
  provisionedStack,
  servedBuilds,
} from "./support";

const pool = new HostPool("host-tests-interrupted");

interface Cut {
  phase: string;
  /** Cut when the agent's stderr has this text; undefined: cut after half of the artifact was sent. */
  marker?: string;
  /** Wait this long after the marker before cutting (to land inside the phase that follows it). */
  delayMs?: number;
  healthy?: boolean;
}

const CUTS: Cut[] = [
  { phase: "the upload" },
  { phase: "the install", marker: "installing production dependencies" },
  { phase: "the migrations", marker: "running migrations" },
  // A healthy release passes its gate about a second after it was started beside the serving one: the cut lands
  // in its start or its gate, before the proxy switch.
  { phase: "the start beside the serving release and its health gate", marker: "starting " },
  // An unhealthy one stays in its gate until the deadline (healthTimeoutSeconds).
  { phase: "the health gate of an unhealthy release", marker: "starting ", delayMs: 3000, healthy: false },
];

/** Starts `deploy <id>` over ssh, feeds the artifact, and kills ssh at the cut. */
async function cutDeploy(stack: Stack, host: HostHandle, release: Release, cut: Cut): Promise<void> {
  const args = [
    "-F",
    "none",
    "-T",
    ...sshCommandLineArgs(host, stack.files.keyFile, stack.files.knownHostsFile, stack.config.deployUser),
    `deploy ${release.id} --actor octocat`,
  ];
  const { child, result } = spawnCollecting("ssh", args);
  const artifact = readFileSync(release.artifact);
  if (cut.marker === undefined) {
    child.stdin.write(artifact.subarray(0, Math.floor(artifact.length / 2)));
    await new Promise((resolve) => setTimeout(resolve, 1000));
  } else {
    const marker = cut.marker;
    const seen = new Promise<void>((resolve) => {
      let stderr = "";
      child.stderr.on("data", (chunk: Buffer) => {
        stderr += chunk.toString();
        if (stderr.includes(marker)) resolve();
      });
    });
    child.stdin.end(artifact);
    await seen;
    if (cut.delayMs) await new Promise((resolve) => setTimeout(resolve, cut.delayMs));
  }
  child.kill("SIGKILL");
  await result;
}

describe("a deploy whose client is cut", () => {
  let stack: Stack;
  let host: HostHandle;
  let serving: Release;

  beforeAll(async () => {
    [host] = (await pool.create(1)) as [HostHandle];
    // Migrations that take a moment, so that a cut can land inside them.
    stack = await provisionedStack([host], {
      app: {
        ...EXAMPLE_APP,
        instances: 2,
        services: [],
        migrateCommand: "sleep 2 && pnpm run --if-present migrate",
      },
    });
    serving = makeRelease(stack.config);
    await deployOk(stack, serving);
  });

  afterAll(async () => {
    await pool.destroy();
  });

  it.each(CUTS)("during $phase leaves the previous release serving and audits no success", async (cut) => {
    const release = makeRelease(stack.config, cut.healthy ?? true);
    await cutDeploy(stack, host, release, cut);

    // The agent runs on after the cut until it notices; wait for its audit line.
    let result = "";
    await eventually(
      `the audit line of ${release.id}`,
      async () => {
        const entry = (await auditEntries(host, stack.config)).find((e) => e.release === release.id);
        result = entry?.result ?? "";
        return entry !== undefined;
      },
      600,
    );
    // Cut mid-upload, the agent may see the truncated archive before the closed channel.
    expect(cut.marker === undefined ? ["interrupted", "badArtifact"] : ["interrupted"]).toContain(result);

    expect(await currentRelease(host, stack.config)).toBe(serving.id);
    expect(await servedBuilds(host, stack.config)).toEqual([serving.id]);
    const layout = hostLayout(stack.config);
    const left = await asRoot(host, `ls -A ${layout.releases}`);
    expect(left.split("\n").filter((name) => name.includes(release.id))).toEqual([]);
    // Nor a process of it: the release started beside the serving one stopped with the undo.
    // ([x]yz: the pattern does not match the command line of the shell that runs pgrep.)
    const pattern = `[${release.id.slice(0, 1)}]${release.id.slice(1)}`;
    expect(await asRoot(host, `pgrep -af -- '${pattern}' || true`)).toBe("");
  });

  it("still deploys afterwards", async () => {
    const next = makeRelease(stack.config);
    await deployOk(stack, next);
    expect(await currentRelease(host, stack.config)).toBe(next.id);
  });
});
