export { createHost, type CreateHostOptions } from "./host";
export { loadHandle, type HostHandle } from "./handle";
export { destroyHost, destroyAllHosts } from "./teardown";
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
