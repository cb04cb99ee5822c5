// Entry point of `pulumi up` / `pulumi preview`: load and validate the stack config, build the pipeline, export outputs.
import * as pulumi from "@pulumi/pulumi";
import { loadFromPulumiRuntime } from "./src/config/fromPulumiRuntime";
import { machineNpmRegistry } from "./src/config/npmRegistry";
import { createPipeline } from "./src/pipeline";

const { config, secrets } = loadFromPulumiRuntime();
const pipeline = createPipeline(config, secrets, {
  npmRegistry: config.vps.npmRegistry ?? machineNpmRegistry(),
});

export const environment = pipeline.environment;
export const hosts = pipeline.hosts;
export const knownHosts = pipeline.knownHosts;
export const deployPublicKey = pipeline.deployPublicKey;
export const files = pipeline.files;
export const stack = pulumi.getStack();
