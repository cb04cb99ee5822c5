import { PROJECT } from "./keys";

/** Every problem of a stack config, each as `pipeline:<path>: <what is wrong> (<how to fix>)`. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(
      `Invalid stack config (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n  ${problems.join("\n  ")}`,
    );
    this.name = "ConfigError";
  }
}

export const MISSING_ADMIN_KEY = `${PROJECT}:adminPrivateKey: is not set (pulumi config set --secret adminPrivateKey < ~/.ssh/id_ed25519)`;
