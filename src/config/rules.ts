// Value rules shared by the config schema. Each message reads "<what is wrong> (<how to fix>)".
import { z } from "zod";
import { HOST_KEY_TYPES, parseSshPublicKey } from "../primitives/sshPublicKey";

/** Pulumi stores `pulumi config set k 3` as the string "3"; accept both forms. */
function fromConfigString(kind: "integer" | "boolean") {
  return (value: unknown): unknown => {
    if (typeof value !== "string") return value;
    if (kind === "integer" && /^-?\d+$/.test(value.trim())) return Number(value.trim());
    if (kind === "boolean" && /^(true|false)$/.test(value.trim())) return value.trim() === "true";
    return value;
  };
}

export function integer(min: number, max: number, fix: string) {
  return z.preprocess(
    fromConfigString("integer"),
    z
      .number({ error: `must be an integer from ${min} to ${max} (${fix})` })
      .int({ error: `must be a whole number, not a fraction (${fix})` })
      .min(min, { error: `must be at least ${min} (${fix})` })
      .max(max, { error: `must be at most ${max} (${fix})` }),
  );
}

/** A count of hosts (1 to 1000) or a percentage of them ("25%"); Pulumi's string "3" counts as 3. */
export function hostCountOrPercentage(fix: string) {
  return z.preprocess(
    fromConfigString("integer"),
    z
      .union([z.number(), z.string()], { error: `must be a number or a percentage (${fix})` })
      .superRefine((value, ctx) => {
        const valid =
          typeof value === "number"
            ? Number.isInteger(value) && value >= 1 && value <= 1000
            : /^(100|[1-9][0-9]?)%$/.test(value);
        if (!valid)
          ctx.addIssue({
            code: "custom",
            message: `must be a whole number of hosts from 1 to 1000 or a percentage from 1% to 100% (${fix})`,
          });
      }),
  );
}

export function boolean() {
  return z.preprocess(
    fromConfigString("boolean"),
    z.boolean({ error: "must be true or false (use true or false)" }),
  );
}

export function text(fix: string) {
  return z.string({ error: `must be a string (${fix})` });
}

export function matching(pattern: RegExp, what: string, fix: string) {
  return text(fix).regex(pattern, { error: `${what} (${fix})` });
}

// GitHub: alphanumerics and single hyphens, at most 39 characters, no leading/trailing hyphen.
const githubLogin = "[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}";
export const GITHUB_LOGIN = new RegExp(`^${githubLogin}$`);
export const GITHUB_TEAM = new RegExp(`^${githubLogin}/[a-z0-9][a-z0-9_-]{0,99}$`);
export const REPOSITORY_NAME = /^(?!\.{1,2}$)[A-Za-z0-9._-]{1,100}$/;
export const ENVIRONMENT_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
export const UNIX_USER = /^[a-z_][a-z0-9_-]{0,31}$/;
export const APP_NAME = /^[a-z][a-z0-9-]{0,38}[a-z0-9]$|^[a-z]$/;

/** The rules of `git check-ref-format --branch`, which GitHub enforces for branch names. */
export function branchNameProblem(name: string): string | undefined {
  if (name.length === 0) return "is empty";
  if (name.length > 255) return "is longer than 255 characters";
  if (/[\s~^:?*[\\]/.test(name) || [...name].some(isControlCharacter))
    return "contains a space or one of ~ ^ : ? * [ \\";
  if (name.startsWith("-")) return "starts with '-'";
  if (name.startsWith("/") || name.endsWith("/") || name.includes("//")) return "has an empty path component";
  if (name.includes("..")) return "contains '..'";
  if (name.includes("@{") || name === "@") return "contains '@{' or is '@'";
  if (name.endsWith(".") || name.endsWith(".lock")) return "ends with '.' or '.lock'";
  if (name.split("/").some((part) => part.startsWith("."))) return "has a path component starting with '.'";
  return undefined;
}

function isControlCharacter(character: string): boolean {
  const code = character.charCodeAt(0);
  return code < 0x20 || code === 0x7f;
}

const HOSTNAME_LABEL = /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$/;
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

export function isHostname(value: string): boolean {
  if (IPV4.test(value)) return true;
  if (/^[\d.]+$/.test(value)) return false; // looks numeric but is not a valid IPv4 address
  return value.length <= 253 && value.split(".").every((label) => HOSTNAME_LABEL.test(label));
}

/**
 * A public host key as sshd prints it (`/etc/ssh/ssh_host_ed25519_key.pub`), comment optional, of a type that
 * the command provider can check against a modern sshd (HOST_KEY_TYPES: no `ssh-rsa`).
 */
export function hostKeyProblem(value: string): string | undefined {
  if (value.trim().split(/\s+/)[0] === "ssh-rsa") {
    return "is an ssh-rsa key: pulumi-command would insist on the SHA-1 'ssh-rsa' host key algorithm, which OpenSSH 8.8 and later no longer offer, so every connection would fail";
  }
  const parsed = parseSshPublicKey(value, HOST_KEY_TYPES);
  return "problem" in parsed ? parsed.problem : undefined;
}

/**
 * How to get a host's key without trusting the network: the command provider checks nothing without it, on every
 * run, and ssh-keyscan or a first ssh connection would take whatever answers.
 */
export function hostKeyFix(path: string): string {
  return `read the key where no network sits in between: 'cat /etc/ssh/ssh_host_ed25519_key.pub' on the host's console, or the host keys the cloud provider's console output (cloud-init) prints at first boot; then pulumi config set --path '${path}' '<that line>'. Not ssh-keyscan or a first ssh connection: they trust whatever answers`;
}

/** Environments named with the word production or prod (production, prod, production-eu, eu.prod, ...). */
export function isProductionLike(environment: string): boolean {
  return environment
    .toLowerCase()
    .split(/[-_.]/)
    .some((word) => word === "production" || word === "prod");
}

export function httpsUrlProblem(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return "is not a URL";
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return `has protocol '${url.protocol}'`;
  if (!url.hostname) return "has no host";
  return undefined;
}

/** Downloads the hosts run as root: only https (http can be altered by anyone on the path). */
export function httpsOnlyUrlProblem(value: string): string | undefined {
  const problem = httpsUrlProblem(value);
  if (problem) return problem;
  return new URL(value).protocol === "https:" ? undefined : "is not an https URL";
}

export function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0] ?? 0;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j] ?? 0;
      row[j] = Math.min(above + 1, (row[j - 1] ?? 0) + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length] ?? 0;
}
