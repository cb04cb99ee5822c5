// Where packages come from, derived at run time from this machine's own setup (apt sources, npm config),
// so that no registry host is written into the repository.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { run } from "./command";
import { DEBIAN_SUITE } from "./paths";
import { attempt } from "./attempt";

export interface AptSource {
  uri: string;
  suites: string[];
  components: string[];
  signedBy?: string;
}

export interface PackageSources {
  /** Debian archive used for debootstrap (the entry carrying the plain suite, e.g. `bookworm`). */
  debianMirror: string;
  /** Every Debian entry (bookworm, -updates, -security), copied into the guest's apt sources. */
  debianSources: AptSource[];
  /** npm registry URL with a trailing slash. */
  npmRegistry: string;
  /** Host names the guest's proxy lets through. */
  allowedHosts: string[];
}

const APT_SOURCES_FILE = "/etc/apt/sources.list";
const APT_SOURCES_DIR = "/etc/apt/sources.list.d";

function parseOneLineSources(text: string): AptSource[] {
  const sources: AptSource[] = [];
  for (const rawLine of text.split("\n")) {
    const line = rawLine.replace(/#.*/, "").trim();
    // deb [options] uri suite component...
    const match = /^deb\s+(?:\[([^\]]*)\]\s+)?(\S+)\s+(\S+)\s*(.*)$/.exec(line);
    if (!match) continue;
    const signedBy = /signed-by=(\S+)/.exec(match[1] ?? "")?.[1];
    sources.push({
      uri: match[2] ?? "",
      suites: [match[3] ?? ""],
      components: (match[4] ?? "").split(/\s+/).filter(Boolean),
      ...(signedBy ? { signedBy } : {}),
    });
  }
  return sources;
}

function parseDeb822Sources(text: string): AptSource[] {
  const sources: AptSource[] = [];
  for (const stanza of text.split(/\n\s*\n/)) {
    const fields = new Map<string, string>();
    for (const line of stanza.split("\n")) {
      const match = /^([A-Za-z-]+):\s*(.*)$/.exec(line);
      if (match?.[1] && match[2] !== undefined) fields.set(match[1].toLowerCase(), match[2].trim());
    }
    const types = (fields.get("types") ?? "").split(/\s+/);
    if (!types.includes("deb") || fields.get("enabled") === "no") continue;
    const words = (key: string): string[] => (fields.get(key) ?? "").split(/\s+/).filter(Boolean);
    const signedBy = fields.get("signed-by");
    for (const uri of words("uris")) {
      sources.push({
        uri,
        suites: words("suites"),
        components: words("components"),
        ...(signedBy ? { signedBy } : {}),
      });
    }
  }
  return sources;
}

function readMachineAptSources(): AptSource[] {
  const sources: AptSource[] = [];
  const readIfPresent = (file: string): string => {
    try {
      return readFileSync(file, "utf8");
    } catch {
      return "";
    }
  };
  sources.push(...parseOneLineSources(readIfPresent(APT_SOURCES_FILE)));
  const entries = attempt(() => readdirSync(APT_SOURCES_DIR).sort(), []);
  for (const entry of entries) {
    const file = path.join(APT_SOURCES_DIR, entry);
    if (entry.endsWith(".list")) sources.push(...parseOneLineSources(readIfPresent(file)));
    if (entry.endsWith(".sources")) sources.push(...parseDeb822Sources(readIfPresent(file)));
  }
  return sources;
}

/** Debian's own entries for the suite: `bookworm`, `bookworm-updates`, `bookworm-security`; not third-party repos. */
function debianEntries(sources: readonly AptSource[], suite = DEBIAN_SUITE): AptSource[] {
  const ownSuite = new RegExp(`^${suite}(-[a-z]+)?$`);
  return sources
    .map((source) => ({ ...source, suites: source.suites.filter((name) => ownSuite.test(name)) }))
    .filter((source) => source.suites.length > 0);
}

function debianMirrorOf(sources: readonly AptSource[], suite = DEBIAN_SUITE): string {
  const main = sources.find((source) => source.suites.includes(suite));
  if (!main) {
    throw new Error(
      `No apt source for Debian ${suite} in ${APT_SOURCES_FILE} or ${APT_SOURCES_DIR}: ` +
        `the disposable hosts use the machine's Debian mirror (add a "${suite}" entry there)`,
    );
  }
  return main.uri;
}

async function npmRegistryUrl(): Promise<string> {
  const fromEnvironment = process.env.npm_config_registry;
  const configured =
    fromEnvironment?.trim() || (await run("npm", ["config", "get", "registry"])).stdout.trim();
  if (!/^https?:\/\//.test(configured)) {
    throw new Error(
      `\`npm config get registry\` gave "${configured}", not an http(s) URL: set the npm registry`,
    );
  }
  return configured.endsWith("/") ? configured : `${configured}/`;
}

export async function discoverPackageSources(): Promise<PackageSources> {
  const debianSources = debianEntries(readMachineAptSources());
  const debianMirror = debianMirrorOf(debianSources);
  const npmRegistry = await npmRegistryUrl();
  const hosts = [...debianSources.map((source) => source.uri), npmRegistry].map(
    (url) => new URL(url).hostname,
  );
  return { debianMirror, debianSources, npmRegistry, allowedHosts: [...new Set(hosts)] };
}
