// Runs this repository's index.ts under the real Pulumi CLI as an inline Automation API program:
//   tsx src/engine/runProgram.ts <preview|up|refresh|destroy> <workDir> <stack>
// The Node.js SDK then serves the language runtime itself (pulumi <op> --client=...), so the engine runs the
// program without the pulumi-language-nodejs binary. Prints the engine's output, then one JSON line:
//   {"ok": true, "changes": {...}} or {"ok": false, "error": "..."}
import path from "node:path";
import { LocalWorkspace, type Stack } from "@pulumi/pulumi/automation";
import { REPO_ROOT } from "./engineLayout";

type Operation = "preview" | "up" | "refresh" | "destroy";

const program = async (): Promise<Record<string, unknown>> => ({
  ...((await import(path.join(REPO_ROOT, "index.ts"))) as Record<string, unknown>),
});

async function run(operation: Operation, stack: Stack): Promise<Record<string, number> | undefined> {
  const onOutput = (text: string): boolean => process.stdout.write(text);
  switch (operation) {
    case "preview":
      return (await stack.preview({ onOutput })).changeSummary;
    case "up":
      return (await stack.up({ onOutput })).summary.resourceChanges;
    case "refresh":
      return (await stack.refresh({ onOutput })).summary.resourceChanges;
    case "destroy":
      return (await stack.destroy({ onOutput })).summary.resourceChanges;
  }
}

async function main(): Promise<void> {
  const [operation, workDir, stackName] = process.argv.slice(2);
  if (!["preview", "up", "refresh", "destroy"].includes(operation ?? "") || !workDir || !stackName)
    throw new Error("usage: runProgram.ts <preview|up|refresh|destroy> <workDir> <stack>");
  const stack = await LocalWorkspace.selectStack(
    { stackName, projectName: "pipeline", program },
    { workDir: path.resolve(workDir) },
  );
  const changes = await run(operation as Operation, stack);
  console.log(JSON.stringify({ ok: true, changes: changes ?? {} }));
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.log(JSON.stringify({ ok: false, error: String(error) }));
    process.exit(1);
  });
}
