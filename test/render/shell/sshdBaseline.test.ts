// The sshd baseline the sshd-hardening step writes and checks (the host test checks it on a real sshd).
import { describe, expect, it } from "vitest";
import { loadFromValues } from "../../../src/config/fromValues";
import {
  SSHD_DROP_IN,
  deployUserEffectiveSshdSettings,
  sshdAllowedUsers,
  sshdHardeningScript,
  sshdSettings,
} from "../../../src/render/shell/steps/system";
import { production, staging } from "./fixtures";
import { minimalValues } from "../../config/fixtures";

/** The drop-in as the step writes it (decoded from the script's base64 payload). */
function dropIn(script: string): string {
  const target = SSHD_DROP_IN.replaceAll(".", "\\.");
  const match = new RegExp(
    `pipeline_new=\\$\\(mktemp ${target}\\.pipeline-XXXXXX\\)\\nprintf %s (\\S+) \\| base64 -d`,
  ).exec(script);
  if (!match?.[1]) throw new Error("the script writes no drop-in");
  return Buffer.from(match[1], "base64").toString("utf8");
}

describe("the sshd baseline", () => {
  it("lets in root (the admin user) and the deploy user, root with a key only", () => {
    expect(staging.adminUser).toBe("root");
    const { lines, effective } = sshdSettings(staging);
    expect(lines).toContain("AllowUsers root deploy");
    expect(lines).toContain("PermitRootLogin prohibit-password");
    expect(effective).toEqual(
      expect.arrayContaining([
        "allowusers root",
        "allowusers deploy",
        "permitrootlogin (prohibit-password|without-password)",
      ]),
    );
  });

  it("refuses root when the admin user is another one, and adds vps.sshAllowUsers once each", () => {
    expect([production.adminUser, production.deployUser]).toEqual(["admin", "app"]);
    expect(sshdSettings(production).lines).toContain("PermitRootLogin no");
    expect(sshdSettings(production).lines).toContain("AllowUsers admin app");
    const withPeople = {
      ...production,
      vps: { ...production.vps, sshAllowUsers: ["alice", "admin", "bob"] },
    };
    expect(sshdAllowedUsers(withPeople)).toEqual(["admin", "app", "alice", "bob"]);
    expect(sshdSettings(withPeople).effective.filter((line) => line.startsWith("allowusers "))).toEqual([
      "allowusers admin",
      "allowusers app",
      "allowusers alice",
      "allowusers bob",
    ]);
  });

  it("has the CIS and dev-sec values that fit a deploy host", () => {
    expect(sshdSettings(staging).lines).toEqual(
      expect.arrayContaining([
        "MaxAuthTries 4",
        "MaxSessions 10",
        "MaxStartups 10:30:60",
        "LoginGraceTime 30",
        "ClientAliveInterval 15",
        "ClientAliveCountMax 4",
        "LogLevel VERBOSE",
        "HostbasedAuthentication no",
        "IgnoreRhosts yes",
        "PermitUserEnvironment no",
        "X11Forwarding no",
      ]),
    );
  });

  it("writes the global settings first and the deploy user's Match block, without forwarding, last", () => {
    const text = dropIn(sshdHardeningScript(production));
    const lines = text.split("\n");
    const match = lines.indexOf("Match User app");
    expect(match).toBeGreaterThan(lines.indexOf("AllowUsers admin app"));
    expect(lines.slice(match + 1).filter((line) => line !== "")).toEqual([
      "    AuthorizedKeysFile /etc/ssh/pipeline/authorized_keys/app",
      "    DisableForwarding yes",
      "    AllowTcpForwarding no",
      "    AllowStreamLocalForwarding no",
      "    AllowAgentForwarding no",
      "    PermitTunnel no",
      "    X11Forwarding no",
      "    PermitTTY no",
    ]);
  });

  it("disables AcceptEnv in the main file and checks every value with sshd -T, the deploy user's with -C", () => {
    const script = sshdHardeningScript(production);
    expect(script).toContain(
      `sed -i -E 's/^([[:space:]]*AcceptEnv[[:space:]].*)$/# \\1 (disabled by pipeline: sshd accepts no client environment)/I' "$main_config"`,
    );
    expect(script).toContain(
      `for expected in ${sshdSettings(production)
        .effective.map((line) => `'${line}'`)
        .join(" ")}; do`,
    );
    expect(script).toContain(
      "for_deploy_user=$(/usr/sbin/sshd -T -C user=app,host=pipeline-check,addr=127.0.0.1)",
    );
    expect(script).toContain(
      `for expected in ${deployUserEffectiveSshdSettings()
        .map((line) => `'${line}'`)
        .join(" ")}; do`,
    );
    expect(script).toContain('if accepted=$(grep -E "^acceptenv " <<<"$effective"); then');
  });

  it("takes vps.sshAllowUsers from the config, refusing names that are not Unix users", () => {
    const base = minimalValues();
    const load = (vps: unknown) =>
      loadFromValues({ ...base, vps }, "acme", { stack: "staging", requireSecrets: false }).config;
    expect(load({}).vps.sshAllowUsers).toEqual([]);
    expect(load({ sshAllowUsers: ["alice"] }).vps.sshAllowUsers).toEqual(["alice"]);
    expect(() => load({ sshAllowUsers: ["Alice Smith"] })).toThrow(
      /pipeline:vps\.sshAllowUsers\[0\]: is not a valid Unix user name \(for example alice\)/,
    );
  });
});
