// The OpenPGP public keys of the Node.js releasers, which sign SHASUMS256.txt of every release: the keyring gpgv
// checks that file against on the hosts (nodeSource "nodejs"), so the checksums do not come from the same origin
// as the tarballs alone. Where the keys come from and how to update them: node-release-keys/README.md.
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";

/** Where the keys ship: node-release-keys/<fingerprint>.asc. */
export const NODE_RELEASE_KEY_DIR = join(__dirname, "node-release-keys");

/** Fingerprints of the keys in the keyring: the file names of <dir>/<fingerprint>.asc. */
export function nodeReleaseKeyFingerprints(dir: string = NODE_RELEASE_KEY_DIR): string[] {
  return readdirSync(dir)
    .filter((name) => /^[0-9A-F]{40}\.asc$/.test(name))
    .map((name) => name.slice(0, 40))
    .sort();
}

/** The armored key file of one fingerprint. */
export function nodeReleaseKeyArmored(fingerprint: string, dir: string = NODE_RELEASE_KEY_DIR): string {
  return readFileSync(join(dir, `${fingerprint}.asc`), "utf8");
}

/** The binary keyring gpgv reads: every key of `dir`, de-armored, one after another. */
export function nodeReleaseKeyring(dir: string = NODE_RELEASE_KEY_DIR): Buffer {
  return Buffer.concat(nodeReleaseKeyFingerprints(dir).map((fp) => dearmor(nodeReleaseKeyArmored(fp, dir))));
}

/**
 * The packets of an ASCII-armored OpenPGP block (RFC 4880, section 6.2): armor headers up to the first blank
 * line, base64 lines, then `=` and the CRC-24 of the packets, which is checked.
 */
export function dearmor(armored: string): Buffer {
  const lines = armored.replace(/\r/g, "").split("\n");
  const begin = lines.findIndex((line) => /^-----BEGIN PGP [A-Z ]+-----$/.test(line));
  const end = lines.findIndex((line, index) => index > begin && /^-----END PGP [A-Z ]+-----$/.test(line));
  if (begin < 0 || end < 0) throw new Error("not an ASCII-armored OpenPGP block");
  const body = lines.slice(begin + 1, end);
  const blank = body.findIndex((line) => line.trim() === "");
  const data = body.slice(blank + 1).filter((line) => line.trim() !== "");
  const checksumLine = data.at(-1)?.startsWith("=") ? data.pop() : undefined;
  const packets = Buffer.from(data.join(""), "base64");
  if (checksumLine !== undefined) {
    const expected = Buffer.from(checksumLine.slice(1), "base64").readUIntBE(0, 3);
    if (crc24(packets) !== expected) throw new Error("the armor checksum (CRC-24) does not match");
  }
  return packets;
}

function crc24(data: Buffer): number {
  let crc = 0xb704ce;
  for (const byte of data) {
    crc ^= byte << 16;
    for (let bit = 0; bit < 8; bit++) {
      crc <<= 1;
      if (crc & 0x1000000) crc ^= 0x1864cfb;
    }
  }
  return crc & 0xffffff;
}
