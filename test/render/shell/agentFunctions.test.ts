// The release agent's bash functions, one by one: the rendered agent is sourced in a real bash (main does not run)
// with its layout relocated into a temporary directory, as an ordinary user (see agentHarness.ts). No root, SSH,
// pm2 or network: pm2, curl and pnpm are PATH shims that only record their arguments.
import { existsSync, lstatSync, readFileSync, readdirSync, readlinkSync, statSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { afterEach, describe, expect, it } from "vitest";
import type { PipelineConfig } from "../../../src/config/types";
import { AGENT_EXIT, DEPLOY_PHASES, PHASE_LINE_SED } from "../../../src/render/agentProtocol";
import { spawnSync } from "node:child_process";
import { renderEcosystem } from "../../../src/render/shell/pm2Ecosystem";
import { AgentSandbox, type SandboxOptions, UNPRIVILEGED_ID, shellQuote, tarGz } from "./agentHarness";
import { production, staging } from "./fixtures";

/** Release ids that sort by their number n (0-9). */
const id = (n: number) => `2026112214050${n}-1a2b3c4`;

const sandboxes: AgentSandbox[] = [];
const inPlace: PipelineConfig = { ...staging, deploy: { ...staging.deploy, strategy: "reload" } };
afterEach(() => {
  for (const sandbox of sandboxes.splice(0)) sandbox.dispose();
});

function sandbox(config: PipelineConfig = staging, options: SandboxOptions = {}): AgentSandbox {
  const created = new AgentSandbox(config, options);
  sandboxes.push(created);
  return created;
}

function lines(...values: string[]): string {
  return values.map((value) => `${value}\n`).join("");
}

describe("the harness", () => {
  it("sources the agent without running main, as a non-root user, with the layout in the sandbox", () => {
    const box = sandbox();
    const result = box.run(
      'id -u; printf "%s\\n" "$RELEASES_DIR" "$KEEP_RELEASES"; declare -F main receive_upload unpack_artifact >/dev/null',
    );
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    const [uid, releases, keep] = result.stdout.split("\n");
    expect(uid).not.toBe("0");
    if (process.getuid?.() === 0) expect(uid).toBe(String(UNPRIVILEGED_ID));
    expect(releases).toBe(join(box.root, "home/deploy/apps/storefront/releases"));
    expect(keep).toBe(String(staging.deploy.keepReleases));
  });
});

describe("receive_upload and unpack_artifact", () => {
  // Stubs: none are called (pm2, curl and pnpm are recording shims; the tests check that nothing was recorded).
  // `pack` builds the artifact with the real tar, as the deploy user, from a tree made in $WORK_DIR/src;
  // `archive` is a gzip'd tar crafted byte by byte and sent on stdin.
  const STAGING = id(9);

  function receive(box: AgentSandbox, artifact: { pack?: string; archive?: Buffer }) {
    const staging = box.path("RELEASES_DIR", `.incoming-${STAGING}`);
    const pack =
      artifact.pack === undefined
        ? ""
        : [
            'mkdir -p "$WORK_DIR/src/dist" && cd "$WORK_DIR/src"',
            artifact.pack,
            'cd "$SANDBOX_DIR" && tar -czf "$WORK_DIR/artifact.tgz" -C "$WORK_DIR/src" .',
            'exec <"$WORK_DIR/artifact.tgz"',
          ].join("\n");
    const result = box.run(
      [
        `STAGING=${shellQuote(staging)}`,
        'mkdir -p "$STAGING/release"',
        pack,
        'receive_upload "$STAGING"',
        'unpack_artifact "$STAGING"',
      ].join("\n"),
      artifact.archive,
    );
    return { result, staging, release: join(staging, "release") };
  }

  it("unpacks a tar.gz that has the start script, with modes masked by the agent's umask", () => {
    const box = sandbox();
    const { result, staging, release } = receive(box, {
      pack: [
        "echo 'require(\"./app\")' >dist/server.js",
        "echo '{}' >package.json && chmod 666 package.json",
        "mkdir -p dist/public/css && echo 'body{}' >dist/public/css/site.css",
      ].join("\n"),
    });
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(readFileSync(join(release, "dist/server.js"), "utf8")).toBe('require("./app")\n');
    expect(readFileSync(join(release, "dist/public/css/site.css"), "utf8")).toBe("body{}\n");
    expect(statSync(join(release, "package.json")).mode & 0o777).toBe(0o640);
    expect(readdirSync(staging)).toEqual(["release"]); // artifact.tgz removed
    expect(box.stubCalls()).toEqual([]);
  });

  const LINKS_OR_SPECIAL = "the artifact contains links or special files";
  const refusals: ReadonlyArray<{ label: string; message: string; pack?: string; archive?: Buffer }> = [
    {
      label: "a symlink",
      pack: "echo x >dist/server.js && ln -s /etc/passwd dist/passwd",
      message: LINKS_OR_SPECIAL,
    },
    {
      label: "a relative symlink inside the tree",
      pack: "echo x >dist/server.js && ln -s server.js dist/main.js",
      message: LINKS_OR_SPECIAL,
    },
    {
      label: "a hard link",
      pack: "echo x >dist/server.js && ln dist/server.js dist/copy.js",
      message: LINKS_OR_SPECIAL,
    },
    {
      label: "a FIFO (mkfifo, packed by tar)",
      pack: "echo x >dist/server.js && mkfifo dist/pipe",
      message: LINKS_OR_SPECIAL,
    },
    {
      label: "a character device (crafted header, 1:3)",
      archive: tarGz([
        { name: "dist/", type: "dir" },
        { name: "dist/server.js", type: "file", content: "x\n" },
        { name: "dist/null", type: "char", device: [1, 3] },
      ]),
      message: LINKS_OR_SPECIAL,
    },
    {
      label: "a block device (crafted header, 7:0)",
      archive: tarGz([
        { name: "dist/server.js", type: "file", content: "x\n" },
        { name: "loop0", type: "block", device: [7, 0] },
      ]),
      message: LINKS_OR_SPECIAL,
    },
    {
      label: "an absolute path",
      archive: tarGz([
        { name: "dist/server.js", type: "file", content: "x\n" },
        { name: "/tmp/agent-functions-escape.js", type: "file", content: "x\n" },
      ]),
      message: "the artifact contains an unsafe path: /tmp/agent-functions-escape.js",
    },
    {
      label: "a leading '..'",
      archive: tarGz([
        { name: "dist/server.js", type: "file", content: "x\n" },
        { name: "../escape.js", type: "file", content: "x\n" },
      ]),
      message: "the artifact contains an unsafe path: ../escape.js",
    },
    {
      label: "a '..' inside the path",
      archive: tarGz([
        { name: "dist/server.js", type: "file", content: "x\n" },
        { name: "dist/../../escape.js", type: "file", content: "x\n" },
      ]),
      message: "the artifact contains an unsafe path: dist/../../escape.js",
    },
    {
      label: "a '..' as the last component",
      archive: tarGz([
        { name: "dist/server.js", type: "file", content: "x\n" },
        { name: "dist/..", type: "dir" },
      ]),
      message: "the artifact contains an unsafe path: dist/..",
    },
    {
      label: "not a gzip (text)",
      archive: Buffer.from("#!/bin/sh\nid\n"),
      message: "the artifact is not a gzip'd tar",
    },
    {
      label: "an uncompressed tar",
      archive: gunzipSync(tarGz([{ name: "dist/server.js", type: "file", content: "x\n" }])),
      message: "the artifact is not a gzip'd tar",
    },
  ];

  it.each(refusals)("refuses $label before extracting anything", ({ pack, archive, message }) => {
    const box = sandbox();
    const { result, staging, release } = receive(box, { pack, archive });
    expect(result.status, result.stderr).not.toBe(0);
    expect(result.stderr).toContain(`release-agent: ${message}`);
    expect(readdirSync(release)).toEqual([]);
    expect(existsSync(join(staging, "escape.js"))).toBe(false);
    expect(existsSync("/tmp/agent-functions-escape.js")).toBe(false);
    expect(box.stubCalls()).toEqual([]);
  });

  it("refuses an artifact without the start script (after unpacking it)", () => {
    const box = sandbox();
    const { result } = receive(box, { pack: "echo '{}' >package.json && echo x >dist/index.js" });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain("release-agent: the artifact has no dist/server.js (app.startScript)");
  });

  function unpackThenRemove(box: AgentSandbox, directoryMode: number) {
    const staging = box.path("RELEASES_DIR", `.incoming-${STAGING}`);
    const archive = tarGz([
      { name: "dist/", type: "dir", mode: directoryMode },
      { name: "dist/server.js", type: "file", content: "x\n" },
      { name: "assets/", type: "dir", mode: directoryMode },
      { name: "assets/site.css", type: "file", content: "body{}\n" },
    ]);
    const result = box.run(
      [
        `STAGING=${shellQuote(staging)}`,
        'mkdir -p "$STAGING/release"',
        'status=0; { receive_upload "$STAGING" && unpack_artifact "$STAGING"; } || status=$?',
        'echo "receive_artifact: $status"',
        'rm -rf "$STAGING"',
      ].join("\n"),
      archive,
    );
    return { result, staging };
  }

  it("leaves a staging directory the deploy user can remove (control for the read-only case below)", () => {
    const { result, staging } = unpackThenRemove(sandbox(), 0o755);
    expect(result.stdout).toBe("receive_artifact: 0\n");
    expect(result.status, result.stderr).toBe(0);
    expect(existsSync(staging)).toBe(false);
  });

  // An artifact whose directories are read-only (0555, files inside) used to unpack as 0550 directories that the
  // deploy user could not remove: every later deploy then failed on the leftover. Modes are normalised now.
  it("leaves a staging directory the deploy user can remove when the artifact has read-only directories", () => {
    const { result, staging } = unpackThenRemove(sandbox(), 0o555);
    expect(result.stdout).toBe("receive_artifact: 0\n");
    expect(result.status, result.stderr).toBe(0);
    expect(existsSync(staging)).toBe(false);
  });

  it("gives the owner write access and nobody else any (modes from the archive are not trusted)", () => {
    const box = sandbox();
    const staging = box.path("RELEASES_DIR", `.incoming-${STAGING}`);
    const archive = tarGz([
      { name: "dist/", type: "dir", mode: 0o555 },
      { name: "dist/server.js", type: "file", content: "x\n", mode: 0o777 },
    ]);
    const result = box.run(
      [
        `STAGING=${shellQuote(staging)}`,
        'mkdir -p "$STAGING/release"',
        'receive_upload "$STAGING"',
        'unpack_artifact "$STAGING"',
        'stat -c "%a %n" "$STAGING/release/dist" "$STAGING/release/dist/server.js" | sed "s|$STAGING/||"',
      ].join("\n"),
      archive,
    );
    expect(result.stderr).toBe("");
    expect(result.stdout).toBe("750 release/dist\n750 release/dist/server.js\n");
  });
});

describe("receive_upload (before the lock) and clean_leftovers", () => {
  const UPLOAD = 'STAGING="$RELEASES_DIR/.incoming-20261122140509-1a2b3c4.$$" && mkdir -p "$STAGING/release"';
  const REPORT = 'echo "status $status size $(stat -c %s "$STAGING/artifact.tgz")"';

  it("receives an upload of up to MAX_ARTIFACT_BYTES into <staging>/artifact.tgz", () => {
    const box = sandbox(staging, { maxArtifactBytes: 3000 });
    const upload = Buffer.alloc(3000, "a");
    const result = box.run(
      [
        UPLOAD,
        'status=0; receive_upload "$STAGING" || status=$?',
        REPORT,
        'echo "upload pid: ${UPLOAD_PID:-none}"',
      ].join("\n"),
      upload,
    );
    expect(result.stderr).toBe("");
    expect(result.stdout).toBe("status 0 size 3000\nupload pid: none\n");
  });

  it("refuses an upload of one byte more than MAX_ARTIFACT_BYTES with the uploadRefused exit", () => {
    const box = sandbox(staging, { maxArtifactBytes: 3000 });
    const result = box.run(
      [UPLOAD, 'status=0; (receive_upload "$STAGING") || status=$?', REPORT].join("\n"),
      Buffer.alloc(3001, "a"),
    );
    expect(result.stdout).toBe(`status ${AGENT_EXIT.uploadRefused} size 3001\n`);
    expect(result.stderr).toContain(
      "release-agent: error: the artifact is larger than 3000 bytes (deploy.maxArtifactMegabytes); refused",
    );
  });

  it("stops reading an endless upload at MAX_ARTIFACT_BYTES + 1 (the disk does not fill)", () => {
    const box = sandbox(staging, { maxArtifactBytes: 100_000 });
    const result = box.run(
      [UPLOAD, 'status=0; (receive_upload "$STAGING") < <(yes 2>/dev/null) || status=$?', REPORT].join("\n"),
    );
    expect(result.stdout).toBe(`status ${AGENT_EXIT.uploadRefused} size 100001\n`);
    expect(result.stderr).toContain("is larger than 100000 bytes");
  });

  it("gives up an upload that sends nothing for UPLOAD_IDLE_TIMEOUT_SECONDS and ends the reader", () => {
    const box = sandbox(staging, { uploadIdleTimeoutSeconds: 1 });
    const result = box.run(
      [
        UPLOAD,
        "start=${EPOCHREALTIME/./}",
        // A client that sends a few bytes, then nothing, and keeps the connection open.
        `status=0; (receive_upload "$STAGING"; echo "returned") < <(printf 'partial'; exec sleep 5 2>/dev/null) || status=$?`,
        'echo "waited $(( (${EPOCHREALTIME/./} - start) / 100000 )) tenths"',
        REPORT,
        box.readerLeftCheck,
      ].join("\n"),
    );
    const [waited, report, reader] = result.stdout.split("\n");
    // dd writes whole blocks: the 7 bytes may still sit in its buffer when it is stopped.
    expect(report).toMatch(new RegExp(`^status ${AGENT_EXIT.uploadRefused} size (0|7)$`));
    expect(reader).toBe("no reader left");
    expect(Number(/waited (\d+) tenths/.exec(waited ?? "")?.[1])).toBeGreaterThanOrEqual(10);
    expect(result.stderr).toContain(
      "release-agent: error: the upload sent nothing for 1s (deploy.uploadIdleTimeoutSeconds); gave it up",
    );
  });

  it("clean_leftovers spares the uploads of running agents and its own, and removes the rest", () => {
    const box = sandbox();
    const result = box.run(`
      sleep 10 & live=$!
      sleep 0 & dead=$!; wait "$dead"
      STAGING_DIR="$RELEASES_DIR/.incoming-${id(1)}.$$"
      mkdir -p "$STAGING_DIR/release" "$RELEASES_DIR/.incoming-${id(2)}.$live/release" \
        "$RELEASES_DIR/.incoming-${id(3)}.$dead/release" "$RELEASES_DIR/.incoming-${id(4)}/release" "$RELEASES_DIR/${id(5)}"
      clean_leftovers
      kill "$live"
      ls -A "$RELEASES_DIR" | sed -e "s/\\.$$\\$/.<self>/" -e "s/\\.$live\\$/.<live>/"
    `);
    expect(result.stderr).toBe("");
    expect(result.stdout).toBe(`.incoming-${id(1)}.<self>\n.incoming-${id(2)}.<live>\n${id(5)}\n`);
  });
});

describe("remove_tree", () => {
  it("removes a tree with read-only directories that an earlier version left behind", () => {
    const box = sandbox();
    const result = box.run(`
      mkdir -p "$RELEASES_DIR/.incoming-old/release/dist"
      touch "$RELEASES_DIR/.incoming-old/release/dist/server.js"
      chmod 0555 "$RELEASES_DIR/.incoming-old/release/dist" "$RELEASES_DIR/.incoming-old/release"
      remove_tree "$RELEASES_DIR/.incoming-old"
      remove_tree "$RELEASES_DIR/.incoming-missing"
      ls -A "$RELEASES_DIR"
    `);
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(result.stdout).toBe("");
  });
});

describe("list_releases, current_release, release_before", () => {
  it("list_releases prints only release-id directories, sorted, skipping .incoming-*, files and other names", () => {
    const box = sandbox();
    const result = box.run(`
      echo "empty:"; list_releases
      cd "$RELEASES_DIR"
      mkdir ${id(3)} ${id(1)} ${id(2)} .incoming-${id(4)} notes 20261122140501-NOTHEX1 2026112214050-1a2b3c4
      touch ${id(5)}
      echo "listed:"; list_releases
    `);
    expect(result.stderr).toBe("");
    expect(result.stdout).toBe(lines("empty:", "listed:", id(1), id(2), id(3)));
  });

  it("current_release prints the release current points at, or nothing", () => {
    const box = sandbox();
    const result = box.run(`
      printf 'none:[%s]\\n' "$(current_release)"
      mkdir "$RELEASES_DIR/${id(1)}" && ln -s "$RELEASES_DIR/${id(1)}" "$CURRENT_LINK"
      printf 'release:[%s]\\n' "$(current_release)"
      mkdir "$WORK_DIR/elsewhere" && ln -sfn "$WORK_DIR/elsewhere" "$CURRENT_LINK"
      printf 'elsewhere:[%s]\\n' "$(current_release)"
    `);
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(result.stdout).toBe(lines("none:[]", `release:[${id(1)}]`, "elsewhere:[]"));
  });

  it("release_before prints the newest release older than the given id, or nothing", () => {
    const box = sandbox();
    const targets = [5, 3, 1, 4, 9].map(id);
    const result = box.run(`
      mkdir "$RELEASES_DIR/${id(1)}" "$RELEASES_DIR/${id(3)}" "$RELEASES_DIR/${id(5)}" "$RELEASES_DIR/.incoming-${id(4)}"
      for target in ${targets.join(" ")}; do printf '%s:[%s]\\n' "$target" "$(release_before "$target")"; done
    `);
    expect(result.stderr).toBe("");
    expect(result.stdout).toBe(
      lines(
        `${id(5)}:[${id(3)}]`,
        `${id(3)}:[${id(1)}]`,
        `${id(1)}:[]`,
        `${id(4)}:[${id(3)}]`,
        `${id(9)}:[${id(5)}]`,
      ),
    );
  });
});

describe("prune_releases", () => {
  it("keeps the KEEP_RELEASES newest plus the two spared ids and removes the rest", () => {
    const box = sandbox(staging, { keepReleases: 3 });
    const all = [1, 2, 3, 4, 5, 6, 7].map(id);
    const result = box.run(`
      cd "$RELEASES_DIR" && mkdir ${all.join(" ")} .incoming-${id(0)}
      prune_releases ${id(2)} ${id(4)}
    `);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stderr).toBe(
      lines(`release-agent: pruning release ${id(3)}`, `release-agent: pruning release ${id(1)}`),
    );
    expect(readdirSync(box.path("RELEASES_DIR")).sort()).toEqual(
      [`.incoming-${id(0)}`, ...[2, 4, 5, 6, 7].map(id)].sort(),
    );
  });

  it("removes nothing while there are at most KEEP_RELEASES releases (no spared ids)", () => {
    const box = sandbox(production);
    const all = Array.from(
      { length: production.deploy.keepReleases },
      (_, n) => `20261122${String(n).padStart(6, "0")}-abcdef0`,
    );
    const result = box.run(`cd "$RELEASES_DIR" && mkdir ${all.join(" ")}\nprune_releases "" ""`);
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(readdirSync(box.path("RELEASES_DIR")).sort()).toEqual(all);
  });
});

describe("switch_current", () => {
  it("points current at the new release through a rename and leaves no current.tmp", () => {
    const box = sandbox();
    const result = box.run(`
      mkdir "$RELEASES_DIR/${id(1)}" "$RELEASES_DIR/${id(2)}"
      switch_current ${id(1)}
      printf 'first:%s\\n' "$(current_release)"
      ln -s "$RELEASES_DIR/${id(1)}" "$APP_ROOT/current.tmp" # left behind by a deploy killed midway
      switch_current ${id(2)}
    `);
    expect(result.stderr).toBe("");
    expect(result.stdout).toBe(lines(`first:${id(1)}`));
    const current = box.path("CURRENT_LINK");
    expect(lstatSync(current).isSymbolicLink()).toBe(true);
    expect(readlinkSync(current)).toBe(box.path("RELEASES_DIR", id(2)));
    expect(existsSync(box.path("APP_ROOT", "current.tmp"))).toBe(false);
  });

  it("never leaves current missing for a concurrent reader", () => {
    const box = sandbox();
    const result = box.run(`
      mkdir "$RELEASES_DIR/${id(1)}" "$RELEASES_DIR/${id(2)}"
      switch_current ${id(1)}
      (
        reads=0 missing=0
        until [ -e "$WORK_DIR/stop" ]; do
          reads=$((reads + 1))
          [ -L "$CURRENT_LINK" ] || missing=$((missing + 1))
        done
        echo "reads>0: $((reads > 0)) missing: $missing"
      ) &
      reader=$!
      for _ in $(seq 20); do switch_current ${id(2)}; switch_current ${id(1)}; done
      touch "$WORK_DIR/stop"
      wait "$reader"
    `);
    expect(result.stderr).toBe("");
    expect(result.stdout).toBe(lines("reads>0: 1 missing: 0"));
  });
});

describe("undo_unfinished_deploy", () => {
  // Stubs: pm2 is a PATH shim that records its arguments and succeeds.
  it("removes STAGING_DIR and NEW_RELEASE and leaves current alone when nothing was switched", () => {
    const box = sandbox();
    const result = box.run(`
      mkdir -p "$RELEASES_DIR/${id(1)}" "$RELEASES_DIR/${id(2)}/dist" "$RELEASES_DIR/.incoming-${id(3)}/release/dist"
      switch_current ${id(1)}
      STAGING_DIR="$RELEASES_DIR/.incoming-${id(3)}" NEW_RELEASE=${id(2)}
      undo_unfinished_deploy
      printf 'current:%s\\n' "$(current_release)"
    `);
    expect(result.stderr).toBe("");
    expect(result.stdout).toBe(lines(`current:${id(1)}`));
    expect(readdirSync(box.path("RELEASES_DIR"))).toEqual([id(1)]);
    expect(box.stubCalls()).toEqual([]);
  });

  it("switches current back to SWITCHED_FROM and reloads pm2 from a fresh ecosystem file (strategy reload)", () => {
    const box = sandbox(inPlace);
    const result = box.run(`
      mkdir "$RELEASES_DIR/${id(1)}" "$RELEASES_DIR/${id(2)}"
      switch_current ${id(2)}
      NEW_RELEASE=${id(2)} SWITCHED_FROM=${id(1)}
      undo_unfinished_deploy
      printf 'current:%s switched_from:%s\\n' "$(current_release)" "$SWITCHED_FROM"
    `);
    expect(result.stderr).toBe("");
    expect(result.stdout).toBe(lines(`current:${id(1)} switched_from:none`));
    expect(readdirSync(box.path("RELEASES_DIR"))).toEqual([id(1)]);
    const ecosystem = box.path("ECOSYSTEM_FILE");
    expect(readFileSync(ecosystem, "utf8")).toBe(`${renderEcosystem(staging)}\n`);
    expect(existsSync(`${ecosystem}.tmp`)).toBe(false);
    expect(box.stubCalls()).toEqual([`pm2 startOrReload ${ecosystem} --update-env`]);
  });

  it("removes current and deletes the pm2 app when the failed deploy was the first (SWITCHED_FROM empty, strategy reload)", () => {
    const box = sandbox(inPlace);
    const result = box.run(`
      mkdir "$RELEASES_DIR/${id(1)}"
      switch_current ${id(1)}
      pm2_start_or_reload
      : >"$SANDBOX_DIR/stub-calls.log"
      NEW_RELEASE=${id(1)} SWITCHED_FROM=""
      undo_unfinished_deploy
    `);
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(existsSync(box.path("CURRENT_LINK"))).toBe(false);
    expect(readdirSync(box.path("RELEASES_DIR"))).toEqual([]);
    // By its ecosystem file: `pm2 delete <name>` falls back to the namespace <name>, the side-by-side releases.
    expect(box.stubCalls()).toEqual([`pm2 delete ${box.path("ECOSYSTEM_FILE")}`]);
  });
});

describe("take_lock", () => {
  // Stubs: none; the other holder of the lock is a second bash running flock(1) on LOCK_FILE.
  it("holds LOCK_FILE once it returns", () => {
    const box = sandbox();
    const result = box.run(`
      take_lock
      if flock -n "$LOCK_FILE" true; then echo "lock free"; else echo "lock held"; fi
    `);
    expect(result.stderr).toBe("");
    expect(result.stdout).toBe(lines("lock held"));
  });

  it("fails with the lock-timeout exit code after LOCK_TIMEOUT_SECONDS while another process holds the lock", () => {
    const box = sandbox(staging, { lockTimeoutSeconds: 1 });
    const result = box.run(`
      bash -c 'exec 8>>"$1" && flock 8 && exec sleep 30' holder "$LOCK_FILE" </dev/null >/dev/null 2>&1 &
      holder=$!
      trap 'kill "$holder" 2>/dev/null || true' EXIT
      tries=0
      while flock -n "$LOCK_FILE" true; do
        tries=$((tries + 1)); [ "$tries" -lt 200 ] || exit 99
        sleep 0.02
      done
      status=0
      (take_lock) || status=$?
      exit "$status"
    `);
    expect(result.status, result.stderr).toBe(AGENT_EXIT.lockTimeout);
    expect(result.stderr).toBe(
      lines(
        `release-agent: error: another deploy, rollback or migration holds ${box.path("LOCK_FILE")} (waited 1s); retry when it has finished`,
      ),
    );
  });
});

describe("exit_name and on_exit", () => {
  it("exit_name names every exit code of the contract and nothing else", () => {
    const box = sandbox();
    const known = Object.entries(AGENT_EXIT);
    const unknown = ["1", "2", "63", "82", "127", "255", "064", "abc", ""];
    const codes = [...known.map(([, code]) => String(code)), ...unknown];
    const result = box.run(
      `for code in ${codes.map(shellQuote).join(" ")}; do printf '%s=%s\\n' "$code" "$(exit_name "$code")"; done`,
    );
    expect(result.stderr).toBe("");
    expect(result.stdout).toBe(
      lines(...known.map(([name, code]) => `${code}=${name}`), ...unknown.map((code) => `${code}=`)),
    );
  });

  // Stubs: none are called (nothing was switched, so undo_unfinished_deploy only removes the staging directory).
  const endings = [
    {
      label: "a command failing under set -e (1)",
      snippet: "false",
      exit: AGENT_EXIT.internal,
      unexpected: 1,
    },
    { label: "exit 2", snippet: "exit 2", exit: AGENT_EXIT.internal, unexpected: 2 },
    {
      label: "a missing command (127)",
      snippet: "no-such-command",
      exit: AGENT_EXIT.internal,
      unexpected: 127,
    },
    { label: "the unhealthy code", snippet: 'exit "$EXIT_UNHEALTHY"', exit: AGENT_EXIT.unhealthy },
    { label: "success", snippet: "true", exit: AGENT_EXIT.ok },
  ];

  it.each(endings)("on_exit after $label exits $exit, undoes a failed deploy and audits", (ending) => {
    const box = sandbox();
    const staging = box.path("RELEASES_DIR", `.incoming-${id(2)}`);
    const result = box.run(`
      mkdir -p ${shellQuote(staging)}/release
      STAGING_DIR=${shellQuote(staging)} KEY_ID=ci-3 ACTOR=octocat VERB=deploy RELEASE=${id(2)} AUDITED=yes
      trap on_exit EXIT
      ${ending.snippet}
    `);
    expect(result.status, result.stderr).toBe(ending.exit);
    if (ending.unexpected === undefined) expect(result.stderr).not.toContain("unexpected failure");
    else
      expect(result.stderr).toContain(`release-agent: error: unexpected failure (exit ${ending.unexpected})`);
    expect(existsSync(staging)).toBe(ending.exit === AGENT_EXIT.ok);
    const name = Object.entries(AGENT_EXIT).find(([, code]) => code === ending.exit)?.[0];
    expect(readFileSync(box.path("AUDIT_LOG"), "utf8")).toMatch(
      new RegExp(
        `^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ key=ci-3 actor=octocat verb=deploy release=${id(2)} result=${name} exit=${ending.exit}\\n$`,
      ),
    );
    expect(box.stubCalls()).toEqual([]);
  });

  // A signal is a failure (a cancelled workflow: SIGTERM; a dropped SSH connection: SIGHUP, or SIGPIPE at the next
  // write): bash used to run the EXIT trap with $? = 0, audit "result=ok" and leave the unverified release live.
  // Stubs: pm2 (PATH shim).
  it.each(["TERM", "HUP", "INT", "PIPE"])(
    "on SIG%s switches back a deploy after the switch, removes the new release and audits it as interrupted",
    (signal) => {
      const box = sandbox();
      const result = box.run(`
        mkdir "$RELEASES_DIR/${id(1)}" "$RELEASES_DIR/${id(2)}"
        switch_current ${id(2)}
        SWITCHED_FROM=${id(1)} NEW_RELEASE=${id(2)} VERB=deploy RELEASE=${id(2)} AUDITED=yes KEY_ID=ci-3
        trap on_exit EXIT
        trap_signals
        kill -${signal} $$
        sleep 5
        echo "not reached"
      `);
      expect(result.status).toBe(AGENT_EXIT.interrupted);
      expect(result.stdout).toBe("");
      expect(readlinkSync(box.path("CURRENT_LINK"))).toBe(box.path("RELEASES_DIR", id(1)));
      expect(existsSync(box.path("RELEASES_DIR", id(2)))).toBe(false);
      expect(readFileSync(box.path("AUDIT_LOG"), "utf8")).toMatch(
        new RegExp(` verb=deploy release=${id(2)} result=interrupted exit=75 signal=SIG${signal}\\n$`),
      );
    },
  );

  it("finishes the undo when its own output goes to a closed pipe (the client is gone)", () => {
    const box = sandbox();
    const result = box.run(`
      mkdir "$RELEASES_DIR/${id(1)}" "$RELEASES_DIR/${id(2)}"
      switch_current ${id(2)}
      SWITCHED_FROM=${id(1)} NEW_RELEASE=${id(2)} VERB=deploy RELEASE=${id(2)} AUDITED=yes
      trap on_exit EXIT
      trap_signals
      exec 2> >(exit 0)
      sleep 0.2
      log "installing production dependencies"
      log "still here"
    `);
    expect(result.status).toBe(AGENT_EXIT.interrupted);
    expect(readlinkSync(box.path("CURRENT_LINK"))).toBe(box.path("RELEASES_DIR", id(1)));
    expect(readFileSync(box.path("AUDIT_LOG"), "utf8")).toContain(
      "result=interrupted exit=75 signal=SIGPIPE",
    );
  });

  it("keeps a release that passed its health gate when the signal comes after it", () => {
    const box = sandbox();
    const result = box.run(`
      mkdir "$RELEASES_DIR/${id(1)}" "$RELEASES_DIR/${id(2)}"
      switch_current ${id(2)}
      SWITCHED_FROM=none NEW_RELEASE="" VERB=deploy RELEASE=${id(2)} AUDITED=yes
      trap on_exit EXIT
      trap_signals
      kill -TERM $$
      sleep 5
    `);
    expect(result.status).toBe(AGENT_EXIT.interrupted);
    expect(readlinkSync(box.path("CURRENT_LINK"))).toBe(box.path("RELEASES_DIR", id(2)));
    expect(existsSync(box.path("RELEASES_DIR", id(2)))).toBe(true);
  });
});

describe("read_invocation and parse_arguments", () => {
  const show =
    'printf "words=%s count=%s verb=%s release=%s actor=%s key=%s audited=%s ssh=%s\\n" "${WORDS[*]}" "${#WORDS[@]}" "$VERB" "$RELEASE" "$ACTOR" "$KEY_ID" "$AUDITED" "${SSH_ORIGINAL_COMMAND-unset}"';

  it("takes the words of a direct invocation", () => {
    const box = sandbox();
    const result = box.run(`read_invocation deploy ${id(1)} --actor octocat\nparse_arguments\n${show}`);
    expect(result.stderr).toBe("");
    expect(result.stdout).toBe(
      lines(
        `words=deploy ${id(1)} --actor octocat count=4 verb=deploy release=${id(1)} actor=octocat key=local audited=no ssh=unset`,
      ),
    );
  });

  it("splits SSH_ORIGINAL_COMMAND behind the forced command, audits it and unsets it", () => {
    const box = sandbox();
    const result = box.run(
      `SSH_ORIGINAL_COMMAND='rollback --actor dependabot[bot]'\nread_invocation --key ci-3\nparse_arguments\n${show}`,
    );
    expect(result.stderr).toBe("");
    expect(result.stdout).toBe(
      lines(
        "words=rollback --actor dependabot[bot] count=3 verb=rollback release= actor=dependabot[bot] key=ci-3 audited=yes ssh=unset",
      ),
    );
  });

  it("leaves RELEASE empty and ACTOR unset (-) for a verb without arguments", () => {
    const box = sandbox();
    const result = box.run(`read_invocation releases\nparse_arguments\n${show}`);
    expect(result.stdout).toBe(
      lines("words=releases count=1 verb=releases release= actor=- key=local audited=no ssh=unset"),
    );
  });
});

describe("parse_arguments: the argument kinds and switches of the contract", () => {
  const parsed =
    'printf "verb=%s argument=%s release=%s switches=[%s] actor=%s\\n" "$VERB" "$ARGUMENT" "$RELEASE" "$SWITCHES" "$ACTOR"';

  it("takes maintenance's mode as its argument, not as a release", () => {
    const result = sandbox().run(
      `read_invocation maintenance on --actor octocat\nparse_arguments\n${parsed}`,
    );
    expect(result.stderr).toBe("");
    expect(result.stdout).toBe(lines("verb=maintenance argument=on release= switches=[ ] actor=octocat"));
  });

  it("takes --maintenance where the contract lists it", () => {
    const result = sandbox().run(
      `read_invocation deploy ${id(1)} --maintenance --actor octocat\nparse_arguments\n${parsed}\nhas_switch --maintenance && echo on`,
    );
    expect(result.stderr).toBe("");
    expect(result.stdout).toBe(
      lines(`verb=deploy argument=${id(1)} release=${id(1)} switches=[ --maintenance ] actor=octocat`, "on"),
    );
  });

  it.each([
    [["maintenance", "sideways"], AGENT_EXIT.usage, "must match"],
    [["maintenance"], AGENT_EXIT.usage, "wrong number of arguments"],
    [["rollback", "--maintenance"], AGENT_EXIT.usage, "unknown option --maintenance for rollback"],
    [["status", "-"], AGENT_EXIT.usage, "unknown option - for status"],
    [["releases", "--"], AGENT_EXIT.usage, "unknown option -- for releases"],
    [["migrate", "--maintenance", "--maintenance"], AGENT_EXIT.usage, "--maintenance given twice"],
    [["deploy", "on"], AGENT_EXIT.badReleaseId, "must match"],
  ])("refuses %j with exit %i", (words, code, message) => {
    const result = sandbox().run(`read_invocation ${words.join(" ")}\nparse_arguments\necho parsed`);
    expect(result.status).toBe(code);
    expect(result.stderr).toContain(message);
    expect(result.stdout).toBe("");
  });
});

describe("maintenance mode", () => {
  function withFlagDirectory(): AgentSandbox {
    const box = sandbox();
    box.run('mkdir -p "${MAINTENANCE_FLAG%/*}"');
    return box;
  }
  const flagExists = (box: AgentSandbox) => existsSync(box.settings.MAINTENANCE_FLAG ?? "");

  it("verb_maintenance switches the flag file on and off and prints the mode", () => {
    const box = withFlagDirectory();
    expect(box.run("ARGUMENT=status verb_maintenance").stdout).toBe("maintenance: off\n");
    expect(box.run("ARGUMENT=on verb_maintenance").stdout).toBe("maintenance: on\n");
    expect(flagExists(box)).toBe(true);
    expect(box.run("ARGUMENT=on verb_maintenance").stdout).toBe("maintenance: on\n");
    expect(box.run("ARGUMENT=status verb_maintenance").stdout).toBe("maintenance: on\n");
    expect(box.run("ARGUMENT=off verb_maintenance").stdout).toBe("maintenance: off\n");
    expect(flagExists(box)).toBe(false);
  });

  it("fails with the noProxy exit when the proxy's maintenance directory is missing", () => {
    const result = sandbox().run("ARGUMENT=on verb_maintenance");
    expect(result.status).toBe(AGENT_EXIT.noProxy);
    expect(result.stderr).toContain("maintenance mode needs the reverse proxy step");
  });

  it("on_exit switches off what this call switched on, after a failure as after success", () => {
    for (const code of [AGENT_EXIT.ok, AGENT_EXIT.migrationFailed]) {
      const box = withFlagDirectory();
      const result = box.run(
        `trap on_exit EXIT\nmaintenance_during_this_call\n[ -e "$MAINTENANCE_FLAG" ] && echo during\nexit ${code}`,
      );
      expect(result.status).toBe(code);
      expect(result.stdout).toBe("during\n");
      expect(flagExists(box)).toBe(false);
    }
  });

  it("leaves maintenance on when it was on before the call, even after a failure", () => {
    const box = withFlagDirectory();
    box.run("ARGUMENT=on verb_maintenance");
    const result = box.run(
      `trap on_exit EXIT\nmaintenance_during_this_call\nexit ${AGENT_EXIT.migrationFailed}`,
    );
    expect(result.status).toBe(AGENT_EXIT.migrationFailed);
    expect(result.stderr).toContain("maintenance mode was on already: it stays on afterwards");
    expect(flagExists(box)).toBe(true);
  });

  it("switches off on a signal too (a cancelled migrate run)", () => {
    const box = withFlagDirectory();
    const result = box.run(
      "trap on_exit EXIT\ntrap_signals\nmaintenance_during_this_call\nkill -TERM $$\nsleep 5",
    );
    expect(result.status).toBe(AGENT_EXIT.interrupted);
    expect(flagExists(box)).toBe(false);
  });
});

// load_app_env and load_system_environment are one function now: export_env_file <file>, called by main with
// /etc/environment and by run_in_release with ENV_FILE. The system file is a stand-in in the sandbox.
describe("export_env_file", () => {
  const files = [
    { label: "the app's .env (ENV_FILE)", file: '"$ENV_FILE"' },
    { label: "a system environment file (as main reads /etc/environment)", file: '"$WORK_DIR/environment"' },
  ];

  it.each(files)("exports KEY=value lines of $label without evaluating anything", ({ file }) => {
    const box = sandbox();
    const marker = join(box.root, "work", "executed");
    const cases: ReadonlyArray<readonly [line: string, name: string, value: string | undefined]> = [
      ["export T_EXPORTED=yes", "T_EXPORTED", "yes"],
      ["T_PLAIN=plain value", "T_PLAIN", "plain value"],
      ['T_DOUBLE="double quoted"', "T_DOUBLE", "double quoted"],
      ["T_SINGLE='single quoted'", "T_SINGLE", "single quoted"],
      ['T_TWICE=""twice""', "T_TWICE", '"twice"'],
      [`T_UNBALANCED="left'`, "T_UNBALANCED", `"left'`],
      ["T_EQUALS=a=b=c", "T_EQUALS", "a=b=c"],
      ["T_CRLF=windows\r", "T_CRLF", "windows"],
      ['T_CRLF_QUOTED="windows quoted"\r', "T_CRLF_QUOTED", "windows quoted"],
      ["T_COMMAND=$(id)", "T_COMMAND", "$(id)"],
      [`T_TOUCH=$(touch ${marker})`, "T_TOUCH", `$(touch ${marker})`],
      [`T_BACKTICK=\`touch ${marker}\``, "T_BACKTICK", `\`touch ${marker}\``],
      ["T_PARAMETER=${HOME}", "T_PARAMETER", "${HOME}"],
      ["   T_INDENTED=yes", "T_INDENTED", "yes"],
      ["T_EMPTY=", "T_EMPTY", ""],
      ["# T_COMMENTED=no", "T_COMMENTED", undefined],
      ["T_SPACED = no", "T_SPACED", undefined],
      ["T-DASHED=no", "T-DASHED", undefined],
      ["T_LAST=no final newline", "T_LAST", "no final newline"],
    ];
    const content = cases.map(([line]) => line).join("\n");
    const result = box.run(`cat >${file}\nexport_env_file ${file}\nenv -0`, content);
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    const exported = new Map(
      result.stdout
        .split("\0")
        .filter(Boolean)
        .map((entry) => [entry.slice(0, entry.indexOf("=")), entry.slice(entry.indexOf("=") + 1)]),
    );
    expect(Object.fromEntries(cases.map(([, name]) => [name, exported.get(name)]))).toEqual(
      Object.fromEntries(cases.map(([, name, value]) => [name, value])),
    );
    expect(existsSync(marker)).toBe(false);
  });

  it("is no error when the file is missing", () => {
    const box = sandbox();
    const result = box.run('export_env_file "$WORK_DIR/missing"\necho ok');
    expect(result.stderr).toBe("");
    expect(result.stdout).toBe("ok\n");
  });
});

describe("phase_start and phase_done", () => {
  const readPhases = (stderr: string) =>
    spawnSync("sed", ["-n", `s/${PHASE_LINE_SED}/\\1=\\2\\3/p`], { input: stderr, encoding: "utf8" }).stdout;

  it("prints one line with the phase's duration in the shape the runner scripts read", () => {
    const box = sandbox();
    const result = box.run("phase_start install\nPHASE_STARTED=$((PHASE_STARTED - 1500000))\nphase_done");
    expect(result.status).toBe(0);
    expect(result.stderr).toMatch(/^release-agent: phase install 1\.5\ds\n$/);
    expect(readPhases(result.stderr)).toMatch(/^install=1\.5\ds\n$/);
  });

  // A migration that fails used to leave its phase without a time (the table showed -).
  it("on_exit ends the phase a deploy failed in with its time and ' failed'", () => {
    const box = sandbox();
    const result = box.run(`
      trap on_exit EXIT
      phase_start install
      phase_done
      phase_start migrate
      PHASE_STARTED=$((PHASE_STARTED - 2250000))
      fail "$EXIT_MIGRATION_FAILED" "migrations failed"
    `);
    expect(result.status).toBe(AGENT_EXIT.migrationFailed);
    expect(result.stderr).toMatch(
      /^release-agent: phase install \d+\.\d\ds\nrelease-agent: error: migrations failed\nrelease-agent: phase migrate 2\.2\ds failed\n$/,
    );
    expect(readPhases(result.stderr)).toMatch(/^install=\d+\.\d\ds\nmigrate=2\.2\ds failed\n$/);
  });

  it("reports no phase when the call succeeds or no phase is in progress", () => {
    for (const snippet of ["phase_start health\nphase_done\nexit 0", 'fail "$EXIT_USAGE" "bad"']) {
      const result = sandbox().run(`trap on_exit EXIT\n${snippet}`);
      expect(result.stderr).not.toContain("failed");
      expect(result.stderr.match(/phase /g) ?? []).toHaveLength(snippet.includes("phase_start") ? 1 : 0);
    }
  });

  it("phase_start names each phase of the contract (DEPLOY_PHASES), and no other, once per strategy", () => {
    const phasesOf = (file: string) =>
      [
        ...readFileSync(join(__dirname, "../../../src/render/shell/agent", file), "utf8").matchAll(
          /phase_start (\w+)/g,
        ),
      ].map((m) => m[1]);
    // verbs.sh: the deploy up to the go-live, and the in-place go-live; slots.sh: the side-by-side go-live.
    const inPlace = phasesOf("verbs.sh");
    const beside = phasesOf("slots.sh");
    expect(inPlace).toEqual(["install", "migrate", "upload", "switch", "health"]);
    expect(beside).toEqual(["start", "health", "switch"]);
    expect(new Set([...inPlace, ...beside])).toEqual(new Set(DEPLOY_PHASES));
  });
});
