// How the release agent and the app-env step start or reload the app: agent/pm2StartOrReload.js, installed by the
// release-agent step and run by the deploy user's node on the pm2 that the pm2 step installs.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { quote } from "../../primitives/shellQuote";
import { PM2_START_OR_RELOAD_PATH } from "../hostLayout";

/** Where `npm install --global pm2` puts pm2: npm's global prefix is /usr/local (steps/node.ts). */
export const PM2_PACKAGE_DIR = "/usr/local/lib/node_modules/pm2";

export function pm2StartOrReloadSource(): string {
  return readFileSync(join(__dirname, "agent", "pm2StartOrReload.js"), "utf8");
}

/** The command, as shell words: node <script> <pm2 package directory> <ecosystem file>. */
export function pm2StartOrReloadCommand(ecosystemFile: string): string {
  return ["node", PM2_START_OR_RELOAD_PATH, PM2_PACKAGE_DIR, ecosystemFile].map(quote).join(" ");
}
