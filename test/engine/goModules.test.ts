import { describe, expect, it } from "vitest";
import { type GoModSummary, missingReplaces, withoutProxyAddress } from "../../src/engine/goModules";

const cliModule: GoModSummary = {
  module: "github.com/pulumi/pulumi/pkg/v3",
  requires: new Map([["github.com/pulumi/pulumi/sdk/v3", "3.248.0"]]),
  replaces: [
    { from: "github.com/pulumi/pulumi/sdk/v3", to: "../sdk" },
    {
      from: "github.com/atotto/clipboard",
      to: "github.com/tgummerer/clipboard",
      toVersion: "v0.0.0-20241001131231-d02d263e614e",
    },
  ],
};

const buildModule = (requires: [string, string][], replaces: GoModSummary["replaces"]): GoModSummary => ({
  module: "pipeline/engine",
  requires: new Map(requires),
  replaces,
});

describe("missingReplaces: what a build module must restate of a module's replace directives", () => {
  it("is satisfied by the same versioned replace and the sibling module required at the piece's version", () => {
    const ok = buildModule(
      [["github.com/pulumi/pulumi/sdk/v3", "3.248.0"]],
      [cliModule.replaces[1] as GoModSummary["replaces"][number]],
    );
    expect(missingReplaces(cliModule, "3.248.0", ok)).toEqual([]);
  });

  it("names a versioned replace that the build module leaves out or states differently", () => {
    const other = buildModule(
      [["github.com/pulumi/pulumi/sdk/v3", "3.248.0"]],
      [{ from: "github.com/atotto/clipboard", to: "github.com/atotto/clipboard", toVersion: "v0.1.4" }],
    );
    expect(missingReplaces(cliModule, "3.248.0", other)).toEqual([
      "github.com/pulumi/pulumi/pkg/v3 replaces github.com/atotto/clipboard => github.com/tgummerer/clipboard v0.0.0-20241001131231-d02d263e614e: state the same replace in the build module",
    ]);
  });

  it("names a local replace whose module is not required at the piece's own version", () => {
    const upstream: GoModSummary = {
      module: "github.com/pulumi/pulumi-github/provider/v6",
      requires: new Map(),
      replaces: [{ from: "github.com/integrations/terraform-provider-github/v6", to: "../upstream" }],
    };
    expect(missingReplaces(upstream, "6.15.0", buildModule([], []))).toEqual([
      "github.com/pulumi/pulumi-github/provider/v6 replaces github.com/integrations/terraform-provider-github/v6 with the local path ../upstream: require github.com/integrations/terraform-provider-github/v6 v6.15.0 in the build module, or it cannot be built from the module proxy",
    ]);
  });
});

describe("withoutProxyAddress", () => {
  it("writes $GOPROXY where a go command's message names the proxy", () => {
    expect(
      withoutProxyAddress("reading https://proxy.example/a/@v/v1.0.0.info: 403 Forbidden", [
        "https://proxy.example",
      ]),
    ).toBe("reading $GOPROXY/a/@v/v1.0.0.info: 403 Forbidden");
  });
});
