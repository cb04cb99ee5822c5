import { defineConfig } from "vitest/config";

// Test layers (README, "Tests") are told apart by file suffix, so tests can mirror src/:
//   *.test.ts        unit   config tables, renderers
//   *.lint.test.ts   lint   actionlint, GitHub's workflow parser, shellcheck on rendered output
//   *.stack.test.ts  stack  the Pulumi program under runtime mocks
//   *.host.test.ts   host   real disposable Debian hosts (root on Linux)
const layers = {
  unit: { include: ["test/**/*.test.ts"], exclude: ["test/**/*.{lint,stack,host}.test.ts"] },
  lint: { include: ["test/**/*.lint.test.ts"] },
  stack: { include: ["test/**/*.stack.test.ts"] },
  host: { include: ["test/**/*.host.test.ts"] },
};

export default defineConfig({
  test: {
    projects: Object.entries(layers).map(([name, files]) => ({
      extends: true,
      test: {
        name,
        include: files.include,
        exclude: "exclude" in files ? files.exclude : [],
        testTimeout: name === "host" ? 600_000 : name === "stack" ? 60_000 : 30_000,
        hookTimeout: name === "host" ? 900_000 : 60_000,
        fileParallelism: name !== "host",
      },
    })),
    // Fails the run when a test leaves a file in the work tree (test/workTree/guard.ts).
    globalSetup: ["test/workTree/guard.ts"],
    server: { deps: { inline: ["@actions/workflow-parser"] } },
  },
});
