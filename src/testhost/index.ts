export { REQUIRED_APT_PACKAGES } from "./requirements";
export {
  createHost,
  destroyHost,
  destroyHostSync,
  destroyHostByName,
  destroyAllHosts,
  listHostNames,
  loadHandle,
  type CreateHostOptions,
  type HostHandle,
} from "./host";
export {
  connect,
  canLoginWithPassword,
  sshCommandLineArgs,
  writeSshClientFiles,
  HostSession,
  HostKeyMismatchError,
  type ConnectOptions,
  type ExecOptions,
  type ExecResult,
  type ExecBufferResult,
} from "./ssh";
export { destroyHostsOnExit } from "./cleanup";
export { ensureBaseImage } from "./image";
export { discoverPackageSources, type PackageSources } from "./sources";
