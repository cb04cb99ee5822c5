// The usual hand-written deploy, on the same host, for comparison: a git checkout built in place on the VPS
// (`git fetch` + `git reset --hard`, `pnpm install`, build, migrate, `pm2 reload`, `sleep 5`, curl /health), run as a
// second pm2 app of the deploy user on its own port. Every script runs as the deploy user through a login shell
// (`su - deploy`), which reads /etc/environment (the host's proxy) like a workflow's `ssh user@host` does.
import { execFileSync } from "node:child_process";
import type { PipelineConfig } from "../src/config/types";
import { EXAMPLE_APP_DIR } from "../src/sandbox";
import { singleQuote } from "../src/primitives/shellQuote";
import type { ExecResult, HostSession } from "../src/testhost";

export const INPLACE = { appName: "example-app-inplace", port: 3001 };

export interface InPlace {
  session: HostSession;
  deployUser: string;
  /** ~/inplace/example-app: the checkout pm2 runs, updated in place. */
  checkout: string;
  /** ~/inplace/work: where "developers" commit and push to origin (not part of any timed script). */
  work: string;
}

const COMMIT = "git -c user.name=bench -c user.email=bench@localhost commit -q -m";

const SCRIPT_TIMEOUT_MS = 300_000;

/** Runs a bash script as the deploy user in a login shell; never rejects for a non-zero exit. */
function asDeployUser(session: HostSession, deployUser: string, script: string): Promise<ExecResult> {
  return session.exec(`su - ${deployUser} -c 'bash -s'`, { stdin: script, timeoutMs: SCRIPT_TIMEOUT_MS });
}

async function mustRun(
  session: HostSession,
  deployUser: string,
  what: string,
  script: string,
): Promise<string> {
  const result = await asDeployUser(session, deployUser, script);
  if (result.code !== 0)
    throw new Error(
      `in-place ${what} failed (exit ${String(result.code)}):\n${(result.stdout + result.stderr).slice(-3000)}`,
    );
  return result.stdout;
}

/** Stamps `label` into the committed source, so the in-place build answers GET / with it (build.js keeps it). */
function stampScript(label: string): string {
  if (!/^[A-Za-z0-9._-]+$/.test(label)) throw new Error(`bad label ${label}`);
  return `sed -i -E 's/^const BUILD = .*$/const BUILD = "${label}";/' src/server.js`;
}

/**
 * Not timed: origin (bare repo) with the example app committed at `label`, the checkout cloned, installed, built
 * and started under pm2 (cluster mode, same instance count, the deploy user's PM2_HOME) on INPLACE.port.
 */
export async function setUpInPlace(
  session: HostSession,
  config: PipelineConfig,
  label: string,
): Promise<InPlace> {
  const user = config.deployUser;
  const home = `/home/${user}`;
  const root = `${home}/inplace`;
  const state: InPlace = { session, deployUser: user, checkout: `${root}/example-app`, work: `${root}/work` };
  const source = execFileSync(
    "tar",
    ["-cz", "--exclude=node_modules", "--exclude=dist", "-C", EXAMPLE_APP_DIR, "."],
    { maxBuffer: 64 << 20 },
  );
  const unpack = await session.exec(
    `install -d -o ${user} -g ${user} ${root} && runuser -u ${user} -- tar -xz -C ${root} --one-top-level=source`,
    {
      stdin: source,
    },
  );
  if (unpack.code !== 0) throw new Error(`could not copy example-app to the host: ${unpack.stderr}`);
  const ecosystem = {
    apps: [
      {
        name: INPLACE.appName,
        cwd: state.checkout,
        script: "dist/server.js",
        exec_mode: "cluster",
        instances: config.app.instances,
        env: { NODE_ENV: "production", PORT: String(INPLACE.port) },
      },
    ],
  };
  await mustRun(
    session,
    user,
    "setup",
    [
      "set -euo pipefail",
      `cd ${root}`,
      "rm -rf origin.git work example-app",
      "git init -q --bare -b main origin.git",
      "mv source work",
      "cd work",
      "printf 'node_modules/\\ndist/\\n' > .gitignore",
      stampScript(label),
      "git init -q -b main",
      "git add -A",
      `${COMMIT} ${singleQuote(label)}`,
      "git remote add origin ../origin.git",
      "git push -q origin main",
      "cd ..",
      "git clone -q origin.git example-app",
      "cd example-app",
      "pnpm install --frozen-lockfile --reporter=silent",
      "pnpm run build >/dev/null",
      `printf '%s\\n' ${singleQuote(`module.exports = ${JSON.stringify(ecosystem, null, 2)};`)} > ${root}/ecosystem.config.js`,
      `pm2 start ${root}/ecosystem.config.js >/dev/null`,
      "for _ in $(seq 1 50); do",
      `  if curl -fsS -o /dev/null http://localhost:${INPLACE.port}/health; then exit 0; fi`,
      "  sleep 0.2",
      "done",
      `echo "the in-place app did not become healthy on port ${INPLACE.port}" >&2`,
      "exit 1",
    ].join("\n"),
  );
  return state;
}

/** Not timed (the developer's push that triggers the deploy): a commit stamped `label` on origin/main. */
export async function pushCommit(inPlace: InPlace, label: string): Promise<string> {
  const out = await mustRun(
    inPlace.session,
    inPlace.deployUser,
    "push",
    [
      "set -euo pipefail",
      `cd ${inPlace.work}`,
      stampScript(label),
      "git add -A",
      `${COMMIT} ${singleQuote(label)}`,
      "git push -q origin main",
      "git rev-parse HEAD",
    ].join("\n"),
  );
  return out.trim();
}

export async function headCommit(inPlace: InPlace): Promise<string> {
  return (
    await mustRun(
      inPlace.session,
      inPlace.deployUser,
      "rev-parse",
      `cd ${inPlace.checkout} && git rev-parse HEAD`,
    )
  ).trim();
}

/**
 * The in-place deploy, with this app's name, directory and port: fetch and `git reset --hard origin/main`, install,
 * build, migrate, `pm2 reload`, `sleep 5`, then a health check that rebuilds the previous commit when it fails.
 */
export function inPlaceDeployScript(inPlace: InPlace): string {
  return [
    "set -e",
    `cd ${inPlace.checkout}`,
    "PREVIOUS_COMMIT=$(git rev-parse HEAD)",
    "git fetch origin main",
    "git reset --hard origin/main",
    "pnpm install --frozen-lockfile",
    "pnpm build",
    "pnpm run migrate",
    `pm2 reload ${INPLACE.appName} --update-env`,
    "sleep 5",
    `HEALTH_STATUS=$(curl -s -o /dev/null -w "%{http_code}" http://localhost:${INPLACE.port}/health)`,
    'if [ "$HEALTH_STATUS" != "200" ]; then',
    '  echo "Health check failed with status: $HEALTH_STATUS; rolling back to $PREVIOUS_COMMIT" >&2',
    '  git reset --hard "$PREVIOUS_COMMIT"',
    "  pnpm install --frozen-lockfile",
    "  pnpm build",
    `  pm2 reload ${INPLACE.appName} --update-env`,
    "  exit 1",
    "fi",
  ].join("\n");
}

/**
 * The in-place rollback: `git reset --hard <previous commit>`, install, build, `pm2 reload --update-env`, `sleep 5`,
 * `curl -f /health`.
 */
export function inPlaceRollbackScript(inPlace: InPlace, target: string): string {
  if (!/^[0-9a-f]{40}$/.test(target)) throw new Error(`not a commit id: ${target}`);
  return [
    "set -e",
    `cd ${inPlace.checkout}`,
    "CURRENT_COMMIT=$(git rev-parse HEAD)",
    `git reset --hard ${target}`,
    "pnpm install --frozen-lockfile",
    "pnpm build",
    `pm2 reload ${INPLACE.appName} --update-env`,
    "sleep 5",
    `curl -f http://localhost:${INPLACE.port}/health || { echo "Health check failed after rollback!" >&2; exit 1; }`,
    `echo "Rolled back from $CURRENT_COMMIT to ${target}"`,
  ].join("\n");
}

export function runInPlace(inPlace: InPlace, script: string): Promise<ExecResult> {
  return asDeployUser(inPlace.session, inPlace.deployUser, script);
}
