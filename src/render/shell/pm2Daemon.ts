// The environment of every start of the deploy user's pm2 daemon: by the agent, by provisioning, by systemd at boot.
//
// The daemon is the cluster primary of the app's workers. With Node's default scheduling (round-robin) the primary
// accepts each connection and hands it to a worker over IPC; a worker that exits at once on SIGINT during a reload
// (what most apps do) can die with a handed-over connection still unread, and the primary then keeps that socket
// open with nobody to answer: the request hangs until the client gives up (26 in 30 reloads at about 800 req/s
// through Caddy, measured on a test host). With "none" the workers accept from the shared listening socket
// themselves: a connection is taken by a live worker or waits in the kernel's queue for the next one.
import { argv } from "./commands";

/** `NAME=value` words, for `env` and for a systemd `Environment=` line. */
export const PM2_DAEMON_ENVIRONMENT: readonly string[] = ["NODE_CLUSTER_SCHED_POLICY=none"];

/** The assignments as quoted shell words, for `env ... <command>` and a bash array. */
export function pm2DaemonEnvironmentWords(): string {
  return argv(...PM2_DAEMON_ENVIRONMENT);
}
