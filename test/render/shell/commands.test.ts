import { execFileSync } from "node:child_process";
import { lstatSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  argv,
  asRoot,
  ensureDirectory,
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

describe("combinators", () => {
  it("joins commands exactly", () => {
    expect(argv("chmod", "0600", "/a b")).toBe("chmod 0600 '/a b'");
  });

  it("shell wraps a script in strict bash without rc files", () => {
    expect(shell("echo 'hi'")).toBe(`bash --norc -euo pipefail -c 'echo '\\''hi'\\'''`);
  });

  it("asRoot uses bash directly for root and sudo -n otherwise", () => {
    expect(asRoot("id -u", "root")).toBe("bash --norc -euo pipefail -c 'id -u'");
    expect(asRoot("id -u", "admin")).toBe("sudo -n bash --norc -euo pipefail -c 'id -u'");
  });

  it("asRoot hands the caller's session variables to the script as $1, $2, ..., through sudo too", () => {
    expect(asRoot('echo "$1"', "admin", ["SSH_CONNECTION"])).toBe(
      `sudo -n bash --norc -euo pipefail -c 'echo "$1"' bash "\${SSH_CONNECTION-}"`,
    );
    // The login shell expands them; an unset one is an empty argument.
    const run = (command: string, env: NodeJS.ProcessEnv) =>
      execFileSync("sh", ["-c", command], { env: { PATH: process.env.PATH, ...env }, encoding: "utf8" });
    const command = asRoot('printf "%s|%s\\n" "$1" "${2-none}"', "root", ["SSH_CONNECTION"]);
    expect(run(command, { SSH_CONNECTION: "10.0.0.9 50000 10.0.0.1 2222" })).toBe(
      "10.0.0.9 50000 10.0.0.1 2222|none\n",
    );
    expect(run(command, {})).toBe("|none\n");
  });
});

describe("file writing", () => {
  it("writeFile renders base64 content into a fresh temp file that replaces the target only on change", () => {
    expect(writeFile("/etc/x.conf", "a=1\n", { mode: "0644", owner: "root:root" })).toBe(
      [
        "pipeline_new=$(mktemp /etc/x.conf.pipeline-XXXXXX)",
        'printf %s YT0xCg== | base64 -d > "$pipeline_new"',
        'chmod 0644 "$pipeline_new"',
        'chown root:root "$pipeline_new"',
        'if [ -f /etc/x.conf ] && [ ! -L /etc/x.conf ] && cmp -s "$pipeline_new" /etc/x.conf && [ "$(stat -c %a:%u:%g "$pipeline_new")" = "$(stat -c %a:%u:%g /etc/x.conf)" ]; then',
        '  rm -f "$pipeline_new"',
        "else",
        '  mv -fT "$pipeline_new" /etc/x.conf',
        "fi",
      ].join("\n"),
    );
  });

  it("writeFile replaces a planted symlink and never writes through it", () => {
    const victim = join(scratch, "victim");
    writeFileSync(victim, "untouched\n", { mode: 0o600 });
    const target = join(scratch, "planted");
    symlinkSync(victim, target);
    runBash(writeFile(target, "new\n", { mode: "0644", owner }));
    expect(readFileSync(victim, "utf8")).toBe("untouched\n");
    expect(statSync(victim).mode & 0o777).toBe(0o600);
    expect(lstatSync(target).isSymbolicLink()).toBe(false);
    expect(readFileSync(target, "utf8")).toBe("new\n");
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
    expect(script).toContain('cat > "$pipeline_new"');
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
