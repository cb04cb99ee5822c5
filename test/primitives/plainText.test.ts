import { describe, expect, it } from "vitest";
import { plainText } from "../../src/primitives/plainText";

describe("plainText", () => {
  it.each([
    ["plain", "plain"],
    ["\x1b[1m\x1b[32m[PM2][Module] \x1b[39m\x1b[22mStarting", "[PM2][Module] Starting"],
    ["\x1b[38;5;208morange\x1b[0m", "orange"],
    ["title\x1b]0;set by the app\x07 end", "title end"],
    ["link \x1b]8;;https://example.com\x1b\\text\x1b]8;;\x1b\\", "link text"],
    ["reset\x1bc done", "reset done"],
    ["cr\rtab\tbell\x07del\x7fc1\u009b31m", "cr tab bell del c1 31m"],
    ["unicode ✓ ⇓ │ stays", "unicode ✓ ⇓ │ stays"],
    ["trailing escape \x1b", "trailing escape "],
  ])("%j -> %j", (line, expected) => {
    expect(plainText(line)).toBe(expected);
  });
});
