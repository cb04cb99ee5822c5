import { describe, expect, it } from "vitest";
import type { PipelineConfig } from "../../../src/config/types";
import {
  maintenancePage,
  renderCaddyfile,
  reverseProxyScript,
  siteHostName,
} from "../../../src/render/shell/steps/reverseProxy";
import { UPSTREAM_HELPER_PATH } from "../../../src/render/hostLayout";
import { writeFile } from "../../../src/render/shell/commands";
import { installSudoersFile } from "../../../src/render/shell/sudoers";
import {
  UPSTREAM_SUDOERS_FILE,
  renderUpstreamHelper,
  upstreamSudoersRule,
} from "../../../src/render/shell/upstreamHelper";
import { production, staging } from "./fixtures";

function withIngress(config: PipelineConfig, ingress: Partial<PipelineConfig["ingress"]>): PipelineConfig {
  return { ...config, ingress: { ...config.ingress, ...ingress } };
}

describe("maintenancePage", () => {
  it("is the configured HTML, or a default page that names the app", () => {
    expect(maintenancePage(withIngress(staging, { maintenancePage: "<p>back at 5</p>" }))).toBe(
      "<p>back at 5</p>",
    );
    expect(maintenancePage(staging)).toContain("<h1>storefront is down for maintenance</h1>");
  });
});

describe("renderCaddyfile", () => {
  it("renders the staging stack (tls acme): the url's host name, the contact email, the routes to the release ports, and retries", () => {
    expect(renderCaddyfile(staging)).toBe(
      [
        "# Managed by pipeline: rendered from the stack config (ingress.*); edits here are overwritten.",
        "{",
        "\tadmin unix//var/lib/caddy/admin.sock",
        "\temail ops@storefront.example.com",
        "\tservers {",
        "\t\tprotocols h1 h2",
        "\t\ttimeouts {",
        "\t\t\tread_body 30s",
        "\t\t\tread_header 10s",
        "\t\t\twrite 120s",
        "\t\t\tidle 300s",
        "\t\t}",
        "\t}",
        "}",
        "",
        "staging.storefront.example.com {",
        "\trequest_body {",
        "\t\tmax_size 10MB",
        "\t}",
        "\theader {",
        '\t\t?Strict-Transport-Security "max-age=31536000"',
        "\t\t?X-Content-Type-Options nosniff",
        "\t\t?X-Frame-Options SAMEORIGIN",
        "\t\t?Referrer-Policy strict-origin-when-cross-origin",
        "\t\t-Server",
        "\t}",
        "\t@maintenance {",
        "\t\tfile {",
        "\t\t\troot /var/lib/pipeline/storefront/maintenance",
        "\t\t\ttry_files /on",
        "\t\t}",
        "\t\tnot path /health",
        "\t}",
        "\thandle @maintenance {",
        "\t\theader {",
        "\t\t\tRetry-After 120",
        "\t\t\tCache-Control no-store",
        "\t\t\t-Last-Modified",
        "\t\t\t-Etag",
        "\t\t}",
        "\t\troot * /etc/caddy/pipeline",
        "\t\trewrite * /maintenance.html",
        "\t\tfile_server {",
        "\t\t\tstatus 503",
        "\t\t}",
        "\t}",
        "\t@second_port {",
        "\t\tfile {",
        "\t\t\troot /var/lib/pipeline/storefront/upstream",
        "\t\t\ttry_files /3001",
        "\t\t}",
        "\t}",
        "\thandle @second_port {",
        "\t\treverse_proxy localhost:3001 {",
        "\t\t\tlb_try_duration 15s",
        "\t\t\tlb_try_interval 100ms",
        "\t\t\tlb_retry_match {",
        "\t\t\t\tmethod GET HEAD",
        "\t\t\t}",
        "\t\t}",
        "\t}",
        "\thandle {",
        "\t\treverse_proxy localhost:3000 {",
        "\t\t\tlb_try_duration 15s",
        "\t\t\tlb_try_interval 100ms",
        "\t\t\tlb_retry_match {",
        "\t\t\t\tmethod GET HEAD",
        "\t\t\t}",
        "\t\t}",
        "\t}",
        "\tlog {",
        "\t\toutput file /var/log/caddy/access.log {",
        "\t\t\troll_size 50MiB",
        "\t\t\troll_keep 10",
        "\t\t\troll_keep_for 336h",
        "\t\t}",
        "\t}",
        "}",
        "",
      ].join("\n"),
    );
  });

  it("uses Caddy's local CA with tls internal, and keeps it out of the system trust store", () => {
    const text = renderCaddyfile(withIngress(staging, { tls: "internal" }));
    expect(text).toContain("\tadmin unix//var/lib/caddy/admin.sock\n\tskip_install_trust\n\tservers {\n");
    expect(text).not.toContain("email");
    expect(text).toContain("staging.storefront.example.com {\n\ttls internal\n\trequest_body {\n");
  });

  it("serves plain http with tls off and passes X-Forwarded-* on only from the trusted proxies", () => {
    const text = renderCaddyfile(
      withIngress(production, { tls: "off", trustedProxies: ["10.0.0.0/8", "2001:db8::/32"] }),
    );
    expect(text).toContain("\nhttp://storefront.example.com {\n\trequest_body {\n");
    // Both release ports get the same proxy options.
    expect(text.split("\t\t\ttrusted_proxies 10.0.0.0/8 2001:db8::/32\n\t\t}\n\t}\n")).toHaveLength(3);
    expect(text).not.toContain("tls internal");
    expect(text).not.toContain("email");
    // Without trusted proxies, none is trusted: Caddy replaces the client's X-Forwarded-* headers.
    expect(renderCaddyfile(withIngress(production, { trustedProxies: [] }))).not.toContain("trusted_proxies");
  });

  it("serves HTTP/1.1 and HTTP/2 only: no HTTP/3 (UDP 443) is advertised, whatever the TLS mode", () => {
    for (const tls of ["acme", "internal", "off"] as const) {
      const text = renderCaddyfile(withIngress(staging, { tls }));
      expect(text).toContain("\tservers {\n\t\tprotocols h1 h2\n\t\ttimeouts {\n");
      expect(text).not.toContain("h3");
    }
  });

  it("retries a GET or HEAD whose connection was reset, not only a GET (Caddy 2.6's default)", () => {
    const retries =
      "\t\t\tlb_try_interval 100ms\n\t\t\tlb_retry_match {\n\t\t\t\tmethod GET HEAD\n\t\t\t}\n\t\t}\n";
    expect(renderCaddyfile(staging).split(retries)).toHaveLength(3);
  });

  it("leaves out the retries with retrySeconds 0 and the write timeout with writeTimeoutSeconds 0", () => {
    const text = renderCaddyfile(withIngress(staging, { retrySeconds: 0, writeTimeoutSeconds: 0 }));
    expect(text).not.toContain("lb_try");
    expect(text).not.toContain("lb_retry_match");
    expect(text).toContain("\t\t\tread_header 10s\n\t\t\tidle 300s\n");
  });

  it("sends requests to app.port + 1 while its flag file exists, else to app.port; maintenance before both", () => {
    const text = renderCaddyfile({ ...production, app: { ...production.app, port: 8080 } });
    const maintenance = text.indexOf("\thandle @maintenance {\n");
    const second = text.indexOf(
      "\t@second_port {\n\t\tfile {\n\t\t\troot /var/lib/pipeline/storefront/upstream\n\t\t\ttry_files /8081\n\t\t}\n\t}\n\thandle @second_port {\n\t\treverse_proxy localhost:8081 {\n",
    );
    const fallback = text.indexOf("\thandle {\n\t\treverse_proxy localhost:8080 {\n");
    expect(maintenance).toBeGreaterThan(0);
    expect(second).toBeGreaterThan(maintenance);
    expect(fallback).toBeGreaterThan(second);
    // Every proxy is inside a handle: none runs beside (after) the maintenance page.
    expect(text).not.toMatch(/^\treverse_proxy/m);
  });

  it("takes the url's host name, without port or path", () => {
    expect(siteHostName({ url: "https://qa.storefront.example.com:8443/app/" })).toBe(
      "qa.storefront.example.com",
    );
  });
});

describe("reverseProxyScript", () => {
  const script = reverseProxyScript(staging);

  it("validates the candidate with Caddy itself, as the caddy user, before it replaces the Caddyfile", () => {
    const validate = script.indexOf('caddy validate --config "$candidate" --adapter caddyfile');
    const replace = script.indexOf('mv -fT "$pipeline_new" /etc/caddy/Caddyfile');
    expect(validate).toBeGreaterThan(0);
    expect(replace).toBeGreaterThan(validate);
    expect(script).toContain("runuser -u caddy -- env HOME=/var/lib/caddy caddy validate");
  });

  it("reloads only when the file was replaced, through the admin socket", () => {
    expect(script).toContain('elif [ "$before" != "$after" ]; then\n  reload_caddy\nfi');
    expect(script).toContain(
      'caddy reload --config /etc/caddy/Caddyfile --adapter caddyfile --address "$address"',
    );
  });

  it("starts Caddy without systemd as the caddy user with only CAP_NET_BIND_SERVICE, its output opened by that user", () => {
    expect(script).toContain(
      "(cd /var/lib/caddy && umask 027 && exec setsid setpriv --reuid caddy --regid caddy --init-groups --inh-caps +net_bind_service --ambient-caps +net_bind_service env HOME=/var/lib/caddy sh -c 'exec caddy run --config /etc/caddy/Caddyfile --adapter caddyfile >>/var/log/caddy/caddy.log 2>&1') </dev/null >/dev/null 2>&1 &",
    );
  });
  it("installs the upstream helper, its root-owned flag directory and its visudo-checked sudoers rule, every run", () => {
    expect(script).toContain(
      "mkdir -p /var/lib/pipeline/storefront\nchmod 0755 /var/lib/pipeline/storefront\nchown root:root /var/lib/pipeline/storefront\n",
    );
    expect(script).toContain(
      "mkdir -p /var/lib/pipeline/storefront/upstream\nchmod 0755 /var/lib/pipeline/storefront/upstream\nchown root:root /var/lib/pipeline/storefront/upstream\n",
    );
    expect(script.indexOf("chown root:root /var/lib/pipeline/storefront\n")).toBeLessThan(
      script.indexOf("mkdir -p /var/lib/pipeline/storefront/upstream"),
    );
    expect(script).toContain(
      writeFile(UPSTREAM_HELPER_PATH, renderUpstreamHelper(staging), { mode: "0755", owner: "root:root" }),
    );
    expect(script).toContain(installSudoersFile(UPSTREAM_SUDOERS_FILE, upstreamSudoersRule(staging)));
    expect(upstreamSudoersRule(staging)).toBe(
      "# Managed by pipeline (pulumi up rewrites this file): the proxy's release port switch.\ndeploy ALL=(root) NOPASSWD: /usr/local/lib/pipeline/proxy-upstream\n",
    );
  });
});
