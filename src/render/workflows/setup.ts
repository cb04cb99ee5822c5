// Shared steps: checkout without a persisted token, pnpm, Node with the pnpm store cache, install.
import type { AppConfig } from "../../config/types";
import { ACTIONS, actionRef } from "./actions";
import type { Step } from "./model";

export function checkoutStep(): Step {
  return { name: "Check out", uses: actionRef(ACTIONS.checkout), with: { "persist-credentials": false } };
}

type Toolchain = Pick<AppConfig, "nodeVersion" | "pnpmVersion" | "packageManagerField">;

/**
 * The version of pnpm in package.json's packageManager field ("pnpm@9.15.9+sha512.<hash>"), read with Node: what
 * the app's developers run.
 */
const PACKAGE_MANAGER_PNPM = `"$(node -p "require('./package.json').packageManager.replace(/^pnpm@/, '').replace(/[+].*$/, '')")"`;

/**
 * Node first, then pnpm from the npm registry with that Node's npm (no third-party action: pnpm/action-setup has no
 * release on node24 that could be checked), then setup-node again with `cache: pnpm`, which needs pnpm on PATH to
 * find its store: it takes the same Node from the tool cache, restores the store and saves it after the job.
 */
function toolchainSteps(app: Toolchain): Step[] {
  const node = { "node-version": app.nodeVersion };
  const pnpm = app.packageManagerField ? PACKAGE_MANAGER_PNPM : String(app.pnpmVersion);
  return [
    { name: "Set up Node.js", uses: actionRef(ACTIONS.setupNode), with: node },
    { name: "Set up pnpm", run: `npm install --global --no-fund --no-audit pnpm@${pnpm}` },
    {
      name: "Cache the pnpm store",
      uses: actionRef(ACTIONS.setupNode),
      with: { ...node, cache: "pnpm", "cache-dependency-path": "pnpm-lock.yaml" },
    },
  ];
}

export function installSteps(app: Toolchain & Pick<AppConfig, "installCommand">): Step[] {
  return [checkoutStep(), ...toolchainSteps(app), { name: "Install dependencies", run: app.installCommand }];
}
