import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { exampleStack } from "./fixtures";
import { createPipeline } from "../../src/pipeline";

const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINhutGPTBgh7Wqwd4f1HDUq79784pQkyshJSyQiosP2R";

/**
 * The laziest mocks there are: every resource and every call echoes its inputs, so the deploy key has no public
 * half and reviewers have no ids. The program must still register everything and report those values as errors
 * (which fail a real `pulumi up`), not crash; known_hosts comes from the configured host keys alone.
 */
describe("under mocks that echo inputs", () => {
  it("registers every resource and reports the missing provider values as errors", async () => {
    const types: string[] = [];
    pulumi.runtime.setMocks(
      {
        newResource: (args) => {
          types.push(args.type);
          return { id: `${args.name}-id`, state: args.inputs };
        },
        call: (args) => args.inputs,
      },
      "pipeline",
      "production",
      false,
    );
    const { config, secrets } = exampleStack("production", {
      hosts: [
        { host: "web-1.example.com", hostKey: HOST_KEY },
        { host: "web-2.example.com", port: 2222, hostKey: HOST_KEY },
      ],
    });
    const out = createPipeline(config, secrets, { npmRegistry: "https://registry.test/" });
    const knownHosts = await new Promise<string>((resolve) => out.knownHosts.apply(resolve));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(knownHosts).toBe(`web-1.example.com ${HOST_KEY}\n[web-2.example.com]:2222 ${HOST_KEY}\n`);
    expect(pulumi.log.hasErrors()).toBe(true);
    expect(types.filter((t) => t === "command:remote:Command").length).toBeGreaterThan(10);
    expect(types).toContain("github:index/repositoryEnvironment:RepositoryEnvironment");
    expect(types).toContain("github:index/actionsEnvironmentSecret:ActionsEnvironmentSecret");
  });
});
