// cloud-init's own schema checker (Debian package cloud-init, the version Debian 12's cloud images run) on the
// user data of an EC2 host, with a real ed25519 host key. A missing cloud-init fails (apt-get install cloud-init).
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cloudInitUserData } from "../../../src/render/aws/cloudInitUserData";

const dir = mkdtempSync(join(tmpdir(), "pipeline-cloud-init-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function sshKeyPair(name: string): { privateKeyOpenssh: string; publicKeyOpenssh: string } {
  const path = join(dir, name);
  const made = spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "", "-f", path]);
  expect(made.status, "ssh-keygen failed (apt-get install openssh-client)").toBe(0);
  return {
    privateKeyOpenssh: readFileSync(path, "utf8"),
    publicKeyOpenssh: readFileSync(`${path}.pub`, "utf8"),
  };
}

function schemaCheck(name: string, text: string) {
  const path = join(dir, `${name}.yaml`);
  writeFileSync(path, text);
  return spawnSync("cloud-init", ["schema", "--config-file", path], { encoding: "utf8" });
}

describe("cloud-init schema", () => {
  it("is installed (the lint layer fails without it: apt-get install -y cloud-init)", () => {
    const version = spawnSync("cloud-init", ["--version"], { encoding: "utf8" });
    expect(version.error, "cloud-init is not installed: apt-get install -y cloud-init").toBeUndefined();
    expect(version.status).toBe(0);
  });

  const hostKey = sshKeyPair("host");
  const admin = sshKeyPair("admin");
  it.each(["admin", "root"])("accepts the user data of a host whose adminUser is %s", (adminUser) => {
    const userData = cloudInitUserData({ adminUser, adminPublicKey: admin.publicKeyOpenssh, hostKey });
    const result = schemaCheck(adminUser, userData);
    expect(result.error).toBeUndefined();
    expect(result.stderr).toBe("");
    expect(result.stdout).toMatch(/^Valid cloud-config/);
    expect(result.status).toBe(0);
  });

  it("does report problems (the check is live): a misspelled host key entry", () => {
    const userData = cloudInitUserData({
      adminUser: "admin",
      adminPublicKey: admin.publicKeyOpenssh,
      hostKey,
    });
    const result = schemaCheck("broken", userData.replace("ed25519_public:", "ed25519_pub:"));
    expect(result.status).not.toBe(0);
    expect(result.stdout + result.stderr).toContain("ed25519_pub");
  });
});
