// The shape of the code base: imports form no cycle (type-only imports count: they couple the files just the
// same), and no two source files share a name for different concepts.
import { readdirSync } from "node:fs";
import { basename, join, relative } from "node:path";
import { parseCircular, parseDependencyTree } from "dpdm";
import { describe, expect, it } from "vitest";

const ROOT = join(__dirname, "..");
const SOURCE_DIRS = ["src", "bench"];

function typeScriptFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { recursive: true, encoding: "utf8" })
    .filter((file) => file.endsWith(".ts"))
    .map((file) => join(dir, file));
}

describe("source structure", () => {
  it("has no import cycle under src/ and bench/ (index.ts included)", async () => {
    const entries = [...SOURCE_DIRS.flatMap(typeScriptFiles), "index.ts"];
    const tree = await parseDependencyTree(entries, {
      cwd: ROOT,
      context: ROOT,
      tsconfig: join(ROOT, "tsconfig.json"),
      transform: false,
      skipDynamicImports: false,
    });
    const cycles = parseCircular(tree).map((cycle) => cycle.map((file) => relative(ROOT, file)).join(" -> "));
    expect(cycles).toEqual([]);
  });

  it("gives every source file a name of its own (index.ts aside)", () => {
    const byName = new Map<string, string[]>();
    for (const file of SOURCE_DIRS.flatMap(typeScriptFiles)) {
      const name = basename(file);
      if (name !== "index.ts") byName.set(name, [...(byName.get(name) ?? []), file]);
    }
    const shared = [...byName.values()].filter((files) => files.length > 1);
    expect(shared).toEqual([]);
  });
});
