import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { HostDatabase } from "../../config/databaseSchema";
import {
  DATABASE_PASSWORD,
  DATABASE_PASSWORD_LENGTH,
  appEnvWithDatabaseUrl,
  databaseUrl,
} from "../../render/databaseConnection";
import { childName } from "../naming";
import { reportMalformed } from "../providerValues";

/** The secrets of the database on the host: its role's password, and shared/.env with the DATABASE_URL line. */
export interface HostDatabaseSecrets {
  password: pulumi.Output<string>;
  appEnv: pulumi.Output<string>;
}

/**
 * The role's password, generated once and kept (a secret) in the stack's state; bumping database.passwordRotation
 * replaces it. Letters and digits only (databaseConnection.ts).
 */
export function hostDatabaseSecrets(
  name: string,
  database: HostDatabase,
  rotation: number,
  appEnv: pulumi.Input<string> | undefined,
  parent: pulumi.Resource,
): HostDatabaseSecrets {
  const generated = new random.RandomPassword(
    childName(name, "database-password"),
    { length: DATABASE_PASSWORD_LENGTH, special: false, keepers: { rotation: String(rotation) } },
    { parent },
  );
  const password = pulumi
    .secret(generated.result)
    .apply((value) =>
      typeof value === "string" && DATABASE_PASSWORD.test(value)
        ? value
        : reportMalformed(
            `${name}: the generated database password is not ${DATABASE_PASSWORD_LENGTH} letters and digits`,
            "",
          ),
    );
  return {
    password,
    appEnv: pulumi
      .secret(pulumi.all([appEnv, password]))
      .apply(([env, secret]) =>
        secret === "" ? "" : appEnvWithDatabaseUrl(env, databaseUrl(database, secret)),
      ),
  };
}
