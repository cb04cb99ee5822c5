// The machine's npm registry is the hosts' default: it must be https, like vps.npmRegistry.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { machineNpmRegistry } from "../../src/config/npmRegistry";

const originalPath = process.env["PATH"];
let dir: string | undefined;
afterEach(() => {
  process.env["PATH"] = originalPath;
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

/** An `npm` on PATH whose `config get registry` prints `registry`. */
function npmPrinting(registry: string): void {
  dir = mkdtempSync(join(tmpdir(), "npm-registry-"));
  writeFileSync(join(dir, "npm"), `#!/bin/sh\necho '${registry}'\n`, { mode: 0o755 });
  process.env["PATH"] = `${dir}:${originalPath ?? ""}`;
}

describe("machineNpmRegistry", () => {
  it("takes an https registry, with a trailing slash", () => {
    npmPrinting("https://registry.example.test");
    expect(machineNpmRegistry()).toBe("https://registry.example.test/");
  });

  it("refuses an http registry and says how to fix it", () => {
    npmPrinting("http://registry.example.test/");
    expect(() => machineNpmRegistry()).toThrow(
      /^npm config get registry printed 'http:\/\/registry\.example\.test\/', which is not an https URL: .*\(set pipeline:vps\.npmRegistry to the https URL of the registry the hosts can reach, or npm config set registry <https URL>\)$/,
    );
  });
});
