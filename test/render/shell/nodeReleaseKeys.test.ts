// The Node.js release keys shipped in the repository (node-release-keys/README.md), the armor decoder, and the node
// step that checks SHASUMS256.txt with them: its rendered verification runs here against signatures made by
// throwaway keys, one of them shipped the way the real keys are (a <fingerprint>.asc file in a key directory).
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { rootStep } from "../../../src/render/shell/remoteStep";
import { nodeScript } from "../../../src/render/shell/steps/node";
import {
  NODE_RELEASE_KEY_DIR,
  dearmor,
  nodeReleaseKeyArmored,
  nodeReleaseKeyFingerprints,
  nodeReleaseKeyring,
} from "../../../src/render/shell/steps/nodeReleaseKeys";
import { TEST_REGISTRY, production, staging } from "./fixtures";

const scratch = mkdtempSync(join(tmpdir(), "node-release-keys-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** gpg (Debian's gnupg) in a GnuPG home of its own, never the user's. */
function gpgIn(home: string) {
  mkdirSync(home, { recursive: true, mode: 0o700 });
  return (args: string[], input?: string | Buffer): string =>
    execFileSync("gpg", ["--homedir", home, "--batch", "--quiet", ...args], {
      input,
      encoding: "utf8",
      stdio: "pipe",
    });
}

/** `gpg --show-keys --with-colons` of key data: the fingerprint of each primary key, and any secret key record. */
function showKeys(data: string | Buffer): { primaries: string[]; secret: string[] } {
  const records = gpgIn(mkdtempSync(join(scratch, "show-")))(["--show-keys", "--with-colons"], data)
    .split("\n")
    .map((line) => line.split(":"));
  const primaries = records.flatMap((record, index) => {
    const fpr = records[index + 1];
    return record[0] === "pub" && fpr?.[0] === "fpr" ? [fpr[9] ?? ""] : [];
  });
  return {
    primaries,
    secret: records.filter((r) => r[0] === "sec" || r[0] === "ssb").map((r) => r[0] ?? ""),
  };
}

/** A throwaway releaser: a fresh ed25519 key in its own GnuPG home, its armored public key, and a signer. */
function throwawayReleaser(name: string): {
  fingerprint: string;
  armored: string;
  sign: (file: string) => void;
} {
  const gpg = gpgIn(join(scratch, `gnupg-${name}`));
  gpg([
    "--passphrase",
    "",
    "--quick-generate-key",
    `${name} <${name}@example.test>`,
    "ed25519",
    "sign",
    "never",
  ]);
  const fingerprint = /^fpr:+([0-9A-F]{40}):/m.exec(gpg(["--with-colons", "--list-keys"]))?.[1] ?? "";
  return {
    fingerprint,
    armored: gpg(["--armor", "--export", fingerprint]),
    sign: (file) => gpg(["--yes", "--detach-sign", "--output", `${file}.sig`, file]),
  };
}

/**
 * Runs the node step's signature check as rendered (the keyring line and the verify function, with `$work` and
 * `$base` of the step) on `SHASUMS256.txt` and its `.sig` in `work`.
 */
function runRenderedCheck(script: string, work: string): { code: number; stdout: string; stderr: string } {
  const lines = script.split("\n");
  const keyringLine = lines.find((line) => line.endsWith('| base64 -d >"$work/node-release-keys.gpg"')) ?? "";
  const start = lines.indexOf("verify_node_release_signature() {");
  const end = lines.indexOf("}", start);
  const call = lines.find((line) => line.startsWith("verify_node_release_signature ")) ?? "";
  expect([keyringLine, call].every(Boolean) && start > -1 && end > start).toBe(true);
  const check = [
    `work=${work}`,
    "base=https://dist.example.test/latest-v26.x",
    keyringLine,
    ...lines.slice(start, end + 1),
    call,
  ].join("\n");
  const run = spawnSync("bash", ["--norc", "-euo", "pipefail", "-c", check], { encoding: "utf8" });
  return { code: run.status ?? -1, stdout: run.stdout, stderr: run.stderr };
}

/** A work directory holding a SHASUMS256.txt signed by `signer`. */
function signedSums(signer: ReturnType<typeof throwawayReleaser>): string {
  const work = mkdtempSync(join(scratch, "work-"));
  writeFileSync(join(work, "SHASUMS256.txt"), `${"a".repeat(64)}  node-v26.99.0-linux-x64.tar.xz\n`);
  signer.sign(join(work, "SHASUMS256.txt"));
  return work;
}

describe("the Node.js release keys in the repository", () => {
  const shipped = nodeReleaseKeyFingerprints();

  it("are the active releasers' keys that node-release-keys/README.md lists", () => {
    const readme = readFileSync(join(NODE_RELEASE_KEY_DIR, "README.md"), "utf8");
    const listed = /```\n([0-9A-F\n]+)```/.exec(readme)?.[1]?.trim().split("\n") ?? [];
    expect(shipped.length).toBeGreaterThan(0);
    expect(shipped).toEqual([...listed].sort());
  });

  it("hold, each, exactly the public key their file is named after (gpg --show-keys), and no secret key", () => {
    for (const fingerprint of shipped) {
      const keys = showKeys(nodeReleaseKeyArmored(fingerprint));
      expect(keys, fingerprint).toEqual({ primaries: [fingerprint], secret: [] });
    }
  });

  it("make up the keyring the node step embeds, de-armored: the same keys in the same order", () => {
    expect(showKeys(nodeReleaseKeyring()).primaries).toEqual(shipped);
  });
});

describe("dearmor", () => {
  const key = throwawayReleaser("armor");

  it("turns an armored key into the packets of the key gpg reads from it", () => {
    expect(showKeys(dearmor(key.armored)).primaries).toEqual([key.fingerprint]);
  });

  it("refuses a block whose CRC-24 does not match", () => {
    const lines = key.armored.split("\n");
    const index = lines.findIndex((line) => /^[A-Za-z0-9+/]{20,}$/.test(line));
    const line = lines[index] ?? "";
    lines[index] = `${line.slice(0, 10)}${line[10] === "A" ? "B" : "A"}${line.slice(11)}`;
    expect(() => dearmor(lines.join("\n"))).toThrow(/CRC-24/);
  });
});

describe("the node step's signature check (nodeSource nodejs)", () => {
  // A releaser shipped the way the real ones are: <fingerprint>.asc in a key directory, read by nodeReleaseKeyring.
  const releaser = throwawayReleaser("releaser");
  const keyDir = mkdtempSync(join(scratch, "keys-"));
  writeFileSync(join(keyDir, `${releaser.fingerprint}.asc`), releaser.armored);
  const script = nodeScript(production, TEST_REGISTRY, nodeReleaseKeyring(keyDir));

  it("accepts SHASUMS256.txt signed by a key of the keyring, and names that key", () => {
    const run = runRenderedCheck(script, signedSums(releaser));
    expect(run.stderr).toBe("");
    expect(run).toMatchObject({ code: 0 });
    expect(run.stdout).toBe(
      `https://dist.example.test/latest-v26.x/SHASUMS256.txt: good signature by Node.js release key ${releaser.fingerprint}\n`,
    );
  });

  it("refuses SHASUMS256.txt signed by a key the pipeline lacks, naming its fingerprint and where the keys come from", () => {
    const stranger = throwawayReleaser("stranger");
    const run = runRenderedCheck(script, signedSums(stranger));
    expect(run.code).toBe(1);
    expect(run.stdout).toBe("");
    const [first, second] = run.stderr.split("\n");
    expect(first).toBe(
      "https://dist.example.test/latest-v26.x/SHASUMS256.txt has no valid signature by a Node.js release key: not installing",
    );
    expect(second).toBe(
      `https://dist.example.test/latest-v26.x/SHASUMS256.txt is signed by key ${stranger.fingerprint}, which is not among this pipeline's Node.js release keys. They are the active releasers' keys/<fingerprint>.asc of the nodejs/release-keys repository, kept in src/render/shell/steps/node-release-keys/: if ${stranger.fingerprint} is a new releaser's key, add it there as its README says, then run pulumi up again`,
    );
    expect(run.stderr).toContain("No public key");
  });

  it("refuses SHASUMS256.txt changed after a key of the keyring signed it", () => {
    const work = signedSums(releaser);
    writeFileSync(join(work, "SHASUMS256.txt"), `${"b".repeat(64)}  node-v26.99.0-linux-x64.tar.xz\n`);
    const run = runRenderedCheck(script, work);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^\S+ has no valid signature by a Node\.js release key: not installing\n/);
    expect(run.stderr).toContain("BAD signature");
    expect(run.stderr).not.toContain("is signed by key");
  });

  it("refuses a signature file that holds no signature", () => {
    const work = signedSums(releaser);
    writeFileSync(join(work, "SHASUMS256.txt.sig"), "not a signature\n");
    expect(runRenderedCheck(script, work).code).toBe(1);
  });

  it("checks the signature before it reads a checksum or downloads the tarball", () => {
    const lines = script.split("\n");
    const at = (text: string) => lines.findIndex((line) => line.includes(text));
    expect(at('"$base/SHASUMS256.txt.sig"')).toBeGreaterThan(-1);
    expect(at("verify_node_release_signature ")).toBeLessThan(at("grep -E '  node-v26"));
    expect(at("verify_node_release_signature ")).toBeLessThan(at('"$base/$file"'));
    expect(lines).toContain(
      'verify_node_release_signature "$work/node-release-keys.gpg" "$work/SHASUMS256.txt" "$work/SHASUMS256.txt.sig" "$base/SHASUMS256.txt" || exit 1',
    );
  });

  it("embeds the shipped keys by default", () => {
    expect(nodeScript(production, TEST_REGISTRY)).toContain(
      `printf %s ${nodeReleaseKeyring().toString("base64")} | base64 -d >"$work/node-release-keys.gpg"`,
    );
  });

  it("refuses to render without release keys instead of skipping the check", () => {
    expect(() => nodeScript(production, TEST_REGISTRY, Buffer.alloc(0))).toThrow(
      /no Node\.js release keys to check SHASUMS256\.txt with/,
    );
  });

  it("keeps the step's command within one argument's limit (MAX_ARG_STRLEN, 128 KiB) with the shipped keys", () => {
    const step = rootStep({ adminUser: "admin" }, "node", nodeScript(production, TEST_REGISTRY));
    expect(step.create.length).toBeLessThan(128 * 1024);
  });

  it("downloads only over https, also after a redirect", () => {
    const downloads = script.split("\n").filter((line) => line.includes("curl "));
    expect(downloads).toHaveLength(3);
    for (const line of downloads) expect(line).toContain("curl -fsSL --proto =https ");
  });

  it("has no keyring and no gpgv with nodeSource npm", () => {
    expect(staging.vps.nodeSource).toBe("npm");
    expect(nodeScript(staging, TEST_REGISTRY, Buffer.alloc(0))).not.toContain("gpgv");
  });
});
