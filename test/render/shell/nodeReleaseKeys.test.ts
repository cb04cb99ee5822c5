// The Node.js release keys kept in the repository (none yet: node-release-keys/README.md), the armor decoder, and
// the node step that checks SHASUMS256.txt with them.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { nodeScript } from "../../../src/render/shell/steps/node";
import {
  dearmor,
  nodeReleaseKeyArmored,
  nodeReleaseKeyFingerprints,
  nodeReleaseKeyring,
} from "../../../src/render/shell/steps/nodeReleaseKeys";
import { TEST_REGISTRY, production, staging } from "./fixtures";

/** The packets of a binary OpenPGP stream: [tag, body] (old and new packet formats, RFC 4880 4.2). */
function packets(data: Buffer): Array<[tag: number, body: Buffer]> {
  const out: Array<[number, Buffer]> = [];
  let at = 0;
  while (at < data.length) {
    const header = data[at] ?? 0;
    if ((header & 0x80) === 0) throw new Error(`not a packet header at ${at}`);
    let tag: number;
    let length: number;
    if (header & 0x40) {
      tag = header & 0x3f;
      const first = data[at + 1] ?? 0;
      if (first < 192) [length, at] = [first, at + 2];
      else if (first < 224) [length, at] = [((first - 192) << 8) + (data[at + 2] ?? 0) + 192, at + 3];
      else if (first === 255) [length, at] = [data.readUInt32BE(at + 2), at + 6];
      else throw new Error("partial body lengths do not occur in keys");
    } else {
      tag = (header >> 2) & 0x0f;
      const size = [1, 2, 4][header & 0x03];
      if (size === undefined) throw new Error("indeterminate length");
      length = data.readUIntBE(at + 1, size);
      at += 1 + size;
    }
    out.push([tag, data.subarray(at, at + length)]);
    at += length;
  }
  return out;
}

/** A v4 key's fingerprint: SHA-1 over 0x99, the two-byte length and the public key packet body (RFC 4880 12.2). */
function v4Fingerprint(publicKeyBody: Buffer): string {
  const length = Buffer.alloc(2);
  length.writeUInt16BE(publicKeyBody.length);
  return createHash("sha1")
    .update(Buffer.concat([Buffer.from([0x99]), length, publicKeyBody]))
    .digest("hex")
    .toUpperCase();
}

/** A throwaway key made by gpg in its own home, exported armored: stands in for a releaser's key file. */
function throwawayArmoredKey(): { armored: string; fingerprint: string } {
  const home = mkdtempSync(join(tmpdir(), "gpg-home-"));
  try {
    const gpg = (...args: string[]) =>
      execFileSync("gpg", ["--homedir", home, "--batch", "--quiet", ...args], {
        encoding: "utf8",
        stdio: "pipe",
      });
    gpg(
      "--passphrase",
      "",
      "--quick-generate-key",
      "Test Releaser <releaser@example.test>",
      "ed25519",
      "sign",
      "never",
    );
    const fingerprint = /^fpr:+([0-9A-F]{40}):/m.exec(gpg("--with-colons", "--list-keys"))?.[1] ?? "";
    return { armored: gpg("--armor", "--export", fingerprint), fingerprint };
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

describe("the Node.js release keys in the repository", () => {
  it("hold exactly the primary key each file is named after, and no secret key material", () => {
    for (const fingerprint of nodeReleaseKeyFingerprints()) {
      const all = packets(dearmor(nodeReleaseKeyArmored(fingerprint)));
      const primaries = all.filter(([tag]) => tag === 6);
      expect(primaries, fingerprint).toHaveLength(1);
      const [, body] = primaries[0] ?? [0, Buffer.alloc(0)];
      expect(v4Fingerprint(body), fingerprint).toBe(fingerprint);
      expect(
        all.filter(([tag]) => tag === 5 || tag === 7),
        fingerprint,
      ).toEqual([]);
    }
  });
});

describe("dearmor", () => {
  const key = throwawayArmoredKey();

  it("turns an armored key into the packets whose fingerprint gpg reports", () => {
    const primaries = packets(dearmor(key.armored)).filter(([tag]) => tag === 6);
    expect(primaries.map(([, body]) => v4Fingerprint(body))).toEqual([key.fingerprint]);
  });

  it("refuses a block whose CRC-24 does not match", () => {
    const lines = key.armored.split("\n");
    const index = lines.findIndex((line) => /^[A-Za-z0-9+/]{20,}$/.test(line));
    const line = lines[index] ?? "";
    lines[index] = `${line.slice(0, 10)}${line[10] === "A" ? "B" : "A"}${line.slice(11)}`;
    expect(() => dearmor(lines.join("\n"))).toThrow(/CRC-24/);
  });
});

describe("the node step with nodeSource nodejs", () => {
  const keyring = Buffer.from("a test keyring");
  const script = nodeScript(production, TEST_REGISTRY, keyring);

  it("checks SHASUMS256.txt against its signature with the release keyring before reading a checksum", () => {
    const lines = script.split("\n");
    const at = (text: string) => lines.findIndex((line) => line.includes(text));
    expect(lines).toContain(
      `printf %s ${keyring.toString("base64")} | base64 -d >"$work/node-release-keys.gpg"`,
    );
    expect(lines).toContain(
      'if ! gpgv --keyring "$work/node-release-keys.gpg" "$work/SHASUMS256.txt.sig" "$work/SHASUMS256.txt" 2>"$work/gpgv.log"; then',
    );
    expect(at('"$base/SHASUMS256.txt.sig"')).toBeGreaterThan(-1);
    expect(at("gpgv --keyring")).toBeLessThan(at("grep -E '  node-v20"));
    expect(at("gpgv --keyring")).toBeLessThan(at('"$base/$file"'));
  });

  it("downloads only over https, also after a redirect", () => {
    const downloads = script.split("\n").filter((line) => line.includes("curl "));
    expect(downloads).toHaveLength(3);
    for (const line of downloads) expect(line).toContain("curl -fsSL --proto =https ");
  });

  it("says that the signature is not checked when the repository has no release keys", () => {
    const withoutKeys = nodeScript(production, TEST_REGISTRY, Buffer.alloc(0));
    expect(withoutKeys).not.toContain("gpgv");
    expect(withoutKeys).toContain("warning: the signature of $base/SHASUMS256.txt is not checked");
    expect(nodeReleaseKeyring().length === 0).toBe(nodeReleaseKeyFingerprints().length === 0);
  });

  it("has no keyring and no gpgv with nodeSource npm", () => {
    expect(staging.vps.nodeSource).toBe("npm");
    expect(nodeScript(staging, TEST_REGISTRY, keyring)).not.toContain("gpgv");
  });
});
