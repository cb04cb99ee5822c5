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

describe("ingress.tls acme with several hosts", () => {
  const EMAIL = { acmeEmail: "ops@shop.example.com" };
  const REFUSED =
    "pipeline:ingress.tls: is acme (the default) with 2 hosts, but each host would ask Let's Encrypt for the url's host name with its own account and storage, and the HTTP challenge can reach another host, so a certificate comes only by chance and the failures run into Let's Encrypt's rate limits (end TLS at a load balancer in front: set ingress.tls to off and ingress.trustedProxies to the load balancer's addresses; or use one host)";

  function problemsIn(stackValues: Record<string, unknown>): string[] {
    try {
      loadFromValues(stackValues, "acme", { stack: "production", requireSecrets: false });
    } catch (error) {
      if (error instanceof ConfigError) return [...error.problems];
      throw error;
    }
    return [];
  }

  function listedHosts(count: number, ingress?: unknown): Record<string, unknown> {
    const hosts = Array.from({ length: count }, (_, i) => ({
      host: `vps${i + 1}.example.com`,
      hostKey: HOST_KEY,
    }));
    return { ...values(ingress), hosts };
  }

  function awsHosts(count: number, ingress?: unknown): Record<string, unknown> {
    const stackValues: Record<string, unknown> = {
      ...values(ingress),
      aws: { hosts: { count, sshCidrs: ["203.0.113.0/24"] } },
    };
    delete stackValues.hosts;
    return stackValues;
  }

  it("refuses two listed hosts, naming the key, why, and the alternatives", () => {
    expect(problemsIn(listedHosts(2, { tls: "acme", ...EMAIL }))).toEqual([REFUSED]);
  });

  it("refuses it when acme is only the default, with the other problems of the run", () => {
    expect(problemsIn(listedHosts(2))).toEqual([
      "pipeline:ingress.acmeEmail: is required when ingress.tls is acme (the contact of the Let's Encrypt account, e.g. ops@example.com; or set ingress.tls to internal or off)",
      REFUSED,
    ]);
  });

  it("refuses aws.hosts.count 2", () => {
    expect(problemsIn(awsHosts(2, EMAIL))).toEqual([REFUSED]);
  });

  it("accepts one host with acme, listed or created on AWS", () => {
    expect(problemsIn(listedHosts(1, EMAIL))).toEqual([]);
    expect(problemsIn(awsHosts(1, EMAIL))).toEqual([]);
  });

  it.each([
    ["off behind a load balancer", { tls: "off", trustedProxies: ["192.0.2.10/32"] }],
    ["internal", { tls: "internal" }],
  ])("accepts several hosts with tls %s", (_label, ingress) => {
    expect(problemsIn(listedHosts(2, ingress))).toEqual([]);
    expect(problemsIn(awsHosts(3, ingress))).toEqual([]);
  });
});
