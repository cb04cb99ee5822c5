// Inner script (run as root) of the reverse-proxy step: Debian's Caddy in front of the app, its Caddyfile rendered
// from the stack config (ingress.*), validated by Caddy before it replaces the old one, reloaded gracefully.
import { posix } from "node:path";
import type { PipelineConfig } from "../../../config/types";
import { quote } from "../../../primitives/shellQuote";
import { PIPELINE_STATE_DIR, appStateDir, hostLayout } from "../../hostLayout";
import { slotPorts, upstreamDir } from "../../releaseSlots";
import { CADDY_ADMIN_SOCKET, CADDY_HOME } from "../caddyAdmin";
import { ensureDirectory, writeFile } from "../commands";
import { LOAD_SYSTEM_ENVIRONMENT } from "../envFile";
import { upstreamHelperScript } from "../upstreamHelper";

export const CADDYFILE = "/etc/caddy/Caddyfile";
export const CADDY_LOG_DIR = "/var/log/caddy";
/** Where Caddy keeps the root certificate of its local CA (ingress.tls internal); clients must trust it. */
export const CADDY_LOCAL_ROOT_CA = `${CADDY_HOME}/.local/share/caddy/pki/authorities/local/root.crt`;

/** Root-owned pages the proxy serves itself (the maintenance page). */
export const PROXY_PAGES_DIR = "/etc/caddy/pipeline";
const MAINTENANCE_PAGE = "maintenance.html";

/** The host name the proxy serves: the url's. */
export function siteHostName(config: Pick<PipelineConfig, "url">): string {
  return new URL(config.url).hostname;
}

/** The Caddyfile of a host (Caddy 2.6's syntax: the version Debian 12 ships). Tab-indented, as `caddy fmt` writes. */
export function renderCaddyfile(config: PipelineConfig): string {
  const { ingress } = config;
  const global = [
    `admin unix/${CADDY_ADMIN_SOCKET}`,
    ...(ingress.tls === "acme" && ingress.acmeEmail !== undefined ? [`email ${ingress.acmeEmail}`] : []),
    // The local CA's root stays in Caddy's storage: the proxy (running as caddy) never edits the system trust store.
    ...(ingress.tls === "internal" ? ["skip_install_trust"] : []),
    // HTTP/1.1 and HTTP/2 only: Caddy 2.6 also serves HTTP/3 by default and advertises it (Alt-Svc), which needs
    // UDP 443 open in the firewall, the security group and every load balancer or NAT in front; for one app
    // behind a single proxy it adds a second transport to open and watch for little gain.
    "servers {",
    "\tprotocols h1 h2",
    "\ttimeouts {",
    `\t\tread_body ${ingress.readTimeoutSeconds}s`,
    "\t\tread_header 10s",
    ...(ingress.writeTimeoutSeconds > 0 ? [`\t\twrite ${ingress.writeTimeoutSeconds}s`] : []),
    `\t\tidle ${ingress.idleTimeoutSeconds}s`,
    "\t}",
    "}",
  ];
  const site = ingress.tls === "off" ? `http://${siteHostName(config)}` : siteHostName(config);
  const body = [
    ...(ingress.tls === "internal" ? ["tls internal"] : []),
    "request_body {",
    `\tmax_size ${ingress.maxBodyMegabytes}MB`,
    "}",
    // `?`: a default, so a header the app sets itself wins.
    "header {",
    '\t?Strict-Transport-Security "max-age=31536000"',
    "\t?X-Content-Type-Options nosniff",
    "\t?X-Frame-Options SAMEORIGIN",
    "\t?Referrer-Policy strict-origin-when-cross-origin",
    "\t-Server",
    "}",
    ...routes(config),
    "log {",
    `\toutput file ${CADDY_LOG_DIR}/access.log {`,
    "\t\troll_size 50MiB",
    "\t\troll_keep 10",
    `\t\troll_keep_for ${config.vps.logRetainDays * 24}h`,
    "\t}",
    "}",
  ];
  return [
    "# Managed by pipeline: rendered from the stack config (ingress.*); edits here are overwritten.",
    "{",
    ...global.map(indent),
    "}",
    "",
    `${site} {`,
    ...body.map(indent),
    "}",
    "",
  ].join("\n");
}

/**
 * Where a request goes, in this order, to exactly one of: the maintenance page, the second release port (while its
 * flag exists in upstreamDir), app.port. `handle` blocks are mutually exclusive, and Caddy 2.6 puts those with a
 * matcher before the one without and keeps the order among them (httpcaddyfile's sortRoutes).
 */
function routes(config: PipelineConfig): string[] {
  const [first, second] = slotPorts(config);
  return [
    ...maintenanceBlock(config),
    `@${SECOND_PORT_MATCHER} {`,
    "\tfile {",
    `\t\troot ${upstreamDir(config)}`,
    `\t\ttry_files /${second}`,
    "\t}",
    "}",
    `handle @${SECOND_PORT_MATCHER} {`,
    ...proxyTo(config, second).map(indent),
    "}",
    "handle {",
    ...proxyTo(config, first).map(indent),
    "}",
  ];
}

const SECOND_PORT_MATCHER = "second_port";

/**
 * No active health checks: Caddy 2.6 marks its only upstream down after one failed check (a check that met a worker
 * being replaced), and then holds every request until the next check passes. Retries alone hide a worker that
 * exits: a request that could not be sent, or a GET or HEAD whose connection was reset, goes again (Caddy 2.6
 * retries only GET once a connection was made, unless lb_retry_match says otherwise).
 */
function proxyTo(config: PipelineConfig, port: number): string[] {
  const { ingress } = config;
  return [
    `reverse_proxy localhost:${port} {`,
    ...(ingress.retrySeconds > 0
      ? [
          `\tlb_try_duration ${ingress.retrySeconds}s`,
          "\tlb_try_interval 100ms",
          "\tlb_retry_match {",
          "\t\tmethod GET HEAD",
          "\t}",
        ]
      : []),
    ...(ingress.tls === "off" && ingress.trustedProxies.length > 0
      ? [`\ttrusted_proxies ${ingress.trustedProxies.join(" ")}`]
      : []),
    "}",
  ];
}

/**
 * While the deploy user's flag file exists (agent verb maintenance), everything but the health path gets the
 * maintenance page with 503: Caddy's file matcher stats the flag on every request.
 */
function maintenanceBlock(config: PipelineConfig): string[] {
  const { maintenanceDir, maintenanceFlag } = hostLayout(config);
  return [
    "@maintenance {",
    "\tfile {",
    `\t\troot ${maintenanceDir}`,
    `\t\ttry_files /${posix.basename(maintenanceFlag)}`,
    "\t}",
    `\tnot path ${config.app.healthPath}`,
    "}",
    "handle @maintenance {",
    "\theader {",
    `\t\tRetry-After ${config.ingress.maintenanceRetryAfterSeconds}`,
    "\t\tCache-Control no-store",
    "\t\t-Last-Modified",
    "\t\t-Etag",
    "\t}",
    `\troot * ${PROXY_PAGES_DIR}`,
    `\trewrite * /${MAINTENANCE_PAGE}`,
    "\tfile_server {",
    "\t\tstatus 503",
    "\t}",
    "}",
  ];
}

/** The page of maintenance mode: the configured one, or a plain default. */
export function maintenancePage(config: PipelineConfig): string {
  if (config.ingress.maintenancePage !== undefined) return config.ingress.maintenancePage;
  const name = config.app.name;
  return [
    "<!doctype html>",
    '<html lang="en">',
    '<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${name}: down for maintenance</title></head>`,
    '<body style="font-family: sans-serif; max-width: 40em; margin: 4em auto; padding: 0 1em">',
    `<h1>${name} is down for maintenance</h1>`,
    "<p>We will be back shortly. Please try again in a few minutes.</p>",
    "</body>",
    "</html>",
    "",
  ].join("\n");
}

function indent(line: string): string {
  return `\t${line}`;
}

/**
 * The agent (deploy user) makes and removes the flag; Caddy (group caddy) only needs to look it up. The parents are
 * root's, so the deploy user cannot swap the directory for a link to somewhere else.
 */
function maintenanceDirectory(config: PipelineConfig): string[] {
  const { maintenanceDir } = hostLayout(config);
  return [
    ensureDirectory(PIPELINE_STATE_DIR, { mode: "0755", owner: "root:root" }),
    ensureDirectory(appStateDir(config.app.name), { mode: "0755", owner: "root:root" }),
    ensureDirectory(maintenanceDir, { mode: "2750", owner: `${config.deployUser}:caddy` }),
  ];
}

/**
 * Installs Debian's caddy when missing, validates the rendered Caddyfile with Caddy itself (as the caddy user, in a
 * fresh root-owned temp file) before it replaces the old one (writeFile: only when different), then starts Caddy
 * when it is not running, or reloads it through its admin API when the file changed (graceful: listeners and
 * certificates are kept). Without systemd (test hosts) Caddy runs in the background as the caddy user with only
 * CAP_NET_BIND_SERVICE, as Debian's unit runs it.
 */
export function reverseProxyScript(config: PipelineConfig): string {
  const content = renderCaddyfile(config);
  const encoded = Buffer.from(content, "utf8").toString("base64");
  const caddyRun = `exec caddy run --config ${CADDYFILE} --adapter caddyfile >>${CADDY_LOG_DIR}/caddy.log 2>&1`;
  return [
    "export DEBIAN_FRONTEND=noninteractive",
    LOAD_SYSTEM_ENVIRONMENT,
    "if ! dpkg -s caddy 2>/dev/null | grep -qx 'Status: install ok installed'; then",
    "  apt-get update -q",
    // confold: a later upgrade keeps the pipeline's Caddyfile (a conffile of the package) without asking.
    "  apt-get install -y -q --no-install-recommends -o Dpkg::Options::=--force-confold caddy",
    "fi",
    ensureDirectory(CADDY_LOG_DIR, { mode: "0750", owner: "caddy:caddy" }),
    ensureDirectory(PROXY_PAGES_DIR, { mode: "0755", owner: "root:root" }),
    writeFile(`${PROXY_PAGES_DIR}/${MAINTENANCE_PAGE}`, maintenancePage(config), {
      mode: "0644",
      owner: "root:root",
    }),
    ...maintenanceDirectory(config),
    upstreamHelperScript(config),
    `candidate=$(mktemp ${CADDYFILE}.pipeline-check-XXXXXX)`,
    `printf %s ${encoded} | base64 -d > "$candidate"`,
    'chmod 0644 "$candidate"',
    `if ! validation=$(cd / && runuser -u caddy -- env HOME=${CADDY_HOME} caddy validate --config "$candidate" --adapter caddyfile 2>&1); then`,
    "  printf '%s\\n' \"$validation\" >&2",
    '  rm -f "$candidate"',
    `  echo "caddy refused the rendered Caddyfile: ${CADDYFILE} left as it was" >&2`,
    "  exit 1",
    "fi",
    'rm -f "$candidate"',
    `before=$(stat -c %i ${CADDYFILE} 2>/dev/null || echo none)`,
    writeFile(CADDYFILE, content, { mode: "0644", owner: "root:root" }),
    `after=$(stat -c %i ${CADDYFILE})`,
    "reload_caddy() {",
    // A Caddy still on Debian's default config listens on localhost:2019.
    `  if [ -S ${CADDY_ADMIN_SOCKET} ]; then address=unix/${CADDY_ADMIN_SOCKET}; else address=localhost:2019; fi`,
    `  caddy reload --config ${CADDYFILE} --adapter caddyfile --address "$address"`,
    "}",
    "if [ -d /run/systemd/system ]; then",
    "  if ! systemctl is-enabled --quiet caddy; then systemctl enable --quiet caddy; fi",
    "  if ! systemctl is-active --quiet caddy; then systemctl start caddy",
    '  elif [ "$before" != "$after" ]; then reload_caddy; fi',
    "elif ! pgrep -u caddy -x caddy >/dev/null; then",
    '  echo "systemd is not running: starting caddy in the background (not restarted at boot on this host)" >&2',
    // The output is opened by the caddy user (its own directory), never by root.
    // The whole subshell detached from the SSH session's output, or the session would wait for Caddy to exit.
    `  (cd ${CADDY_HOME} && umask 027 && exec setsid setpriv --reuid caddy --regid caddy --init-groups --inh-caps +net_bind_service --ambient-caps +net_bind_service env HOME=${CADDY_HOME} sh -c ${quote(caddyRun)}) </dev/null >/dev/null 2>&1 &`,
    "  for _ in $(seq 100); do",
    `    if [ -S ${CADDY_ADMIN_SOCKET} ] && pgrep -u caddy -x caddy >/dev/null; then break; fi`,
    "    sleep 0.1",
    "  done",
    "  if ! pgrep -u caddy -x caddy >/dev/null; then",
    `    echo "caddy did not start: the end of ${CADDY_LOG_DIR}/caddy.log:" >&2`,
    `    runuser -u caddy -- tail -n 20 ${CADDY_LOG_DIR}/caddy.log >&2 || true`,
    "    exit 1",
    "  fi",
    'elif [ "$before" != "$after" ]; then',
    "  reload_caddy",
    "fi",
  ].join("\n");
}
