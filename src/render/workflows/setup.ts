// Shared steps: checkout without a persisted token, pnpm, Node with the pnpm store cache, install.
import type { AppConfig } from "../../config/types";
import { ACTIONS, actionRef } from "./actions";
import type { Step } from "./model";

export function checkoutStep(): Step {
  return { name: "Check out", uses: actionRef(ACTIONS.checkout), with: { "persist-credentials": false } };
}

/** pnpm must be on PATH before setup-node so that `cache: pnpm` can find its store. */
function toolchainSteps(app: Pick<AppConfig, "nodeVersion" | "pnpmVersion">): Step[] {
  return [
    { name: "Set up pnpm", uses: actionRef(ACTIONS.setupPnpm), with: { version: app.pnpmVersion } },
    {
      name: "Set up Node.js",
      uses: actionRef(ACTIONS.setupNode),
      with: { "node-version": app.nodeVersion, cache: "pnpm", "cache-dependency-path": "pnpm-lock.yaml" },
    },
  ];
}

export function installSteps(app: Pick<AppConfig, "nodeVersion" | "pnpmVersion" | "installCommand">): Step[] {
  return [checkoutStep(), ...toolchainSteps(app), { name: "Install dependencies", run: app.installCommand }];
}
