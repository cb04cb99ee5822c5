// `KEY=value` files (/etc/environment, the app's shared/.env) are read by two languages: bash (provisioning
// scripts, the release agent) and JavaScript (the pm2 ecosystem file). Both parsers are defined here, side by side,
// with the same rules, and one table of cases runs against both: one `KEY=value` per line, an optional `export `,
// one pair of surrounding quotes stripped, a trailing CR dropped, anything else ignored. Nothing is ever evaluated,
// so a line such as `X=$(id)` is a value, never a command.

/** `export_env_file <file>`: exports the file's variables into the calling shell (a missing file is no error). */
export const EXPORT_ENV_FILE_FUNCTION = [
  "export_env_file() {",
  "  local line name value",
  '  [ -f "$1" ] || return 0',
  '  while IFS= read -r line || [ -n "$line" ]; do',
  "    line=${line%$'\\r'}",
  "    if [[ $line =~ ^[[:space:]]*(export[[:space:]]+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$ ]]; then",
  "      name=${BASH_REMATCH[2]}",
  "      value=${BASH_REMATCH[3]}",
  "      if [[ $value =~ ^\\\"(.*)\\\"$ || $value =~ ^\\'(.*)\\'$ ]]; then value=${BASH_REMATCH[1]}; fi",
  '      export "$name=$value"',
  "    fi",
  '  done <"$1"',
  "}",
].join("\n");

/**
 * Exports the variables of /etc/environment (proxies, NODE_EXTRA_CA_CERTS) into a script, as pam_env does for
 * login sessions: sudo and `bash -c` do not read it, and curl, apt and npm need the proxy.
 */
export const LOAD_SYSTEM_ENVIRONMENT = `${EXPORT_ENV_FILE_FUNCTION}\nexport_env_file /etc/environment`;

/** `readEnvFile(file)`: the same rules in JavaScript, returning an object (a missing file gives {}). Needs `fs`. */
export const READ_ENV_FILE_FUNCTION = `function readEnvFile(file) {
  const env = {};
  let text = "";
  try {
    text = fs.readFileSync(file, "utf8");
  } catch {
    return env;
  }
  for (const raw of text.split("\\n")) {
    const match = /^\\s*(?:export\\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(raw.replace(/\\r$/, ""));
    if (!match) continue;
    const quoted = /^"(.*)"$/.exec(match[2]) || /^'(.*)'$/.exec(match[2]);
    env[match[1]] = quoted ? quoted[1] : match[2];
  }
  return env;
}`;
