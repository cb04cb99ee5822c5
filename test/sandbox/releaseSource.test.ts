// What `sandbox up` and `sandbox deploy` ship, decided before anything is built or any host exists.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { AppProblem } from "../../src/sandbox/appBuild";
import { UNHEALTHY_EXAMPLE_ONLY, deploySourceOf, releaseSourceOf } from "../../src/sandbox/releaseSource";

const APP = join(__dirname, "../fixtures/apps/express-app");

describe("--unhealthy", () => {
  // It used to be ignored with --app: the user's healthy release shipped without a word.
  it.each([
    ["--app", { app: APP }],
    ["--artifact", { artifact: "release.tgz" }],
  ])("is refused with %s, saying what it does and that it needs the example app", (_flag, given) => {
    for (const source of [
      () => releaseSourceOf({ ...given, unhealthy: true }),
      () => deploySourceOf({}, { ...given, unhealthy: true }),
    ])
      expect(source).toThrow(new AppProblem(UNHEALTHY_EXAMPLE_ONLY));
  });

  it("is refused in a sandbox brought up with the user's app or stack", () => {
    expect(() => deploySourceOf({ appDir: APP, stackFile: "Pulumi.x.yaml" }, { unhealthy: true })).toThrow(
      UNHEALTHY_EXAMPLE_ONLY,
    );
    expect(() => deploySourceOf({ stackFile: "Pulumi.x.yaml" }, { unhealthy: true })).toThrow(
      UNHEALTHY_EXAMPLE_ONLY,
    );
  });

  it("ships the unhealthy example app in the example sandbox", () => {
    expect(deploySourceOf({}, { unhealthy: true })).toEqual({ kind: "example", unhealthy: true });
    expect(deploySourceOf({}, { unhealthy: false })).toEqual({ kind: "example", unhealthy: false });
  });
});

describe("deploySourceOf", () => {
  it("rebuilds the app the sandbox was brought up with, unless told otherwise", () => {
    expect(deploySourceOf({ appDir: APP }, { unhealthy: false })).toEqual({ kind: "app", dir: APP });
    expect(() => deploySourceOf({ stackFile: "Pulumi.x.yaml" }, { unhealthy: false })).toThrow(
      "deploy: give --app <dir> or --artifact <file.tgz>",
    );
  });
});
