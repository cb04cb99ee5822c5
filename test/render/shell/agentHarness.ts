// Runs the rendered release agent as a library: a real bash sources it (the BASH_SOURCE guard keeps main from
// running) and a test snippet calls its functions one by one, in a temporary directory, as an ordinary user.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { gzipSync } from "node:zlib";
import type { PipelineConfig } from "../../../src/config/types";
import { AUDIT_LOCK_WAIT_SECONDS, renderAuditHelper } from "../../../src/render/shell/auditHelper";
import { renderReleaseAgent } from "../../../src/render/shell/releaseAgent";
import { quote } from "../../../src/primitives/shellQuote";

/** The user the harness runs bash as when the tests run as root (CI): nobody. */
export const UNPRIVILEGED_ID = 65534;

const RUNNING_AS_ROOT = process.getuid?.() === 0;

/**
 * Settings whose rendered values are absolute paths (under /home/<deployUser>, /var): relocated into the sandbox.
 * The maintenance flag's directory is made by the reverse-proxy step: the sandbox leaves it out (tests make it).
 */
const PATH_SETTINGS = [
  "APP_HOME",
  "APP_ROOT",
  "RELEASES_DIR",
  "CURRENT_LINK",
  "ENV_FILE",
  "LOGS_DIR",
  "BACKUPS_DIR",
  "AUDIT_LOG",
  "LOCK_FILE",
  "PNPM_STORE",
  "ECOSYSTEM_FILE",
  "MAINTENANCE_FLAG",
  "SLOTS_DIR",
  "SLOT_ECOSYSTEM_FILE",
  "UPSTREAM_DIR",
] as const;

/** Commands that must never run for real: a PATH shim of each records its argv in STUB_LOG and exits 0. */
const STUBBED_COMMANDS = ["pm2", "curl", "pnpm"] as const;
export type StubbedCommand = (typeof STUBBED_COMMANDS)[number];

export interface SandboxOptions {
  keepReleases?: number;
  lockTimeoutSeconds?: number;
  maxArtifactBytes?: number;
  maxRestoreBytes?: number;
  uploadIdleTimeoutSeconds?: number;
  startScript?: string;
  auditLockWaitSeconds?: number;
  /** Commands that run for real instead of their recording shim (e.g. curl against a stand-in server). */
  realCommands?: readonly StubbedCommand[];
}

export interface AgentRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

const ASSIGNMENT = /^readonly ([A-Z_]+)=('[^']*'|[^'\s]*)$/;

function renderedValue(raw: string): string {
  return raw.startsWith("'") ? raw.slice(1, -1) : raw;
}

/**
 * A temporary host layout plus the agent rendered from `config`. The settings are readonly variables with paths
 * under /home/<deployUser>, so the harness declares the overridden ones itself (readonly, pointing into the
 * sandbox) in a prologue and filters exactly those `readonly NAME=...` lines out of the rendered text; every other
 * line is sourced as rendered.
 */
export class AgentSandbox {
  readonly root = mkdtempSync(join(tmpdir(), "agent-functions-"));
  readonly settings: Readonly<Record<string, string>>;
  /** The audit helper's lock file (root-only on a host). */
  readonly auditLock = join(this.root, "audit.lock");
  private readonly agentFile = join(this.root, "release-agent");
  /** Where the shims record their calls (stubCalls reads it): a test's own shim may write there too. */
  readonly stubLog = join(this.root, "stub-calls.log");
  private readonly prologue: string;

  constructor(config: PipelineConfig, options: SandboxOptions = {}) {
    const rendered = renderReleaseAgent(config).split("\n");
    const values = new Map<string, string>();
    for (const line of rendered) {
      const match = ASSIGNMENT.exec(line);
      if (match?.[1] && match[2] !== undefined) values.set(match[1], renderedValue(match[2]));
    }
    const settings: Record<string, string> = {};
    for (const name of PATH_SETTINGS) {
      const value = values.get(name);
      if (!value?.startsWith("/")) throw new Error(`the rendered agent has no absolute path setting ${name}`);
      settings[name] = join(this.root, value);
    }
    const numbers = {
      KEEP_RELEASES: options.keepReleases,
      LOCK_TIMEOUT_SECONDS: options.lockTimeoutSeconds,
      MAX_ARTIFACT_BYTES: options.maxArtifactBytes,
      MAX_RESTORE_BYTES: options.maxRestoreBytes,
      UPLOAD_IDLE_TIMEOUT_SECONDS: options.uploadIdleTimeoutSeconds,
    };
    for (const [name, value] of Object.entries(numbers)) {
      if (value !== undefined) settings[name] = String(value);
    }
    if (options.startScript !== undefined) settings.START_SCRIPT = options.startScript;
    for (const name of Object.keys(settings)) {
      if (!values.has(name)) throw new Error(`the rendered agent has no single-line setting ${name}`);
    }
    const kept = rendered.filter((line) => !Object.hasOwn(settings, ASSIGNMENT.exec(line)?.[1] ?? ""));
    const leftover = kept.find((line) => /^readonly [A-Z_]+='?\/home\//.test(line));
    if (leftover) throw new Error(`a path setting the harness does not relocate: ${leftover}`);
    this.settings = settings;

    // The layout provisioning creates: home, releases/, shared/ (.env, ecosystem file), shared/logs/.
    const file = (name: string) => dirname(settings[name] ?? "");
    for (const dir of [
      settings.APP_HOME,
      settings.RELEASES_DIR,
      settings.LOGS_DIR,
      file("ENV_FILE"),
      file("AUDIT_LOG"),
      file("ECOSYSTEM_FILE"),
    ]) {
      mkdirSync(dir ?? "", { recursive: true });
    }
    mkdirSync(join(this.root, "work"));
    const stubs = join(this.root, "stubs");
    mkdirSync(stubs);
    for (const command of STUBBED_COMMANDS.filter((c) => !options.realCommands?.includes(c))) {
      writeFileSync(
        join(stubs, command),
        `#!/bin/bash\nprintf '%s\\n' "${command} $*" >>${shellQuote(this.stubLog)}\n`,
        { mode: 0o755 },
      );
    }
    // sudo -n <audit helper>: the real rendered helper, unprivileged, writing the relocated AUDIT_LOG.
    // Its lock (root's own directory on a host) sits next to the relocated log.
    const helper = renderAuditHelper(config)
      .replace(/^readonly AUDIT_LOG=.*$/m, `readonly AUDIT_LOG=${shellQuote(settings.AUDIT_LOG ?? "")}`)
      .replace(/^readonly AUDIT_LOCK=.*$/m, `readonly AUDIT_LOCK=${shellQuote(this.auditLock)}`)
      .replace(
        /^readonly LOCK_WAIT_SECONDS=.*$/m,
        `readonly LOCK_WAIT_SECONDS=${options.auditLockWaitSeconds ?? AUDIT_LOCK_WAIT_SECONDS}`,
      );
    writeFileSync(join(stubs, "audit-helper"), helper, { mode: 0o755 });
    // sudo -n <upstream helper> switch|drain <port>: recorded as `upstream-helper <verb> <port>`; switch moves the
    // flag in the relocated UPSTREAM_DIR as the real helper does (test/host/proxyUpstream.host.test.ts proves that).
    const upstream = settings.UPSTREAM_DIR ?? "";
    writeFileSync(
      join(stubs, "upstream-helper"),
      [
        "#!/bin/bash",
        `printf '%s\\n' "upstream-helper $*" >>${shellQuote(this.stubLog)}`,
        `mkdir -p ${shellQuote(upstream)}`,
        `if [ "$1" = switch ] && [ "$2" = ${values.get("SECOND_PORT") ?? ""} ]; then : >${shellQuote(upstream)}/"$2"; fi`,
        `if [ "$1" = switch ] && [ "$2" = ${values.get("FIRST_PORT") ?? ""} ]; then rm -f ${shellQuote(upstream)}/${values.get("SECOND_PORT") ?? ""}; fi`,
        "",
      ].join("\n"),
      { mode: 0o755 },
    );
    writeFileSync(
      join(stubs, "sudo"),
      [
        "#!/bin/bash",
        '[ "$1" = -n ] || exit 1',
        `if [ "$2" = ${shellQuote(values.get("AUDIT_HELPER") ?? "")} ]; then exec ${shellQuote(join(stubs, "audit-helper"))}; fi`,
        `if [ "$2" = ${shellQuote(values.get("UPSTREAM_HELPER") ?? "")} ]; then shift 2; exec ${shellQuote(join(stubs, "upstream-helper"))} "$@"; fi`,
        "exit 1",
        "",
      ].join("\n"),
      { mode: 0o755 },
    );
    writeFileSync(this.agentFile, kept.join("\n"), { mode: 0o644 });
    if (RUNNING_AS_ROOT) {
      const chown = spawnSync("chown", ["-R", `${UNPRIVILEGED_ID}:${UNPRIVILEGED_ID}`, this.root]);
      if (chown.status !== 0) throw new Error(`chown failed: ${String(chown.stderr)}`);
      const reach = spawnSync("setpriv", [...this.dropPrivileges(), "test", "-w", this.root]);
      if (reach.status !== 0)
        throw new Error(`uid ${UNPRIVILEGED_ID} cannot write ${this.root} (check TMPDIR)`);
    }
    this.prologue = [
      ...Object.entries(settings).map(([name, value]) => `readonly ${name}=${shellQuote(value)}`),
      `readonly SANDBOX_DIR=${shellQuote(this.root)} WORK_DIR=${shellQuote(join(this.root, "work"))}`,
      "umask 027 # as main() sets before any verb runs",
      `source ${shellQuote(this.agentFile)}`,
    ].join("\n");
  }

  /**
   * Shell lines that print `no reader left`, or the PIDs of upload readers (dd) still writing into this sandbox.
   * Only this sandbox's: vitest runs test files in parallel as the same user, and another test's reader may be
   * alive at that moment.
   */
  get readerLeftCheck(): string {
    return [
      'left=""',
      `for pid in $(pgrep -x dd); do case "$(readlink "/proc/$pid/fd/1" 2>/dev/null)" in ${quote(this.root)}/*) left="$left $pid" ;; esac; done`,
      `if [ -z "$left" ]; then echo 'no reader left'; else echo "readers left:$left"; fi`,
    ].join("\n");
  }

  /** Runs `snippet` after sourcing the agent (so under its `set -euo pipefail`), as a non-root user. */
  run(snippet: string, input: string | Buffer = ""): AgentRun {
    const bash = ["bash", "--norc", "--noprofile", "-c", `${this.prologue}\n${snippet}\n`];
    const argv = RUNNING_AS_ROOT ? ["setpriv", ...this.dropPrivileges(), ...bash] : bash;
    const result = spawnSync(argv[0] ?? "bash", argv.slice(1), {
      input,
      encoding: "utf8",
      cwd: this.root,
      timeout: 15_000,
      env: {
        PATH: `${join(this.root, "stubs")}:/usr/local/bin:/usr/bin:/bin`,
        HOME: this.settings.APP_HOME,
        LC_ALL: "C",
      },
    });
    if (result.error) throw result.error;
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  }

  private dropPrivileges(): string[] {
    return [`--reuid=${UNPRIVILEGED_ID}`, `--regid=${UNPRIVILEGED_ID}`, "--clear-groups"];
  }

  /** A sandbox path from a setting name plus parts, e.g. `path("RELEASES_DIR", id)`. */
  path(setting: string, ...parts: string[]): string {
    const base = this.settings[setting];
    if (base === undefined) throw new Error(`no relocated setting ${setting}`);
    return join(base, ...parts);
  }

  /** Lines the pm2/curl/pnpm shims recorded, e.g. `pm2 startOrReload <file> --update-env`. */
  stubCalls(): string[] {
    try {
      return readFileSync(this.stubLog, "utf8").split("\n").filter(Boolean);
    } catch {
      return [];
    }
  }

  dispose(): void {
    spawnSync("chmod", ["-R", "u+rwX", this.root]); // read-only directories from archives under test
    rmSync(this.root, { recursive: true, force: true });
  }
}

export interface TarEntry {
  name: string;
  type: "file" | "dir" | "symlink" | "hardlink" | "char" | "block" | "fifo";
  mode?: number;
  content?: string;
  linkname?: string;
  device?: readonly [major: number, minor: number];
}

const TYPE_FLAGS: Record<TarEntry["type"], string> = {
  file: "0",
  hardlink: "1",
  symlink: "2",
  char: "3",
  block: "4",
  dir: "5",
  fifo: "6",
};

/** A gzip'd ustar archive built byte by byte, for entries tar will not create unprivileged (devices, bad names). */
export function tarGz(entries: readonly TarEntry[]): Buffer {
  const blocks: Buffer[] = [];
  for (const entry of entries) {
    const data = Buffer.from(entry.type === "file" ? (entry.content ?? "") : "");
    const header = Buffer.alloc(512);
    const field = (offset: number, length: number, value: string) =>
      header.write(value, offset, length, "utf8");
    const octal = (offset: number, length: number, value: number) =>
      field(offset, length, `${value.toString(8).padStart(length - 1, "0")}\0`);
    if (Buffer.byteLength(entry.name) > 100) throw new Error(`tar entry name too long: ${entry.name}`);
    field(0, 100, entry.name);
    octal(100, 8, entry.mode ?? (entry.type === "dir" ? 0o755 : 0o644));
    octal(108, 8, 0);
    octal(116, 8, 0);
    octal(124, 12, data.length);
    octal(136, 12, 1_700_000_000);
    field(148, 8, " ".repeat(8));
    field(156, 1, TYPE_FLAGS[entry.type]);
    field(157, 100, entry.linkname ?? "");
    field(257, 6, "ustar\0");
    field(263, 2, "00");
    field(265, 32, "root");
    field(297, 32, "root");
    octal(329, 8, entry.device?.[0] ?? 0);
    octal(337, 8, entry.device?.[1] ?? 0);
    let sum = 0;
    for (const byte of header) sum += byte;
    field(148, 8, `${sum.toString(8).padStart(6, "0")}\0 `);
    blocks.push(header, data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(blocks));
}
