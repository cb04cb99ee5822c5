// Shared steps: checkout without a persisted token, pnpm, Node with the pnpm store cache, install.
import type { AppConfig } from "../../config/types";
import { ACTIONS, actionRef } from "./actions";
import type { Step } from "./model";

export function checkoutStep(): Step {
  return { name: "Check out", uses: actionRef(ACTIONS.checkout), with: { "persist-credentials": false } };
}

type Toolchain = Pick<AppConfig, "nodeVersion" | "pnpmVersion" | "packageManagerField">;

/**
 * pnpm must be on PATH before setup-node so that `cache: pnpm` can find its store. pnpm/action-setup reads the
 * version from package.json's packageManager field and fails ("Multiple versions of pnpm specified") when a
 * `version` input differs from it, so the input is given only for an app without the field.
 */
function toolchainSteps(app: Toolchain): Step[] {
  return [
    {
      name: "Set up pnpm",
      uses: actionRef(ACTIONS.setupPnpm),
      ...(app.packageManagerField ? {} : { with: { version: app.pnpmVersion } }),
    },
    {
      name: "Set up Node.js",
      uses: actionRef(ACTIONS.setupNode),
      with: { "node-version": app.nodeVersion, cache: "pnpm", "cache-dependency-path": "pnpm-lock.yaml" },
    },
  ];
}

export function installSteps(app: Toolchain & Pick<AppConfig, "installCommand">): Step[] {
  return [checkoutStep(), ...toolchainSteps(app), { name: "Install dependencies", run: app.installCommand }];
}
