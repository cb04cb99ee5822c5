export { EXAMPLE_APP, stackOnHosts } from "./stackOnHosts";
export {
  type ProvisionInput,
  type StepRun,
  StepFailed,
  envFileContent,
  resolvedHostSteps,
  provisionHost,
  runSteps,
} from "./provision";
export { generateDatabasePassword, sandboxDatabasePassword } from "./databasePassword";
export { EXAMPLE_APP_DIR, buildArtifact, newReleaseId } from "./artifact";
export {
  type RunnerFiles,
  type ScriptResult,
  backupNow,
  migrateAction,
  restoreBackup,
  rollbackRelease,
  shipInvocation,
  shipRelease,
  writeRunnerFiles,
} from "./runnerScripts";
export { type DeployKeyPair, generateDeployKey } from "./deployKeyPair";
export { callAgent } from "./agent";
export { runCollecting, runStreaming, spawnCollecting } from "./childProcess";
export { isPm2Output, printProgressLine } from "./liveOutput";
export {
  type LocalHost,
  ignoredHostKeysNote,
  stackFileOf,
  stackHostCount,
  userStackBeforeHosts,
  userStackOnHosts,
} from "./userStack";
export { AppProblem, buildAppArtifact, checkArtifact, requireLockfile } from "./appBuild";
export {
  type ReleaseSource,
  UNHEALTHY_EXAMPLE_ONLY,
  deploySourceOf,
  releaseArtifact,
  releaseSourceOf,
} from "./releaseSource";
export {
  type SandboxCommand,
  type SandboxOptions,
  type SandboxVerb,
  SANDBOX_VERBS,
  SandboxUsageError,
  parseSandboxCommand,
  sandboxUsage,
  verbUsage,
} from "./commandLine";
export { appLogFiles, appLogTail } from "./appLogs";
export { failedHost, neverHealthyReport } from "./failureReport";
export { type TeamVerb, type UpSandbox, runTeamVerb } from "./teamVerbs";
export { chooseHost } from "./hostChoice";
export { adminShellArgs } from "./adminShell";
