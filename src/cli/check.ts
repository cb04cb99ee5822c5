// npm run check [-- --dir <project dir>]
// Renders every stack file (Pulumi.<stack>.yaml) of a project directory and proves the product's cross-stack
// invariants (docs/invariants.md #17-#21), offline: no Pulumi CLI, no credentials, no decrypted secrets.
// Exit 0: consistent; 1: a problem (each names the stack and the key); 2: bad usage or no stack files.
import { readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { ConfigError } from "../config/errors";
import { checkProjectFile, loadFromStackFile } from "../config/fromStackFile";
import type { PipelineConfig } from "../config/types";
import { crossStackProblems, crossStackSummary } from "../render/crossStackChecks";

const USAGE = "usage: npm run check [-- --dir <directory with Pulumi.<stack>.yaml files>]";

export function main(argv: string[]): number {
  let values: { dir?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { dir: { type: "string" }, help: { type: "boolean" } },
    }));
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : String(error)}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const dir = resolve(values.dir ?? ".");
  let stackFiles: string[];
  try {
    stackFiles = readdirSync(dir)
      .filter((file) => /^Pulumi\.[^/\\]+\.ya?ml$/.test(file))
      .sort();
  } catch (error) {
    console.error(`${dir}: ${error instanceof Error ? error.message : String(error)}\n${USAGE}`);
    return 2;
  }
  if (stackFiles.length === 0) {
    console.error(`${dir}: no stack files (Pulumi.<stack>.yaml) to check\n${USAGE}`);
    return 2;
  }

  const problems: string[] = [];
  const configs: PipelineConfig[] = [];
  let noteShown = false;
  for (const file of stackFiles) {
    const path = join(dir, file);
    const stack = /^Pulumi\.(.+)\.ya?ml$/.exec(file)?.[1] ?? file;
    try {
      const { note } = checkProjectFile(path);
      if (note !== undefined && !noteShown) console.log(`note: ${note}`);
      noteShown ||= note !== undefined;
      const { config, warnings } = loadFromStackFile(path);
      for (const warning of warnings) console.log(`warning: ${stack}: ${warning}`);
      configs.push(config);
    } catch (error) {
      if (error instanceof ConfigError) problems.push(...error.problems.map((p) => `${stack}: ${p}`));
      else problems.push(`${stack}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  if (problems.length > 0) {
    // Cross-stack checks on a subset of the stacks would report false problems (e.g. "no stack owns ...").
    report(dir, [...problems, "cross-stack checks not run: fix the config of every stack first"]);
    return 1;
  }
  const crossStack = crossStackProblems(configs);
  if (crossStack.length > 0) {
    report(dir, crossStack);
    return 1;
  }
  console.log(`OK ${dir}:`);
  for (const line of crossStackSummary(configs)) console.log(`  ${line}`);
  return 0;
}

function report(dir: string, problems: readonly string[]): void {
  console.error(`${dir}: ${problems.length} problem${problems.length === 1 ? "" : "s"}:`);
  for (const problem of problems) console.error(`  ${problem}`);
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
