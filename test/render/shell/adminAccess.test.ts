import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { shell } from "../../../src/render/shell/commands";
import {
  ADMIN_ACCESS_STEP,
  adminAccessScript,
  adminAccessStep,
  adminHome,
} from "../../../src/render/shell/steps/adminAccess";
import { CI_PUBLIC_KEY } from "./fixtures";

const KEY = `${CI_PUBLIC_KEY} admin@laptop`;

describe("admin access (EC2 hosts: the configured admin key, applied over SSH)", () => {
  it("looks for the admin's home where cloud-init makes it", () => {
    expect(adminHome("root")).toBe("/root");
    expect(adminHome("admin")).toBe("/home/admin");
  });

  it("refuses an admin whose home is elsewhere, before writing anything", () => {
    const lines = adminAccessScript("admin", KEY).split("\n");
    expect(lines.slice(0, 5)).toEqual([
      "home=$(getent passwd admin | cut -d: -f6)",
      'if [ "$home" != /home/admin ]; then',
      `  echo "admin user admin has the home '$home', not /home/admin: not changing its authorized_keys" >&2`,
      "  exit 1",
      "fi",
    ]);
  });

  it("makes the configured key the only line of authorized_keys, owned by the admin, mode 0600", () => {
    const script = adminAccessScript("admin", `${KEY}\n`);
    const encoded = Buffer.from(`${KEY}\n`, "utf8").toString("base64");
    expect(script).toContain(
      "mkdir -p /home/admin/.ssh\nchmod 0700 /home/admin/.ssh\nchown admin: /home/admin/.ssh",
    );
    expect(script).toContain(`printf %s ${encoded} | base64 -d > "$pipeline_new"`);
    expect(script).toContain('chmod 0600 "$pipeline_new"\nchown admin: "$pipeline_new"');
    expect(script).toContain("/home/admin/.ssh/authorized_keys");
  });

  it("runs as root, through sudo for an admin user", () => {
    const script = adminAccessScript("admin", KEY);
    expect(adminAccessStep({ adminUser: "admin" }, KEY)).toEqual({
      name: ADMIN_ACCESS_STEP,
      script,
      create: `sudo -n ${shell(script)}`,
      touchesSecrets: false,
    });
    expect(spawnSync("bash", ["-n", "-c", script]).status).toBe(0);
  });
});
