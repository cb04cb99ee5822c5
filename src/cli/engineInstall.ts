// npm run engine:install: builds the Pulumi CLI, its Node.js language host and the resource plugins from the Go
// module proxy at the versions package-lock.json pins, into a cache outside the repository (idempotent).
import { describe, installEngine } from "../engine/install";
import { engineHome, engineLayout, REPO_ROOT } from "../engine/engineLayout";
import { enginePieces } from "../engine/pieces";

if (require.main === module) {
  const home = engineHome();
  const started = Date.now();
  console.log(`engine: installing into ${home}`);
  const results = installEngine(enginePieces(REPO_ROOT), engineLayout(home), (line) => console.log(line));
  console.log(`engine: done in ${Math.round((Date.now() - started) / 1000)} s`);
  for (const result of results) console.log(describe(result));
  // The CLI is what the engine tests need first; a piece the module proxy lacks is reported above, not fatal.
  const cli = results.find((r) => r.kind === "cli");
  process.exit(cli?.binary ? 0 : 1);
}
