// One table of KEY=value files, run against both parsers: the bash function the provisioning scripts and the
// release agent use, and the JavaScript function of the pm2 ecosystem file. They must agree on every case.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { EXPORT_ENV_FILE_FUNCTION, READ_ENV_FILE_FUNCTION } from "../../../src/render/shell/envFile";

const scratch = fs.mkdtempSync(join(tmpdir(), "env-file-"));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));
const marker = join(scratch, "ran");

const CASES: ReadonlyArray<{ name: string; content: string; expected: Record<string, string> }> = [
  { name: "plain pairs", content: "A=1\nB=two words\n", expected: { A: "1", B: "two words" } },
  { name: "export prefix", content: "export A=1\nexport   B=2\n", expected: { A: "1", B: "2" } },
  { name: "leading blanks", content: "  A=1\n\tB=2\n", expected: { A: "1", B: "2" } },
  {
    name: "one pair of quotes stripped",
    content: `A="x y"\nB='it's'\nC=""\nD="'q'"\nE="unbalanced'\n`,
    expected: { A: "x y", B: "it's", C: "", D: "'q'", E: `"unbalanced'` },
  },
  { name: "CRLF line ends", content: 'A=1\r\nB="2"\r\n', expected: { A: "1", B: "2" } },
  { name: "no newline at the end", content: "A=1\nB=last", expected: { A: "1", B: "last" } },
  { name: "value keeps '=' and blanks", content: "URL=a=b&c=d  \n", expected: { URL: "a=b&c=d  " } },
  { name: "empty value", content: "A=\n", expected: { A: "" } },
  { name: "last assignment wins", content: "A=1\nA=2\n", expected: { A: "2" } },
  {
    name: "comments, blank lines and non-pairs are ignored",
    content: "# A=commented\n\nnot a pair\n1A=digit first\nA B=space in name\nexportA=1\n",
    expected: { exportA: "1" },
  },
  {
    name: "nothing is evaluated",
    content: `A=$(touch ${marker})\nB=\`touch ${marker}\`\ntouch ${marker}\nC=$HOME\n`,
    expected: { A: `$(touch ${marker})`, B: `\`touch ${marker}\``, C: "$HOME" },
  },
];

const BASH_OWN_VARIABLES = new Set(["PWD", "SHLVL", "_", "OLDPWD"]);

/** Exports the file in a bash with an empty environment and returns every variable it then has. */
function bashParse(file: string): Record<string, string> {
  const script = `${EXPORT_ENV_FILE_FUNCTION}\nexport_env_file "$1"\nenv -0`;
  const output = execFileSync(
    "env",
    ["-i", "/bin/bash", "--norc", "-euo", "pipefail", "-c", script, "bash", file],
    {
      encoding: "utf8",
    },
  );
  const entries = output
    .split("\0")
    .filter((entry) => entry !== "")
    .map((entry) => [entry.slice(0, entry.indexOf("=")), entry.slice(entry.indexOf("=") + 1)] as const)
    .filter(([name]) => !BASH_OWN_VARIABLES.has(name));
  return Object.fromEntries(entries);
}

function jsParse(file: string): Record<string, string> {
  const readEnvFile = new Function("fs", `${READ_ENV_FILE_FUNCTION}\nreturn readEnvFile;`)(fs) as (
    path: string,
  ) => Record<string, string>;
  return readEnvFile(file);
}

describe.each([
  ["bash export_env_file", bashParse],
  ["JavaScript readEnvFile", jsParse],
])("%s", (_parser, parse) => {
  it.each(CASES)("$name", ({ content, expected }) => {
    const file = join(scratch, "env");
    fs.writeFileSync(file, content);
    expect(parse(file)).toEqual(expected);
    expect(fs.existsSync(marker)).toBe(false);
  });

  it("treats a missing file as empty", () => {
    expect(parse(join(scratch, "missing"))).toEqual({});
  });
});
