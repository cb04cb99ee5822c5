import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import {
  ROTATE_HOST_KEY_STEP,
  hostKeyRotationScript,
  hostKeyRotationStep,
} from "../../../src/render/shell/steps/hostKeyRotation";
import { shell } from "../../../src/render/shell/commands";

describe("host key rotation (the first step on a host the program created)", () => {
  const script = hostKeyRotationScript();
  const lines = script.split("\n");

  it("generates a new ed25519 key in a fresh root-only directory before the old keys of every type go", () => {
    expect(lines.slice(0, 6)).toEqual([
      "fresh=$(mktemp -d /etc/ssh/pipeline-host-key-XXXXXX)",
      `ssh-keygen -q -t ed25519 -N '' -C '' -f "$fresh/key" >&2`,
      "rm -f /etc/ssh/ssh_host_*_key /etc/ssh/ssh_host_*_key.pub",
      'mv -fT "$fresh/key" /etc/ssh/ssh_host_ed25519_key',
      'mv -fT "$fresh/key.pub" /etc/ssh/ssh_host_ed25519_key.pub',
      'rmdir "$fresh"',
    ]);
  });

  it("reloads sshd, then prints the new public key as its only stdout", () => {
    expect(script).toContain('kill -HUP "$listener"');
    expect(script).toContain("systemctl try-reload-or-restart ssh.service");
    expect(lines.indexOf("} >&2")).toBeGreaterThan(lines.indexOf("{"));
    // type and key, without the comment: the line the component pins
    expect(lines.at(-1)).toBe('cut -d " " -f 1,2 /etc/ssh/ssh_host_ed25519_key.pub');
    expect(lines.filter((l) => !l.endsWith(">&2") && /^(cat|cut|echo|printf) /.test(l))).toHaveLength(1);
  });

  it("runs as root: through sudo for an admin user, directly as root", () => {
    expect(hostKeyRotationStep({ adminUser: "admin" })).toEqual({
      name: ROTATE_HOST_KEY_STEP,
      script,
      create: `sudo -n ${shell(script)}`,
      touchesSecrets: false,
    });
    expect(hostKeyRotationStep({ adminUser: "root" }).create).toBe(shell(script));
  });

  it("is valid bash", () => {
    const parsed = spawnSync("bash", ["-n", "-c", script], { encoding: "utf8" });
    expect(parsed.stderr).toBe("");
    expect(parsed.status).toBe(0);
  });
});
