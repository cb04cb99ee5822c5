// The ingress group (the reverse proxy of every host): defaults, and refusals that name the key.
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/config/errors";
import { loadFromValues } from "../../src/config/fromValues";

const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGpE8hTFaInvZ6s2e5N2m7cDqtVnQ4BqB0mRQ3Z1jr0K";

function values(ingress?: unknown, url = "https://shop.example.com"): Record<string, unknown> {
  return {
    repository: "shop",
    environment: "production",
    branch: "main",
    url,
    hosts: [{ host: "vps1.example.com", hostKey: HOST_KEY }],
    app: { name: "shop" },
    ...(ingress === undefined ? {} : { ingress }),
  };
}

function problemsOf(ingress?: unknown, url?: string): string[] {
  try {
    loadFromValues(values(ingress, url), "acme", { stack: "production", requireSecrets: false });
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
  return [];
}

describe("ingress", () => {
  it("needs a url the proxy serves (https, port 443) unless TLS ends in front of the hosts", () => {
    const internal = { tls: "internal" };
    expect(problemsOf(internal, "http://shop.example.com")).toEqual([
      "pipeline:url: is http, but the hosts' proxy serves ingress.tls internal on https port 443, and the deploy workflows check url through it (use https://shop.example.com, or set ingress.tls to off when TLS ends at a load balancer in front)",
    ]);
    expect(problemsOf(internal, "https://shop.example.com:3000/")[0]).toMatch(
      /^pipeline:url: names port 3000, but/,
    );
    expect(problemsOf(internal, "https://shop.example.com:443/app")).toEqual([]);
    expect(problemsOf({ tls: "off" }, "http://shop.example.com:8080")).toEqual([]);
  });

  it("defaults to ACME with sensible limits and timeouts", () => {
    const { config } = loadFromValues(values({ acmeEmail: "ops@shop.example.com" }), "acme", {
      stack: "production",
      requireSecrets: false,
    });
    expect(config.ingress).toEqual({
      tls: "acme",
      acmeEmail: "ops@shop.example.com",
      trustedProxies: [],
      maxBodyMegabytes: 10,
      readTimeoutSeconds: 30,
      writeTimeoutSeconds: 120,
      idleTimeoutSeconds: 300,
      maintenanceRetryAfterSeconds: 120,
      retrySeconds: 15,
    });
  });

  it("requires acmeEmail with tls acme (the default), naming the key", () => {
    expect(problemsOf()).toEqual([
      "pipeline:ingress.acmeEmail: is required when ingress.tls is acme (the contact of the Let's Encrypt account, e.g. ops@example.com; or set ingress.tls to internal or off)",
    ]);
    expect(problemsOf({ tls: "internal" })).toEqual([]);
    expect(problemsOf({ tls: "off", trustedProxies: ["10.0.0.0/8", "192.0.2.7", "2001:db8::/32"] })).toEqual(
      [],
    );
  });

  it("refuses tls acme for a url that names an IP address", () => {
    const problems = (() => {
      try {
        loadFromValues(
          { ...values({ acmeEmail: "ops@shop.example.com" }), url: "https://203.0.113.10" },
          "acme",
          {
            stack: "production",
            requireSecrets: false,
          },
        );
      } catch (error) {
        if (error instanceof ConfigError) return [...error.problems];
        throw error;
      }
      return [];
    })();
    expect(problems).toEqual([
      "pipeline:ingress.tls: is acme, but url names an IP address, which Let's Encrypt does not certify (use a DNS name in url, or set ingress.tls to internal or off)",
    ]);
  });

  it.each([
    ["an unknown tls mode", { tls: "letsencrypt" }, /^pipeline:ingress\.tls: must be acme, internal or off/],
    ["an email without @", { acmeEmail: "ops" }, /^pipeline:ingress\.acmeEmail: is not an email address/],
    [
      "a trusted proxy that is no address",
      { tls: "off", trustedProxies: ["lb.example.com"] },
      /^pipeline:ingress\.trustedProxies\[0\]: is not an IP address or CIDR range/,
    ],
    [
      "a prefix too long",
      { tls: "off", trustedProxies: ["10.0.0.0/33"] },
      /^pipeline:ingress\.trustedProxies\[0\]: is not an IP address or CIDR range/,
    ],
    [
      "a body limit of 0",
      { tls: "internal", maxBodyMegabytes: 0 },
      /^pipeline:ingress\.maxBodyMegabytes: must be at least 1/,
    ],
    [
      "retries over 5 minutes",
      { tls: "internal", retrySeconds: 301 },
      /^pipeline:ingress\.retrySeconds: must be at most 300/,
    ],
    [
      "a fractional timeout",
      { tls: "internal", readTimeoutSeconds: 1.5 },
      /^pipeline:ingress\.readTimeoutSeconds: must be a whole number/,
    ],
    ["an unknown key", { tls: "internal", port: 8443 }, /^pipeline:ingress/],
  ])("refuses %s", (_label, ingress, expected) => {
    const problems = problemsOf(ingress);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(expected);
  });
});
