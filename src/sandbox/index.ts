export { EXAMPLE_APP, stackOnHosts } from "./stackOnHosts";
export {
  type ProvisionInput,
  type StepRun,
  StepFailed,
  commandGraph,
  provisionHost,
  runDelete,
  runSteps,
} from "./provision";
export { EXAMPLE_APP_DIR, buildArtifact, newReleaseId } from "./artifact";
export {
  type RunnerFiles,
  type ScriptResult,
  migrateAction,
  rollbackRelease,
  runScript,
  shipRelease,
  writeRunnerFiles,
} from "./workflowScripts";
export { type DeployKeyPair, generateDeployKey } from "./deployKey";
export { callAgent } from "./agent";
export { runCollecting, spawnCollecting } from "./childProcess";
