import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { quote, singleQuote } from "../../src/primitives/shellQuote";

function printedByBash(word: string): string {
  return execFileSync("bash", ["--norc", "-c", `printf %s ${word}`], { encoding: "utf8" });
}

const NASTY = `a 'b' "c" $HOME \`id\` \\ \n * ; | & é`;

describe("quote", () => {
  it.each([
    ["plain", "plain"],
    ["/usr/local/bin/node", "/usr/local/bin/node"],
    ["deploy:", "deploy:"],
    ["", "''"],
    ["two words", "'two words'"],
    ["it's", "'it'\\''s'"],
    ["$(id)", "'$(id)'"],
    ["a;b", "'a;b'"],
    ["*", "'*'"],
  ])("quote(%j) = %s", (input, expected) => {
    expect(quote(input)).toBe(expected);
  });

  it("round-trips any text through bash", () => {
    expect(printedByBash(quote(NASTY))).toBe(NASTY);
  });
});

describe("singleQuote", () => {
  it("quotes even safe words", () => {
    expect(singleQuote("plain")).toBe("'plain'");
    expect(singleQuote("it's")).toBe("'it'\\''s'");
  });

  it("round-trips any text through bash", () => {
    expect(printedByBash(singleQuote(NASTY))).toBe(NASTY);
    expect(printedByBash(singleQuote(""))).toBe("");
  });
});
