// Per-host files written into the overlay's upper layer before the guest starts (they shadow the image's copies).
import type { AptSource } from "./sources";

export interface GuestFile {
  path: string;
  content: string;
  mode: number;
}

export interface GuestSettings {
  hostname: string;
  proxyUrl: string;
  npmRegistry: string;
  debianSources: readonly AptSource[];
  authorizedKey: string;
  /** The image's own /etc/environment and sshd_config, which the per-host copies extend. */
  imageEnvironment: string;
  imageSshdConfig: string;
}

function proxyEnvironment(proxyUrl: string): string[] {
  return [
    `http_proxy=${proxyUrl}`,
    `https_proxy=${proxyUrl}`,
    `HTTP_PROXY=${proxyUrl}`,
    `HTTPS_PROXY=${proxyUrl}`,
    "no_proxy=localhost,127.0.0.1",
    "NO_PROXY=localhost,127.0.0.1",
  ];
}

function environmentFile(settings: GuestSettings): string {
  const lines = [
    ...settings.imageEnvironment.split("\n").filter(Boolean),
    ...proxyEnvironment(settings.proxyUrl),
    `npm_config_registry=${settings.npmRegistry}`,
  ];
  return `${lines.join("\n")}\n`;
}

function aptProxyConfig(proxyUrl: string): string {
  return `Acquire::http::Proxy "${proxyUrl}";\nAcquire::https::Proxy "${proxyUrl}";\n`;
}

function aptSourcesFile(sources: readonly AptSource[]): string {
  const stanzas = sources.map((source) =>
    [
      "Types: deb",
      `URIs: ${source.uri}`,
      `Suites: ${source.suites.join(" ")}`,
      `Components: ${source.components.join(" ")}`,
      ...(source.signedBy ? [`Signed-By: ${source.signedBy}`] : []),
    ].join("\n"),
  );
  return `${stanzas.join("\n\n")}\n`;
}

/** npm installed under /usr/local (as provisioning does) reads this as its global config. */
function npmrc(settings: GuestSettings): string {
  return (
    [
      `registry=${settings.npmRegistry}`,
      `proxy=${settings.proxyUrl}`,
      `https-proxy=${settings.proxyUrl}`,
      "noproxy=localhost,127.0.0.1",
    ].join("\n") + "\n"
  );
}

/**
 * Starts permissive on purpose (root login, passwords) so provisioning that hardens sshd has something to change.
 * Placed after the Include line, so drop-ins in sshd_config.d (first value wins) still override it.
 */
function initialSshdConfig(imageSshdConfig: string): string {
  const block = [
    "# pipeline-testhost: initial, deliberately permissive settings",
    "HostKey /etc/ssh/ssh_host_ed25519_key",
    "PermitRootLogin yes",
    "PasswordAuthentication yes",
    "",
  ].join("\n");
  const include = /^Include \/etc\/ssh\/sshd_config\.d\/\*\.conf\n/m;
  return include.test(imageSshdConfig)
    ? imageSshdConfig.replace(include, (line) => `${line}\n${block}`)
    : `${block}\n${imageSshdConfig}`;
}

export function guestFiles(settings: GuestSettings): GuestFile[] {
  return [
    { path: "etc/hostname", content: `${settings.hostname}\n`, mode: 0o644 },
    {
      path: "etc/hosts",
      content: `127.0.0.1\tlocalhost\n127.0.1.1\t${settings.hostname}\n::1\tlocalhost\n`,
      mode: 0o644,
    },
    { path: "etc/resolv.conf", content: "", mode: 0o644 },
    { path: "etc/environment", content: environmentFile(settings), mode: 0o644 },
    {
      path: "etc/apt/apt.conf.d/80pipeline-testhost-proxy",
      content: aptProxyConfig(settings.proxyUrl),
      mode: 0o644,
    },
    {
      path: "etc/apt/sources.list.d/debian.sources",
      content: aptSourcesFile(settings.debianSources),
      mode: 0o644,
    },
    { path: "usr/local/etc/npmrc", content: npmrc(settings), mode: 0o644 },
    { path: "etc/ssh/sshd_config", content: initialSshdConfig(settings.imageSshdConfig), mode: 0o644 },
    { path: "root/.ssh/authorized_keys", content: `${settings.authorizedKey}\n`, mode: 0o600 },
  ];
}
