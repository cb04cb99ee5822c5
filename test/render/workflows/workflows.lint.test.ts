// Lint layer: GitHub's own workflow parser, shellcheck on every run: block and generated script, and this
// project's rules. actionlint runs in its own file (actionlint.lint.test.ts).
import { convertWorkflowTemplate, NoOperationTraceWriter, parseWorkflow } from "@actions/workflow-parser";
import { describe, expect, it } from "vitest";
import {
  allWorkflowFiles,
  asBashFile,
  generatedScripts,
  runBlocks,
  shellcheck,
  shellcheckAvailable,
  type LintedFile,
} from "./lintCorpus";
import { ownRuleFindings } from "./ownRules";

async function parserErrors(file: LintedFile): Promise<string[]> {
  const parsed = parseWorkflow({ name: file.label, content: file.content }, new NoOperationTraceWriter());
  const errors = parsed.context.errors.getErrors().map((e) => e.message);
  if (errors.length > 0 || parsed.value === undefined) return errors;
  const template = await convertWorkflowTemplate(parsed.context, parsed.value);
  return [...errors, ...(template.errors ?? []).map((e) => e.Message)];
}

const BAD_WORKFLOW = `on: push
permissions:
  contents: write
jobs:
  build:
    runs-on: ubuntu-latest
    timeout-minutes: 5
    step:
      - uses: actions/checkout@v4
      - run: echo "\${{ github.event.head_commit.message }}"
`;

describe("GitHub's workflow parser", () => {
  it.each(allWorkflowFiles())("$label parses without errors", async (file) => {
    expect(await parserErrors(file)).toEqual([]);
  });

  it("reports errors in a broken workflow", async () => {
    expect((await parserErrors({ label: "bad.yml", content: BAD_WORKFLOW })).length).toBeGreaterThan(0);
  });
});

describe("shellcheck", () => {
  it("is installed (apt-get install -y shellcheck): a missing linter fails the lint layer", () => {
    expect(shellcheckAvailable()).toBe(true);
  });

  const blocks = allWorkflowFiles().flatMap(runBlocks);
  it.each(blocks)("$label has no findings", ({ script }) => {
    expect(shellcheck(asBashFile(script))).toEqual([]);
  });

  it.each(generatedScripts())("script $label has no findings", ({ content }) => {
    expect(shellcheck(content)).toEqual([]);
  });

  it("finds the problems in a bad run: block", () => {
    const codes = shellcheck(
      asBashFile('cd $DIR\nfor f in $(ls *.txt); do echo $f; done\necho "${{ env.X }}'),
    );
    expect(codes.length).toBeGreaterThan(0);
  });
});

describe("own rules", () => {
  it.each(allWorkflowFiles())("$label follows them", ({ content }) => {
    expect(ownRuleFindings(content)).toEqual([]);
  });

  it("flags unpinned actions, write-all tops, missing job permissions, injectable run: and keyscan", () => {
    const bad = `${BAD_WORKFLOW.replace("step:", "steps:")}      - run: ssh-keyscan host >> ~/.ssh/known_hosts\n`;
    const findings = ownRuleFindings(bad);
    expect(findings).toEqual(
      expect.arrayContaining([
        expect.stringContaining("not pinned"),
        expect.stringContaining("top-level permissions grant more than read"),
        expect.stringContaining("job build has no permissions"),
        expect.stringContaining("user-controlled expression in run:"),
        expect.stringContaining("ssh-keyscan"),
        expect.stringContaining("persist-credentials"),
      ]),
    );
  });
});
