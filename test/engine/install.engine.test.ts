// npm run engine:install, as .ci/run calls it before this layer: the pinned CLI, and a precise word for every piece.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { missingReplaces, probeModule, readGoMod } from "../../src/engine/goModules";
import { installEngine, readInstallReport } from "../../src/engine/install";
import { BUILD_MODULE_DIR, engineLayout, REPO_ROOT } from "../../src/engine/engineLayout";
import { enginePieces } from "../../src/engine/pieces";
import { installedCli } from "./engineWorkspace";

const pieces = enginePieces(REPO_ROOT);
const cliPiece = pieces.find((piece) => piece.kind === "cli");

describe("the engine's build module (engine/go.mod)", () => {
  it("requires the CLI at exactly the version of @pulumi/pulumi in package-lock.json", () => {
    const lock = JSON.parse(readFileSync(path.join(REPO_ROOT, "package-lock.json"), "utf8")) as {
      packages: Record<string, { version: string }>;
    };
    const sdk = lock.packages["node_modules/@pulumi/pulumi"]?.version;
    expect(cliPiece?.version).toBe(sdk);
    expect(readGoMod(path.join(BUILD_MODULE_DIR, "go.mod")).requires.get(cliPiece?.module ?? "")).toBe(sdk);
  });

  it("states every replace directive of the CLI module's own go.mod", () => {
    if (!cliPiece) throw new Error("no CLI piece");
    const probe = probeModule(cliPiece.module, cliPiece.version);
    if (!probe.served) throw new Error(probe.reason);
    const cliGoMod = readGoMod(probe.goModFile);
    expect(cliGoMod.replaces.length).toBeGreaterThan(0);
    expect(
      missingReplaces(cliGoMod, cliPiece.version, readGoMod(path.join(BUILD_MODULE_DIR, "go.mod"))),
    ).toEqual([]);
  });
});

describe("npm run engine:install", () => {
  it("built the CLI that prints the pinned version", () => {
    const version = execFileSync(installedCli(), ["version"], {
      encoding: "utf8",
      env: { ...process.env, PULUMI_SKIP_UPDATE_CHECK: "true" },
    }).trim();
    expect(version).toBe(`v${cliPiece?.version}`);
  });

  it("reports every piece the program needs, with what the Go toolchain answered for each one it could not build", () => {
    const report = readInstallReport(engineLayout()) ?? [];
    expect(report.map((r) => `${r.kind} ${r.name} ${r.version}`)).toEqual(
      pieces.map((p) => `${p.kind} ${p.name} ${p.version}`),
    );
    for (const piece of report.filter((r) => r.status === "unavailable" || r.status === "failed"))
      expect(piece.reason, piece.name).toMatch(/\S/);
    for (const piece of report.filter((r) => r.status === "built" || r.status === "cached"))
      expect(piece.binary, piece.name).toMatch(/^\//);
  });

  it("a second install rebuilds nothing", () => {
    const lines: string[] = [];
    const again = installEngine(pieces, engineLayout(), (line) => lines.push(line));
    expect(again.filter((r) => r.status === "built")).toEqual([]);
    expect(again.find((r) => r.kind === "cli")?.status).toBe("cached");
    expect(lines.filter((line) => line.includes("building"))).toEqual([]);
  });
});
