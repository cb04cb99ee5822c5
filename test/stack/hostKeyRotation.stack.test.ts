import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { UNMATCHABLE_HOST_KEY } from "../../src/components/vps/provisionedHost";
import { createPipeline } from "../../src/pipeline";
import { ROTATE_HOST_KEY_STEP } from "../../src/render/shell/steps/hostKeyRotation";
import { exampleStack } from "./fixtures";
import { AWS_MOCK, awsCallAnswer, plain, settled } from "./mockRuntime";

const BOOTSTRAP_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINhutGPTBgh7Wqwd4f1HDUq79784pQkyshJSyQiosP2R";

/**
 * An EC2 host whose rotation step prints something that is not an ed25519 public key (a broken provider, a script
 * that failed halfway): no later step may connect unpinned (an empty hostKey makes the provider check none), so
 * they are pinned to a key no host has, and the update fails with the reason.
 */
describe("a host key rotation that prints no key", () => {
  it("pins the later steps to a key no host presents, and reports an error", async () => {
    const commands: Array<{ name: string; hostKey: unknown }> = [];
    const runtime = { resources: [] as string[] };
    pulumi.runtime.setMocks(
      {
        newResource: (args) => {
          const state: Record<string, unknown> = { ...args.inputs };
          runtime.resources.push(args.name);
          if (args.type === "command:remote:Command") {
            const connection = plain(args.inputs["connection"]) as Record<string, unknown>;
            commands.push({ name: args.name, hostKey: connection["hostKey"] });
            state["stdout"] = "sudo: a password is required\n";
          }
          if (args.type === "tls:index/privateKey:PrivateKey")
            state["publicKeyOpenssh"] = `${BOOTSTRAP_KEY}\n`;
          if (args.type === "aws:ec2/eip:Eip") state["publicIp"] = AWS_MOCK.elasticIp(1);
          return { id: `${args.name}-id`, state };
        },
        call: (args) => awsCallAnswer(args.token, args.inputs as Record<string, unknown>) ?? args.inputs,
      },
      "pipeline",
      "staging",
      false,
    );
    const { config, secrets } = exampleStack("staging", {
      hosts: undefined,
      aws: { hosts: { count: 1, sshCidrs: ["198.51.100.0/24"] } },
    });
    createPipeline(config, secrets, { npmRegistry: "https://registry.test/" });
    await settled(runtime);
    expect(pulumi.log.hasErrors()).toBe(true);
    const [rotation, ...rest] = commands;
    expect(rotation?.name).toMatch(new RegExp(`-aws-1-${ROTATE_HOST_KEY_STEP}$`));
    expect(rotation?.hostKey).toBe(`${BOOTSTRAP_KEY}\n`);
    expect(rest.length).toBeGreaterThan(5);
    for (const step of rest) expect(step.hostKey, step.name).toBe(UNMATCHABLE_HOST_KEY);
  });
});
