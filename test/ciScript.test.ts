import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { REQUIRED_APT_PACKAGES } from "../src/testhost/requirements";

describe(".ci/run", () => {
  const script = readFileSync(".ci/run", "utf8");
  const aptPackages = /apt_packages=\(([^)]*)\)/.exec(script)?.[1]?.split(/\s+/) ?? [];

  it("installs every Debian package the linters and the disposable hosts need on a fresh machine", () => {
    expect(aptPackages).toEqual(expect.arrayContaining([...REQUIRED_APT_PACKAGES, "shellcheck"]));
  });

  it("runs the README's test commands", () => {
    const readme = readFileSync("README.md", "utf8");
    for (const command of [
      "npm run engine:install",
      "npm test",
      "npm run test:host",
      "npm run test:engine",
    ]) {
      expect(readme).toContain(command);
      expect(script).toContain(command);
    }
  });
});
