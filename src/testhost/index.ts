export { REQUIRED_APT_PACKAGES } from "./requirements";
export { createHost, loadHandle, type CreateHostOptions, type HostHandle } from "./host";
export { destroyHost, destroyHostSync, destroyHostByName, destroyAllHosts, listHostNames } from "./teardown";
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
