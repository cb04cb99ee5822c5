// The pieces of a Pulumi engine this program needs, each a Go module at the exact version its npm package asks for.
import { readFileSync } from "node:fs";
import path from "node:path";

export type PieceKind = "cli" | "language" | "resource";

export interface EnginePiece {
  /** Plugin name as the engine knows it (`pulumi plugin install resource <name>`), or "pulumi" for the CLI. */
  name: string;
  kind: PieceKind;
  /** Go module that holds the main package, and the main package itself. */
  module: string;
  mainPackage: string;
  /** Semantic version without the leading "v". */
  version: string;
  /** The npm package whose installed version decides `version`. */
  npmPackage: string;
  /** Go package whose `Version` the linker sets, as Pulumi's own builds do (the CLI prints it, the SDK checks it). */
  versionPackage?: string;
}

interface NpmPackageJson {
  version: string;
  pulumi?: { resource?: boolean; name?: string; version?: string };
}

function installedPackage(repoRoot: string, name: string): NpmPackageJson {
  return JSON.parse(
    readFileSync(path.join(repoRoot, "node_modules", name, "package.json"), "utf8"),
  ) as NpmPackageJson;
}

/** The engine runs the CLI and the Node.js language host of the SDK's own release. */
function sdkVersion(repoRoot: string): string {
  return installedPackage(repoRoot, "@pulumi/pulumi").version;
}

/**
 * The version an SDK package asks the engine for: its package.json's `pulumi.version` (what the SDK sends in
 * each resource registration), which is what `pulumi plugin install` must provide for nothing to be downloaded.
 */
function pluginVersion(repoRoot: string, npmPackage: string, pluginName: string): string {
  const pkg = installedPackage(repoRoot, npmPackage);
  if (pkg.pulumi?.resource !== true || pkg.pulumi.name !== pluginName || !pkg.pulumi.version)
    throw new Error(
      `${npmPackage}: package.json does not name the resource plugin "${pluginName}" and its version`,
    );
  return pkg.pulumi.version;
}

/** Go modules of the resource providers, by the major version of their npm SDK. */
const RESOURCE_PLUGINS: readonly { name: string; npmPackage: string; module: (major: string) => string }[] = [
  {
    name: "command",
    npmPackage: "@pulumi/command",
    module: () => "github.com/pulumi/pulumi-command/provider",
  },
  { name: "tls", npmPackage: "@pulumi/tls", module: (m) => `github.com/pulumi/pulumi-tls/provider/v${m}` },
  {
    name: "github",
    npmPackage: "@pulumi/github",
    module: (m) => `github.com/pulumi/pulumi-github/provider/v${m}`,
  },
  { name: "aws", npmPackage: "@pulumi/aws", module: (m) => `github.com/pulumi/pulumi-aws/provider/v${m}` },
  {
    name: "random",
    npmPackage: "@pulumi/random",
    module: (m) => `github.com/pulumi/pulumi-random/provider/v${m}`,
  },
];

const majorOf = (version: string): string => version.split(".")[0] ?? version;

/** Every piece, with versions read from the installed npm packages (npm ci installs exactly package-lock.json). */
export function enginePieces(repoRoot: string): EnginePiece[] {
  const sdk = sdkVersion(repoRoot);
  const pieces: EnginePiece[] = [
    {
      name: "pulumi",
      kind: "cli",
      module: `github.com/pulumi/pulumi/pkg/v${majorOf(sdk)}`,
      mainPackage: `github.com/pulumi/pulumi/pkg/v${majorOf(sdk)}/cmd/pulumi`,
      version: sdk,
      npmPackage: "@pulumi/pulumi",
      versionPackage: `github.com/pulumi/pulumi/sdk/v${majorOf(sdk)}/go/common/version`,
    },
    {
      name: "nodejs",
      kind: "language",
      module: `github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v${majorOf(sdk)}`,
      mainPackage: `github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v${majorOf(sdk)}`,
      version: sdk,
      npmPackage: "@pulumi/pulumi",
      versionPackage: `github.com/pulumi/pulumi/sdk/v${majorOf(sdk)}/go/common/version`,
    },
  ];
  for (const plugin of RESOURCE_PLUGINS) {
    const version = pluginVersion(repoRoot, plugin.npmPackage, plugin.name);
    const module = plugin.module(majorOf(version));
    pieces.push({
      name: plugin.name,
      kind: "resource",
      module,
      mainPackage: `${module}/cmd/pulumi-resource-${plugin.name}`,
      version,
      npmPackage: plugin.npmPackage,
    });
  }
  return pieces;
}
