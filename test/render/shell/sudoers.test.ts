import { describe, expect, it } from "vitest";
import { installSudoersFile, sudoersRule } from "../../../src/render/shell/sudoers";

describe("sudoersRule", () => {
  it("lets one user run exactly one command as root without a password, and says what it is for", () => {
    expect(sudoersRule("the audit log's only writer", "deploy", "/usr/local/lib/pipeline/audit-append")).toBe(
      "# Managed by pipeline (pulumi up rewrites this file): the audit log's only writer.\ndeploy ALL=(root) NOPASSWD: /usr/local/lib/pipeline/audit-append\n",
    );
  });
});

describe("installSudoersFile", () => {
  it("checks the rule with visudo in a dotted temp file (sudo skips it) and renames it into place only when it differs", () => {
    expect(installSudoersFile("/etc/sudoers.d/pipeline-x", "deploy ALL=(root) NOPASSWD: /bin/x\n")).toBe(
      [
        "rule='deploy ALL=(root) NOPASSWD: /bin/x",
        "'",
        `if [ "$(cat /etc/sudoers.d/pipeline-x 2>/dev/null || true)" != "\${rule%$'\\n'}" ]; then`,
        "  check=$(mktemp /etc/sudoers.d/.pipeline-x.XXXXXX)",
        '  printf \'%s\' "$rule" >"$check"',
        '  visudo -c -q -f "$check"',
        '  chmod 0440 "$check"',
        '  mv -fT "$check" /etc/sudoers.d/pipeline-x',
        "fi",
      ].join("\n"),
    );
  });
});
