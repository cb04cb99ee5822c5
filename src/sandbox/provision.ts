// Runs a stack's host step chain on a real host, in order, with the very `create` strings the remote.Command
// resources of the VPS component carry (both take them from hostSteps()).
import { hostDatabase } from "../config/databaseSchema";
import type { PipelineConfig } from "../config/types";
import { appEnvWithDatabaseUrl, databaseUrl } from "../render/databaseConnection";
import { hostSteps, withDeployKeyFilledIn } from "../render/shell/hostSteps";
import type { RemoteStep } from "../render/shell/remoteStep";
import { type HostHandle, connect } from "../testhost";

export interface StepRun {
  name: string;
  milliseconds: number;
  code: number | null;
}

export interface ProvisionInput {
  npmRegistry: string;
  appEnv?: string;
  /** Authorized for the stack's deployKeyRotation, as `pulumi up` does. */
  deployPublicKey: string;
  /** The app role's password in the database on the host (required with the database group). */
  databasePassword?: string;
}

/** What the app-env step reads on stdin: appEnv, plus the DATABASE_URL of the database on the host. */
export function envFileContent(config: PipelineConfig, input: ProvisionInput): string | undefined {
  const database = hostDatabase(config);
  if (database === undefined) return input.appEnv;
  if (input.databasePassword === undefined)
    throw new Error("the stack has the database group on: provisioning needs the database password");
  return appEnvWithDatabaseUrl(input.appEnv, databaseUrl(database, input.databasePassword));
}

/** hostSteps() with the deploy key filled in: the commands one host runs, in order. */
export function resolvedHostSteps(config: PipelineConfig, input: ProvisionInput): RemoteStep[] {
  const steps = hostSteps(config, { npmRegistry: input.npmRegistry, withAppEnv: input.appEnv !== undefined });
  return withDeployKeyFilledIn(steps, input.deployPublicKey);
}

export class StepFailed extends Error {
  constructor(
    readonly step: string,
    readonly code: number | null,
    readonly stderr: string,
  ) {
    super(`step ${step} failed with exit code ${code}:\n${stderr.slice(-4000)}`);
  }
}

/**
 * Runs each step's create over SSH as the admin user (root on test hosts); stops at the first failure. `appEnv`
 * (the content of shared/.env) and `databasePassword` go to the steps that read them on stdin.
 */
export async function runSteps(
  handle: HostHandle,
  steps: readonly RemoteStep[],
  appEnv?: string,
  databasePassword?: string,
): Promise<StepRun[]> {
  const session = await connect(handle);
  const runs: StepRun[] = [];
  try {
    for (const step of steps) {
      const started = Date.now();
      const stdin =
        step.stdin === "appEnv" ? appEnv : step.stdin === "databasePassword" ? databasePassword : undefined;
      const result = await session.exec(step.create, {
        ...(stdin !== undefined ? { stdin } : {}),
        timeoutMs: 600_000,
      });
      runs.push({ name: step.name, milliseconds: Date.now() - started, code: result.code });
      if (result.code !== 0) throw new StepFailed(step.name, result.code, result.stderr || result.stdout);
    }
  } finally {
    session.end();
  }
  return runs;
}

export async function provisionHost(
  handle: HostHandle,
  config: PipelineConfig,
  input: ProvisionInput,
): Promise<StepRun[]> {
  return runSteps(
    handle,
    resolvedHostSteps(config, input),
    envFileContent(config, input),
    input.databasePassword,
  );
}
