// npm run render -- --stack <name> [--out <dir>] | --config <file>
// Renders every file a stack commits, offline: no Pulumi CLI, no credentials, no decrypted secrets.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { ConfigError } from "../config/errors";
import { checkProjectFile, loadFromStackFile } from "../config/fromStackFile";
import { formatObjectTable, managedGitHubObjects } from "../render/managedObjects";
import { renderRepositoryFiles } from "../render/workflows";

const USAGE =
  "usage: npm run render -- --stack <name> [--out <dir>]   or   npm run render -- --config <Pulumi.<name>.yaml> [--out <dir>]";

export function main(argv: string[]): number {
  const { values } = parseArgs({
    args: argv,
    options: {
      stack: { type: "string" },
      config: { type: "string" },
      out: { type: "string" },
      help: { type: "boolean" },
    },
  });
  if (values.help || (!values.stack && !values.config)) {
    console.error(USAGE);
    return values.help ? 0 : 2;
  }
  const stackFile = resolve(values.config ?? `Pulumi.${values.stack}.yaml`);
  const outDir = resolve(values.out ?? join("out", values.stack ?? "stack"));
  if (!existsSync(stackFile)) {
    const known = readdirSync(dirname(stackFile))
      .map((f) => /^Pulumi\.(.+)\.ya?ml$/.exec(f)?.[1])
      .filter((name) => name !== undefined);
    console.error(`${stackFile}: no such stack file (stacks here: ${known.join(", ") || "none"})`);
    return 1;
  }
  try {
    const { note } = checkProjectFile(stackFile);
    if (note !== undefined) console.log(`note: ${note}`);
    const { config, encryptedKeys, warnings } = loadFromStackFile(stackFile);
    for (const warning of warnings) console.log(`warning: ${warning}`);
    const files = renderRepositoryFiles(config);
    writeAtomically(outDir, files);
    console.log(`stack ${config.stack}: ${files.length} files written under ${outDir}`);
    for (const file of files) console.log(`  ${file.path}`);
    console.log(
      `\nGitHub objects managed by stack ${config.stack} (${config.githubOwner}/${config.repository}):\n`,
    );
    console.log(formatObjectTable(managedGitHubObjects(config)));
    if (encryptedKeys.length > 0)
      console.log(`\nnot needed to render (encrypted): ${encryptedKeys.join(", ")}`);
    return 0;
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`${stackFile}: ${error.message}`);
      return 1;
    }
    console.error(error instanceof Error ? error.message : String(error));
    return 1;
  }
}

/** Writes into a sibling temp dir, then swaps it in: a failed render leaves the previous output untouched. */
function writeAtomically(outDir: string, files: ReadonlyArray<{ path: string; content: string }>): void {
  mkdirSync(dirname(outDir), { recursive: true });
  const staging = mkdtempSync(`${outDir}.tmp-`);
  for (const file of files) {
    const target = join(staging, file.path);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, file.content);
  }
  rmSync(outDir, { recursive: true, force: true });
  renameSync(staging, outDir);
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
