// ssh2 client for disposable hosts, with strict host key verification against the handle.
import { createHash } from "node:crypto";
import { chmodSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { Readable } from "node:stream";
import { Client, type ClientChannel, type ConnectConfig } from "ssh2";
import type { HostHandle } from "./handle";

type Reachable = Pick<HostHandle, "address" | "port" | "hostKey">;
type WithRootKey = Reachable & Pick<HostHandle, "rootPrivateKey">;

export interface ConnectOptions {
  /** Default root. */
  user?: string;
  /** Default: the handle's root key, unless a password is given. */
  privateKey?: string;
  password?: string;
}

export interface ExecOptions {
  stdin?: string | Buffer | Readable;
  /** With a pty, stderr arrives merged into stdout. */
  pty?: boolean;
  timeoutMs?: number;
}

export interface ExecBufferResult {
  /** null when the command was ended by a signal. */
  code: number | null;
  signal: string | null;
  stdout: Buffer;
  stderr: Buffer;
}

export interface ExecResult {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

const OPEN_ADMINISTRATIVELY_PROHIBITED = 1;

export class HostKeyMismatchError extends Error {
  constructor(address: string, expected: string, presented: Buffer) {
    super(
      `SSH host key of ${address} does not match the expected one: expected ${fingerprint(keyBlob(expected))}, ` +
        `server presented ${fingerprint(presented)}. Refusing to connect.`,
    );
  }
}

/** The base64 blob of an `ssh-ed25519 AAAA...` line. */
function keyBlob(publicKeyLine: string): Buffer {
  const blob = publicKeyLine.trim().split(/\s+/)[1];
  if (!blob) throw new Error(`not an OpenSSH public key line: "${publicKeyLine}"`);
  return Buffer.from(blob, "base64");
}

/** OpenSSH-style `SHA256:...` fingerprint. */
function fingerprint(blob: Buffer): string {
  return `SHA256:${createHash("sha256").update(blob).digest("base64").replace(/=+$/, "")}`;
}

function channelError(error: Error): { reason?: unknown } {
  return error as Error & { reason?: unknown };
}

export class HostSession {
  constructor(readonly client: Client) {}

  /** Runs a command and collects its output as Buffers. Never rejects for a non-zero exit; check `code`. */
  execBuffer(command: string, options: ExecOptions = {}): Promise<ExecBufferResult> {
    return new Promise((resolve, reject) => {
      this.client.exec(command, { pty: options.pty ?? false }, (error, channel) => {
        if (error) {
          reject(error);
          return;
        }
        collect(channel, options, command).then(resolve, reject);
      });
    });
  }

  async exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    const result = await this.execBuffer(command, options);
    return { ...result, stdout: result.stdout.toString("utf8"), stderr: result.stderr.toString("utf8") };
  }

  /**
   * Whether the server lets this login open a direct-tcpip channel (local port forwarding). A target that merely
   * refuses the connection still counts as allowed; only "administratively prohibited" counts as not allowed.
   */
  tryForwardOut(host: string, port: number): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.client.forwardOut("127.0.0.1", 0, host, port, (error, channel) => {
        if (!error) {
          channel.close();
          resolve(true);
          return;
        }
        const reason = channelError(error).reason;
        if (typeof reason === "number") resolve(reason !== OPEN_ADMINISTRATIVELY_PROHIBITED);
        else reject(error);
      });
    });
  }

  /** Whether an interactive shell with a pseudo-terminal is granted (a `no-pty` key line refuses the pty). */
  tryShell(): Promise<boolean> {
    return new Promise((resolve) => {
      this.client.shell({ term: "xterm", rows: 24, cols: 80 }, (error, channel) => {
        if (error) {
          resolve(false);
          return;
        }
        channel.close();
        resolve(true);
      });
    });
  }

  end(): void {
    this.client.end();
  }
}

function feedStdin(channel: ClientChannel, stdin: ExecOptions["stdin"]): void {
  if (stdin === undefined) channel.end();
  else if (typeof stdin === "string" || Buffer.isBuffer(stdin)) channel.end(stdin);
  else stdin.pipe(channel);
}

function collect(channel: ClientChannel, options: ExecOptions, command: string): Promise<ExecBufferResult> {
  return new Promise((resolve, reject) => {
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let code: number | null = null;
    let signal: string | null = null;
    const timer =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            channel.close();
            reject(new Error(`command timed out after ${options.timeoutMs} ms: ${command}`));
          }, options.timeoutMs);
    channel.on("data", (chunk: Buffer) => stdout.push(chunk));
    channel.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
    channel.on("exit", (exitCode: number | null, exitSignal?: string) => {
      code = exitCode;
      signal = exitSignal ?? null;
    });
    channel.on("close", () => {
      if (timer) clearTimeout(timer);
      resolve({ code, signal, stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr) });
    });
    feedStdin(channel, options.stdin);
  });
}

function connectConfig(
  handle: Reachable,
  credentials: ConnectConfig,
  onMismatch: (presented: Buffer) => void,
): ConnectConfig {
  const expected = keyBlob(handle.hostKey);
  return {
    host: handle.address,
    port: handle.port,
    readyTimeout: 30_000,
    algorithms: { serverHostKey: ["ssh-ed25519"] },
    hostVerifier: (presented: Buffer): boolean => {
      if (presented.equals(expected)) return true;
      onMismatch(presented);
      return false;
    },
    ...credentials,
  };
}

function openClient(handle: Reachable, credentials: ConnectConfig): Promise<Client> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    let mismatch: HostKeyMismatchError | undefined;
    client.once("ready", () => resolve(client));
    client.once("error", (error) => {
      client.end();
      reject(mismatch ?? error);
    });
    client.connect(
      connectConfig(handle, credentials, (presented) => {
        mismatch = new HostKeyMismatchError(handle.address, handle.hostKey, presented);
      }),
    );
  });
}

/** Connects as root with the handle's key by default; fails with HostKeyMismatchError on a wrong host key. */
export async function connect(handle: WithRootKey, options: ConnectOptions = {}): Promise<HostSession> {
  const privateKey =
    options.privateKey ?? (options.password === undefined ? handle.rootPrivateKey : undefined);
  const credentials: ConnectConfig = {
    username: options.user ?? "root",
    ...(privateKey === undefined ? {} : { privateKey }),
    ...(options.password === undefined ? {} : { password: options.password }),
  };
  return new HostSession(await openClient(handle, credentials));
}

/** True when the server accepts this password login; false when it refuses it; throws on anything else. */
export async function canLoginWithPassword(
  handle: Reachable,
  user: string,
  password: string,
): Promise<boolean> {
  try {
    const client = await openClient(handle, { username: user, password, authHandler: ["password"] });
    client.end();
    return true;
  } catch (error) {
    if ((error as { level?: string }).level === "client-authentication") return false;
    throw error;
  }
}

/** Arguments for OpenSSH `ssh` with strict host key checking; append the remote command. */
export function sshCommandLineArgs(
  handle: Pick<HostHandle, "address" | "port">,
  keyFile: string,
  knownHostsFile: string,
  user = "root",
): string[] {
  return [
    "-i",
    keyFile,
    "-o",
    "IdentitiesOnly=yes",
    "-o",
    "StrictHostKeyChecking=yes",
    "-o",
    `UserKnownHostsFile=${knownHostsFile}`,
    "-o",
    "GlobalKnownHostsFile=/dev/null",
    "-o",
    "BatchMode=yes",
    "-o",
    "ConnectTimeout=15",
    "-p",
    String(handle.port),
    `${user}@${handle.address}`,
  ];
}

/** Writes the root key (0600) and a known_hosts file for the real `ssh` client into `directory`. */
export function writeSshClientFiles(
  handle: Pick<HostHandle, "rootPrivateKey" | "knownHostsLine" | "name">,
  directory: string,
): { keyFile: string; knownHostsFile: string } {
  const keyFile = path.join(directory, `${handle.name}.key`);
  const knownHostsFile = path.join(directory, `${handle.name}.known_hosts`);
  writeFileSync(
    keyFile,
    handle.rootPrivateKey.endsWith("\n") ? handle.rootPrivateKey : `${handle.rootPrivateKey}\n`,
    { mode: 0o600 },
  );
  chmodSync(keyFile, 0o600);
  writeFileSync(knownHostsFile, `${handle.knownHostsLine}\n`);
  return { keyFile, knownHostsFile };
}
