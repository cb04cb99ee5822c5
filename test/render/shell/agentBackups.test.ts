// The release agent's backup functions (agent/backups.sh) in the harness of agentHarness.ts: the dump and restore
// commands are stand-ins that print or record the app's DATABASE_URL, so no database is needed here (the host
// test runs the real pg_dump and pg_restore).
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import type { PipelineConfig } from "../../../src/config/types";
import { AGENT_EXIT, BACKUP_ID_PATTERN } from "../../../src/render/agentProtocol";
import { AgentSandbox, type SandboxOptions } from "./agentHarness";
import { production, staging } from "./fixtures";

const RELEASE = "20261122140501-1a2b3c4";
/** The release a deploy builds (its directory: the sandbox's WORK_DIR). */
const NEW = "20261122150501-5d6e7f8";
const DUMP_COMMAND = 'printf "dump of %s" "$DATABASE_URL"';
const RESTORE_COMMAND = 'cat > "$HOME/restored"';

const sandboxes: AgentSandbox[] = [];
afterEach(() => {
  for (const sandbox of sandboxes.splice(0)) sandbox.dispose();
});

function withBackup(config: PipelineConfig, backup: Partial<PipelineConfig["backup"]>): PipelineConfig {
  return {
    ...config,
    backup: { ...config.backup, dumpCommand: DUMP_COMMAND, restoreCommand: RESTORE_COMMAND, ...backup },
  };
}

/** A sandbox with a current release and DATABASE_URL in the app's env file. */
function sandbox(
  backup: Partial<PipelineConfig["backup"]> = {},
  config = staging,
  options: SandboxOptions = {},
): AgentSandbox {
  const box = new AgentSandbox(withBackup(config, backup), options);
  sandboxes.push(box);
  const setup = box.run(
    [
      `mkdir -p "$RELEASES_DIR/${RELEASE}"`,
      `ln -s "$RELEASES_DIR/${RELEASE}" "$CURRENT_LINK"`,
      "printf 'DATABASE_URL=postgres://app@db/app\\n' > \"$ENV_FILE\"",
      "export WORK_DIR", // the restore stand-in writes there
    ].join("\n"),
  );
  expect(setup.status, setup.stderr).toBe(0);
  return box;
}

const backupIds = (box: AgentSandbox) =>
  existsSync(box.path("BACKUPS_DIR"))
    ? readdirSync(box.path("BACKUPS_DIR")).filter((name) => name.endsWith(".dump"))
    : [];

describe("verb_backup", () => {
  it("dumps with the current release's environment into <now>-<release>.dump and streams the same bytes", () => {
    const box = sandbox();
    const result = box.run("verb_backup");
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toBe("dump of postgres://app@db/app");
    const [file] = backupIds(box);
    const id = (file ?? "").replace(/\.dump$/, "");
    expect(id).toMatch(new RegExp(BACKUP_ID_PATTERN));
    expect(id.endsWith(`-${RELEASE}`)).toBe(true);
    expect(readFileSync(box.path("BACKUPS_DIR", `${id}.dump`), "utf8")).toBe(result.stdout);
  });

  it("keeps the dumps where only the deploy user can read them (directory 0700, files 0600)", () => {
    const box = sandbox();
    box.run("verb_backup");
    expect(statSync(box.path("BACKUPS_DIR")).mode & 0o777).toBe(0o700);
    const [file] = backupIds(box);
    expect(statSync(box.path("BACKUPS_DIR", file ?? "")).mode & 0o777).toBe(0o600);
  });

  it("takes the id it is given when it names the current release, and refuses one that does not", () => {
    const box = sandbox();
    const given = `20261122150000-${RELEASE}`;
    expect(box.run(`BACKUP_ID=${given}; verb_backup`).status).toBe(0);
    expect(backupIds(box)).toEqual([`${given}.dump`]);
    const other = box.run("BACKUP_ID=20261122150001-20261122140502-1a2b3c4; verb_backup");
    expect(other.status).toBe(AGENT_EXIT.usage);
    expect(other.stderr).toContain("does not name the current release");
  });

  it("fails with backupFailed and keeps no file when the dump command fails", () => {
    const box = sandbox({ dumpCommand: 'printf "half a dump"; exit 3' });
    const result = box.run("trap on_exit EXIT\nverb_backup");
    expect(result.status).toBe(AGENT_EXIT.backupFailed);
    expect(result.stdout).toBe("");
    expect(readdirSync(box.path("BACKUPS_DIR"))).toEqual([]);
  });

  it("removes the dump in the making when the call is interrupted", () => {
    const box = sandbox({ dumpCommand: 'printf started; kill -TERM "$PPID_OF_AGENT"; sleep 5 2>/dev/null' });
    const result = box.run("trap_signals\ntrap on_exit EXIT\nexport PPID_OF_AGENT=$$\nverb_backup");
    expect(result.status).toBe(AGENT_EXIT.interrupted);
    expect(readdirSync(box.path("BACKUPS_DIR"))).toEqual([]);
  });

  it("fails with releaseNotFound when no release is current", () => {
    const box = sandbox();
    box.run('rm "$CURRENT_LINK"');
    expect(box.run("verb_backup").status).toBe(AGENT_EXIT.releaseNotFound);
  });

  it("keeps the backup.keep newest backups", () => {
    const box = sandbox({ keep: 2 });
    const old = ["20260101000000", "20260102000000", "20260103000000"].map((t) => `${t}-${RELEASE}`);
    box.run('mkdir -p "$BACKUPS_DIR"');
    for (const id of old) writeFileSync(box.path("BACKUPS_DIR", `${id}.dump`), "old");
    expect(box.run("verb_backup >/dev/null").status).toBe(0);
    const kept = backupIds(box).sort();
    expect(kept).toHaveLength(2);
    expect(kept[0]).toBe(`${old[2]}.dump`);
  });

  describe("retention of the backups taken before a schema change (marked before-migrations)", () => {
    const at = (day: number) => `202601${String(day).padStart(2, "0")}000000-${RELEASE}`;
    function withBackups(box: AgentSandbox, days: readonly number[], marked: readonly number[]): void {
      box.run('mkdir -p "$BACKUPS_DIR"');
      for (const day of days) writeFileSync(box.path("BACKUPS_DIR", `${at(day)}.dump`), "old");
      for (const day of marked)
        writeFileSync(box.path("BACKUPS_DIR", `${at(day)}.before-migrations`), "the migrations of x\n");
    }

    it("keeps a marked backup while backup.keep newer ones without migrations come and go", () => {
      const box = sandbox({ keep: 2 });
      withBackups(box, [1, 2, 3, 4, 5], [1]);
      expect(box.run("verb_backup >/dev/null").status).toBe(0);
      const kept = backupIds(box).sort();
      expect(kept).toHaveLength(3);
      expect(kept.slice(0, 2)).toEqual([`${at(1)}.dump`, `${at(5)}.dump`]);
      expect(existsSync(box.path("BACKUPS_DIR", `${at(1)}.before-migrations`))).toBe(true);
    });

    it("keeps the backup.keep newest marked ones and prunes older marked ones with their marks", () => {
      const box = sandbox({ keep: 2 });
      withBackups(box, [1, 2, 3, 4, 5], [1, 2, 3]);
      expect(box.run("verb_backup >/dev/null").status).toBe(0);
      expect(backupIds(box).sort().slice(0, 3)).toEqual([`${at(2)}.dump`, `${at(3)}.dump`, `${at(5)}.dump`]);
      expect(existsSync(box.path("BACKUPS_DIR", `${at(1)}.before-migrations`))).toBe(false);
    });
  });
});

describe("verb_backups", () => {
  it("lists backup ids newest first with their size, skipping files in the making and other names", () => {
    const box = sandbox();
    const ids = ["20260101000000", "20260102000000"].map((t) => `${t}-${RELEASE}`);
    box.run('mkdir -p "$BACKUPS_DIR"');
    writeFileSync(box.path("BACKUPS_DIR", `${ids[0]}.dump`), "12345");
    writeFileSync(box.path("BACKUPS_DIR", `${ids[1]}.dump`), "123");
    writeFileSync(box.path("BACKUPS_DIR", `.partial-${ids[1]}.42`), "x");
    writeFileSync(box.path("BACKUPS_DIR", "notes.dump"), "x");
    expect(box.run("verb_backups").stdout).toBe(`${ids[1]} 3\n${ids[0]} 5\n`);
  });

  it("marks the ones taken before a schema change", () => {
    const box = sandbox();
    const ids = ["20260101000000", "20260102000000"].map((t) => `${t}-${RELEASE}`);
    box.run('mkdir -p "$BACKUPS_DIR"');
    for (const id of ids) writeFileSync(box.path("BACKUPS_DIR", `${id}.dump`), "12");
    writeFileSync(box.path("BACKUPS_DIR", `${ids[0]}.before-migrations`), "the migrations of x\n");
    expect(box.run("verb_backups").stdout).toBe(`${ids[1]} 2\n${ids[0]} 2 before-migrations\n`);
  });
});

describe("verb_restore", () => {
  const id = `20260101000000-${RELEASE}`;
  function withLocalCopy(): AgentSandbox {
    const box = sandbox();
    box.run('mkdir -p "$BACKUPS_DIR"');
    writeFileSync(box.path("BACKUPS_DIR", `${id}.dump`), "local dump");
    box.run('mkdir -p "${MAINTENANCE_FLAG%/*}"');
    return box;
  }
  const restored = (box: AgentSandbox) => readFileSync(`${box.settings.APP_HOME}/restored`, "utf8");

  it("refuses with restoreRefused while maintenance mode is off and --confirm is not given", () => {
    const box = withLocalCopy();
    const result = box.run(`BACKUP_ID=${id}; verb_restore`);
    expect(result.status).toBe(AGENT_EXIT.restoreRefused);
    expect(existsSync(`${box.settings.APP_HOME}/restored`)).toBe(false);
  });

  it("restores the local copy in maintenance mode", () => {
    const box = withLocalCopy();
    box.run('touch "$MAINTENANCE_FLAG"');
    const result = box.run(`BACKUP_ID=${id}; verb_restore`);
    expect(result.status, result.stderr).toBe(0);
    expect(restored(box)).toBe("local dump");
  });

  it("restores with --confirm while maintenance mode is off", () => {
    const box = withLocalCopy();
    expect(box.run(`BACKUP_ID=${id}; SWITCHES=" --confirm "; verb_restore`).status).toBe(0);
    expect(restored(box)).toBe("local dump");
  });

  it("with --stdin restores the dump that arrives on stdin and keeps no copy of it", () => {
    const box = withLocalCopy();
    const result = box.run(
      `BACKUP_ID=${id}; SWITCHES=" --confirm --stdin "; trap on_exit EXIT; verb_restore`,
      "streamed dump",
    );
    expect(result.status, result.stderr).toBe(0);
    expect(restored(box)).toBe("streamed dump");
    expect(readdirSync(box.path("BACKUPS_DIR"))).toEqual([`${id}.dump`]);
  });

  it("fails with backupNotFound when there is no local copy, or --stdin brings nothing", () => {
    const box = withLocalCopy();
    const missing = `20260101000001-${RELEASE}`;
    expect(box.run(`BACKUP_ID=${missing}; SWITCHES=" --confirm "; verb_restore`).status).toBe(
      AGENT_EXIT.backupNotFound,
    );
    expect(box.run(`BACKUP_ID=${id}; SWITCHES=" --confirm --stdin "; verb_restore`).status).toBe(
      AGENT_EXIT.backupNotFound,
    );
  });

  describe("with --stdin, the cap and the watchdog of the artifact upload", () => {
    const STREAM = `BACKUP_ID=${id}; SWITCHES=" --confirm --stdin "; trap on_exit EXIT`;
    function streamBox(options: SandboxOptions): AgentSandbox {
      const box = sandbox({}, staging, options);
      box.run('mkdir -p "$BACKUPS_DIR"');
      return box;
    }
    /** Nothing restored, nothing kept: the backups directory is as empty as before. */
    function expectNothingRestored(box: AgentSandbox): void {
      expect(existsSync(`${box.settings.APP_HOME}/restored`)).toBe(false);
      expect(readdirSync(box.path("BACKUPS_DIR"))).toEqual([]);
    }

    it("restores a dump of exactly MAX_RESTORE_BYTES", () => {
      const box = streamBox({ maxRestoreBytes: 3000 });
      const result = box.run(`${STREAM}; verb_restore`, Buffer.alloc(3000, "d"));
      expect(result.status, result.stderr).toBe(0);
      expect(restored(box)).toBe("d".repeat(3000));
    });

    it("refuses a dump one byte larger than MAX_RESTORE_BYTES with uploadRefused, naming backup.maxRestoreMegabytes", () => {
      const box = streamBox({ maxRestoreBytes: 3000 });
      const result = box.run(`${STREAM}; verb_restore`, Buffer.alloc(3001, "d"));
      expect(result.status).toBe(AGENT_EXIT.uploadRefused);
      expect(result.stderr).toContain(
        "release-agent: error: the dump is larger than 3000 bytes (backup.maxRestoreMegabytes); refused",
      );
      expectNothingRestored(box);
    });

    it("stops reading an endless stream at MAX_RESTORE_BYTES + 1 (the disk does not fill)", () => {
      const box = streamBox({ maxRestoreBytes: 100_000 });
      const result = box.run(`(${STREAM}; verb_restore) < <(yes 2>/dev/null)`);
      expect(result.status).toBe(AGENT_EXIT.uploadRefused);
      expect(result.stderr).toContain("the dump is larger than 100000 bytes");
      expectNothingRestored(box);
    });

    it("gives up a stream that sends nothing for UPLOAD_IDLE_TIMEOUT_SECONDS, ends the reader and restores nothing", () => {
      const box = streamBox({ uploadIdleTimeoutSeconds: 1 });
      // A client that sends a few bytes, then nothing, and keeps the connection open for longer than the limit.
      const result = box.run(
        [
          `status=0; (${STREAM}; verb_restore) < <(printf 'partial'; exec sleep 5 2>/dev/null) || status=$?`,
          'echo "status $status"',
          box.readerLeftCheck,
        ].join("\n"),
      );
      expect(result.stdout).toBe(`status ${AGENT_EXIT.uploadRefused}\nno reader left\n`);
      expect(result.stderr).toContain(
        "release-agent: error: the upload sent nothing for 1s (deploy.uploadIdleTimeoutSeconds); gave it up",
      );
      expectNothingRestored(box);
    });
  });

  it("fails with restoreFailed when the restore command fails", () => {
    const box = sandbox({ restoreCommand: "exit 1" });
    box.run('mkdir -p "$BACKUPS_DIR"');
    writeFileSync(box.path("BACKUPS_DIR", `${id}.dump`), "local dump");
    expect(box.run(`BACKUP_ID=${id}; SWITCHES=" --confirm "; verb_restore`).status).toBe(
      AGENT_EXIT.restoreFailed,
    );
  });
});

describe("backup_before_migrations", () => {
  it("is off by default outside production-like environments", () => {
    const box = sandbox({}, staging);
    expect(box.run(`PREVIOUS=${RELEASE}; backup_before_migrations "$WORK_DIR" ${NEW}`).status).toBe(0);
    expect(backupIds(box)).toEqual([]);
  });

  it("backs up with the previous release's environment in a production-like environment", () => {
    const box = sandbox({}, production);
    const result = box.run(
      `PREVIOUS=${RELEASE}; backup_before_migrations "$WORK_DIR" ${NEW}; echo "$BACKUP_ID"`,
    );
    expect(result.status, result.stderr).toBe(0);
    expect(backupIds(box)).toEqual([`${result.stdout.trim()}.dump`]);
  });

  it("is skipped with --backup-taken, and when no release is live yet", () => {
    const box = sandbox({}, production);
    expect(
      box.run(`PREVIOUS=${RELEASE}; SWITCHES=" --backup-taken "; backup_before_migrations "$WORK_DIR" ${NEW}`)
        .status,
    ).toBe(0);
    expect(box.run(`PREVIOUS=""; backup_before_migrations "$WORK_DIR" ${NEW}`).status).toBe(0);
    expect(backupIds(box)).toEqual([]);
  });

  it("stops the deploy with backupFailed when the dump fails", () => {
    const box = sandbox({ dumpCommand: "exit 1" }, production);
    expect(box.run(`PREVIOUS=${RELEASE}; backup_before_migrations "$WORK_DIR" ${NEW}`).status).toBe(
      AGENT_EXIT.backupFailed,
    );
  });
});
