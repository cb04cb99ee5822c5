import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  LOAD_SYSTEM_ENVIRONMENT,
  any,
  argv,
  asRoot,
  combine,
  ensureDirectory,
  pipe,
  quote,
  shell,
  writeFile,
  writeFileFromStdin,
} from "../../../src/render/shell/commands";

const scratch = mkdtempSync(join(tmpdir(), "shell-commands-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function groupName(): string {
  return execFileSync("id", ["-gn"], { encoding: "utf8" }).trim();
}
const owner = `${userInfo().username}:${groupName()}`;

function runBash(script: string, input?: string): string {
  return execFileSync("bash", ["--norc", "-euo", "pipefail", "-c", script], {
    encoding: "utf8",
    input: input ?? "",
  });
}

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
    const nasty = `a 'b' "c" $HOME \`id\` \\ \n * ; | & é`;
    expect(runBash(`printf %s ${quote(nasty)}`)).toBe(nasty);
  });
});

describe("combinators", () => {
  it("joins commands exactly", () => {
    expect(argv("chmod", "0600", "/a b")).toBe("chmod 0600 '/a b'");
    expect(combine("a", "b", "c")).toBe("a && b && c");
    expect(pipe("a", "b")).toBe("a | b");
    expect(any("a", "b")).toBe("a || b");
    expect(combine(any("test -f x", "touch x"), pipe("cat x", "wc -l"))).toBe(
      "test -f x || touch x && cat x | wc -l",
    );
  });

  it("shell wraps a script in strict bash without rc files", () => {
    expect(shell("echo 'hi'")).toBe(`bash --norc -euo pipefail -c 'echo '\\''hi'\\'''`);
  });

  it("asRoot uses bash directly for root and sudo -n otherwise", () => {
    expect(asRoot("id -u", "root")).toBe("bash --norc -euo pipefail -c 'id -u'");
    expect(asRoot("id -u", "admin")).toBe("sudo -n bash --norc -euo pipefail -c 'id -u'");
  });
});

describe("file writing", () => {
  it("writeFile renders base64 content into a private temp file that replaces the target only on change", () => {
    expect(writeFile("/etc/x.conf", "a=1\n", { mode: "0644", owner: "root:root" })).toBe(
      [
        "(umask 077 && printf %s YT0xCg== | base64 -d > /etc/x.conf.pipeline-new)",
        "chmod 0644 /etc/x.conf.pipeline-new",
        "chown root:root /etc/x.conf.pipeline-new",
        "if cmp -s /etc/x.conf.pipeline-new /etc/x.conf; then rm -f /etc/x.conf.pipeline-new; else mv -f /etc/x.conf.pipeline-new /etc/x.conf; fi",
        "chmod 0644 /etc/x.conf",
        "chown root:root /etc/x.conf",
      ].join("\n"),
    );
  });

  it("writeFile writes any content byte for byte and leaves an unchanged file alone", () => {
    const target = join(scratch, "written file");
    const content = `quotes ' " $HOME \`id\`\nunicode é ✓\n\\n no trailing newline`;
    runBash(writeFile(target, content, { mode: "0640", owner }));
    expect(readFileSync(target, "utf8")).toBe(content);
    expect(statSync(target).mode & 0o777).toBe(0o640);
    const inode = statSync(target).ino;
    runBash(writeFile(target, content, { mode: "0640", owner }));
    expect(statSync(target).ino).toBe(inode);
    runBash(writeFile(target, "changed", { mode: "0640", owner }));
    expect(readFileSync(target, "utf8")).toBe("changed");
  });

  it("writeFileFromStdin takes the content from stdin (secrets stay off the command line)", () => {
    const target = join(scratch, ".env");
    const script = writeFileFromStdin(target, { mode: "0600", owner });
    expect(script).toContain("(umask 077 && cat > ");
    runBash(script, "SECRET='x y'\n");
    expect(readFileSync(target, "utf8")).toBe("SECRET='x y'\n");
    expect(statSync(target).mode & 0o777).toBe(0o600);
  });

  it("ensureDirectory creates and enforces mode and owner", () => {
    expect(ensureDirectory("/home/deploy/apps", { mode: "0755", owner: "deploy:" })).toBe(
      "mkdir -p /home/deploy/apps\nchmod 0755 /home/deploy/apps\nchown deploy: /home/deploy/apps",
    );
  });
});

describe("LOAD_SYSTEM_ENVIRONMENT", () => {
  it("exports KEY=value lines of /etc/environment without running anything", () => {
    const file = join(scratch, "environment");
    const marker = join(scratch, "ran");
    writeFileSync(
      file,
      [
        'https_proxy="http://10.0.0.1:3128"',
        "export NO_PROXY='localhost'",
        "NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt",
        `EVIL=x $(touch ${marker})`,
        `touch ${marker}`,
        "# comment",
      ].join("\n"),
    );
    const script = `${LOAD_SYSTEM_ENVIRONMENT.replaceAll("/etc/environment", file)}
printf '%s|%s|%s|%s' "$https_proxy" "$NO_PROXY" "$NODE_EXTRA_CA_CERTS" "$EVIL"`;
    expect(runBash(script)).toBe(
      `http://10.0.0.1:3128|localhost|/etc/ssl/certs/ca-certificates.crt|x $(touch ${marker})`,
    );
    expect(() => statSync(marker)).toThrow();
  });
});
