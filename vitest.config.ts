import { defineConfig } from "vitest/config";

// Test layers (README, "Tests") are told apart by file suffix, so tests can mirror src/:
//   *.test.ts        unit   config tables, renderers
//   *.lint.test.ts   lint   actionlint, GitHub's workflow parser, shellcheck on rendered output
//   *.stack.test.ts  stack  the Pulumi program under runtime mocks
//   *.host.test.ts   host   real disposable Debian hosts (root on Linux)
//   *.engine.test.ts engine the real Pulumi CLI that npm run engine:install built
const layers = {
  unit: { include: ["test/**/*.test.ts"], exclude: ["test/**/*.{lint,stack,host,engine}.test.ts"] },
  lint: { include: ["test/**/*.lint.test.ts"] },
  stack: { include: ["test/**/*.stack.test.ts"] },
  host: { include: ["test/**/*.host.test.ts"] },
  engine: { include: ["test/**/*.engine.test.ts"] },
};

const slowLayers = new Set(["host", "engine"]);

export default defineConfig({
  test: {
    projects: Object.entries(layers).map(([name, files]) => ({
      extends: true,
      test: {
        name,
        include: files.include,
        exclude: "exclude" in files ? files.exclude : [],
        testTimeout: slowLayers.has(name) ? 600_000 : name === "stack" ? 60_000 : 30_000,
        hookTimeout: slowLayers.has(name) ? 900_000 : 60_000,
        fileParallelism: !slowLayers.has(name),
      },
    })),
    // Fails the run when a test leaves a file in the work tree (test/workTree/guard.ts).
    globalSetup: ["test/workTree/guard.ts"],
    server: { deps: { inline: ["@actions/workflow-parser"] } },
  },
});
