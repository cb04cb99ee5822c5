// The smallest valid set of stack config values (keys without the pipeline: namespace), for tests that vary one key.
export function minimalValues(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    repository: "storefront",
    environment: "staging",
    branch: "staging",
    url: "https://staging.example.com",
    ingress: { acmeEmail: "ops@example.com" },
    hosts: [
      {
        host: "vps1.example.com",
        hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINhutGPTBgh7Wqwd4f1HDUq79784pQkyshJSyQiosP2R",
      },
    ],
    app: { name: "storefront" },
    ...overrides,
  };
}
