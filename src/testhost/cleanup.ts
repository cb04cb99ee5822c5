import type { HostHandle } from "./handle";
import { destroyHostSync } from "./teardown";

/**
 * For long-running consumers that own their hosts (test runs, benchmarks): destroys the hosts returned by
 * `currentHosts` when the process exits or gets SIGINT/SIGTERM. Not installed by the library itself, because the
 * sandbox CLI must leave its host running after it exits. Returns a function that removes the handlers.
 */
export function destroyHostsOnExit(currentHosts: () => readonly Pick<HostHandle, "name">[]): () => void {
  const destroyAll = (): void => {
    for (const handle of currentHosts()) {
      try {
        destroyHostSync(handle);
      } catch (error) {
        process.stderr.write(`could not destroy ${handle.name}: ${String(error)}\n`);
      }
    }
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    destroyAll();
    process.exit(signal === "SIGINT" ? 130 : 143);
  };
  process.on("exit", destroyAll);
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return () => {
    process.off("exit", destroyAll);
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  };
}
