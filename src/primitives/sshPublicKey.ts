// OpenSSH public keys (`<type> <base64> [comment]`): host keys in config, the CI deploy key's authorized_keys
// line, known_hosts lines. One parser, one list of accepted types, one base64 rule.

const SSH_KEY_TYPES = [
  "ssh-ed25519",
  "ecdsa-sha2-nistp256",
  "ecdsa-sha2-nistp384",
  "ecdsa-sha2-nistp521",
  "ssh-rsa",
] as const;
export type SshKeyType = (typeof SSH_KEY_TYPES)[number];

/**
 * The types accepted as a host's pinned key. pulumi-command pins the host key algorithm to the key's own type
 * (remote/connection.go: `HostKeyAlgorithms = []string{publicKey.Type()}`), and for `ssh-rsa` that is the SHA-1
 * signature algorithm, which OpenSSH 8.8 and later no longer offer: a pinned RSA key makes every connection fail.
 */
export const HOST_KEY_TYPES: readonly SshKeyType[] = SSH_KEY_TYPES.filter((type) => type !== "ssh-rsa");

/** Base64 as OpenSSH writes a key body: padded, at most two `=`. */
const KEY_BODY = /^[A-Za-z0-9+/]+={0,2}$/;

export interface SshPublicKey {
  type: SshKeyType;
  /** The base64 key body. */
  blob: string;
}

/**
 * The key, or what is wrong with it ("is not '<type> <base64>'", ...), phrased to follow a key's name.
 * `accepted` narrows the types (HOST_KEY_TYPES for a host key); every type of SSH_KEY_TYPES by default.
 */
export function parseSshPublicKey(
  value: string,
  accepted: readonly SshKeyType[] = SSH_KEY_TYPES,
): SshPublicKey | { problem: string } {
  const [type, blob] = value.trim().split(/\s+/);
  if (!type || !blob) return { problem: "is not '<type> <base64>'" };
  if (!isKeyType(type) || !accepted.includes(type))
    return { problem: `has key type '${type}', not one of ${accepted.join(", ")}` };
  if (!KEY_BODY.test(blob)) return { problem: "has a key body that is not base64" };
  const decoded = Buffer.from(blob, "base64");
  const nameLength = decoded.length >= 4 ? decoded.readUInt32BE(0) : -1;
  const embeddedType = nameLength > 0 ? decoded.subarray(4, 4 + nameLength).toString("latin1") : "";
  if (embeddedType !== type) return { problem: `has a key body that is not a ${type} key` };
  return { type, blob };
}

function isKeyType(type: string): type is SshKeyType {
  return (SSH_KEY_TYPES as readonly string[]).includes(type);
}
