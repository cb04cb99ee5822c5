// pipeline:app: the Node.js app, its CI commands and its CI service containers.
import { z } from "zod";
import { DEFAULT_NODE_LINE } from "./nodeReleaseSchedule";
import { APP_NAME, boolean, integer, matching, text } from "./rules";

const relativePath = text("use a path inside the repository such as dist").refine(
  (p) => p.length > 0 && !p.startsWith("/") && !p.split("/").includes(".."),
  { error: "must be a relative path inside the repository, without '..' (for example dist)" },
);

const command = (example: string) =>
  text(`use a shell command such as '${example}'`).refine((c) => !c.includes("\n"), {
    error: `must be a single line (join several commands with &&, for example '${example}')`,
  });

/** A relative path inside the release, or "" (the feature that reads it is off). */
const optionalRelativePath = text(
  'use a path inside the repository such as migrations, or "" to turn it off',
).refine((p) => p === "" || (!p.startsWith("/") && !p.split("/").includes("..") && !p.includes("\n")), {
  error: "must be a relative path inside the release, without '..' (for example migrations), or \"\"",
});

/** A CI job command; the empty string turns the job off (and removes its required check). */
const optionalCommand = (example: string) => command(example);

/** What the artifact holds by default: the build output with what installs its dependencies... */
const BUILT_ARTIFACT_PATHS = ["dist", "package.json", "pnpm-lock.yaml"];
/** ...or, for an app without a build step, the checkout itself. */
const SOURCE_ARTIFACT_PATHS = ["."];

const SERVICE_DEFAULT_VERSIONS = { postgres: "16", redis: "7", mysql: "8.4", mongodb: "7" } as const;
export type ServiceType = keyof typeof SERVICE_DEFAULT_VERSIONS;

const service = z
  .strictObject({
    type: z.enum(["postgres", "redis", "mysql", "mongodb"], {
      error: "must be one of postgres, redis, mysql, mongodb (pick the database your tests need)",
    }),
    version: matching(
      /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/,
      "is not an image tag",
      "use a tag such as 16",
    ).optional(),
  })
  .transform((s) => ({ type: s.type, version: s.version ?? SERVICE_DEFAULT_VERSIONS[s.type] }));

/** False for an app without a build step (app.buildCommand ""): CI has no build job, the deploy no build step. */
export function hasBuildStep(app: { buildCommand: string }): boolean {
  return app.buildCommand.trim() !== "";
}

export const appSchema = z
  .strictObject({
    name: matching(
      APP_NAME,
      "must be lowercase letters, digits and '-', starting with a letter",
      "for example my-app",
    ).describe("App name: pm2 process name and the directory ~/apps/<name> on each host. Required."),
    nodeVersion: integer(18, 30, `use a Node.js major version such as ${DEFAULT_NODE_LINE}`)
      .default(DEFAULT_NODE_LINE)
      .describe(
        "Node.js major version used in CI and installed on the hosts. Default: the Active LTS line of the Node.js release schedule (src/config/nodeReleaseSchedule.ts); a line past its end of life, or one that never becomes LTS, gets a warning.",
      ),
    pnpmVersion: integer(7, 11, "use a pnpm major version such as 9")
      .default(9)
      .describe(
        "pnpm major version installed on the hosts (and in CI for an app without a packageManager field); keep it the major of packageManager.",
      ),
    packageManagerField: boolean()
      .default(true)
      .describe(
        "The app's package.json names its pnpm in the packageManager field (e.g. pnpm@9.15.9): CI installs exactly that version. Set false for an app without the field: CI installs pnpmVersion instead.",
      ),
    port: integer(1024, 65535, "use the unprivileged port your app listens on, such as 3000")
      .default(3000)
      .describe(
        "Port the app listens on (PORT in its environment); the health gate calls localhost:<port>. With deploy.strategy sideBySide releases alternate between this port and the next one (PORT tells each release its own).",
      ),
    healthPath: matching(
      /^\/[^\s?#]*(\?[^\s#]*)?$/,
      "must start with '/' and contain no spaces",
      "for example /health",
    )
      .default("/health")
      .describe(
        "Path answered with 2xx when the app is healthy; checked on each host and on the public URL.",
      ),
    instances: z
      .union([integer(1, 64, "use a number of processes from 1 to 64, or 'max'"), z.literal("max")], {
        error: "must be a number from 1 to 64 or 'max' (the number of pm2 cluster processes)",
      })
      .default(2)
      .describe("pm2 cluster instances per host ('max' = one per CPU)."),
    startScript: relativePath
      .default("dist/index.js")
      .describe("Entry file that pm2 runs in cluster mode, relative to the release directory."),
    installCommand: command("pnpm install --frozen-lockfile")
      .default("pnpm install --frozen-lockfile")
      .describe("Installs dependencies in CI."),
    lintCommand: optionalCommand("pnpm run lint")
      .default("pnpm run lint")
      .describe("CI job 'lint'; empty string turns the job and its required check off."),
    typecheckCommand: optionalCommand("pnpm run typecheck")
      .default("pnpm run typecheck")
      .describe("CI job 'typecheck'; empty string turns it off."),
    testCommand: optionalCommand("pnpm test")
      .default("pnpm test")
      .describe("CI job 'test' (runs with the configured services); empty string turns it off."),
    buildCommand: optionalCommand("pnpm run build")
      .default("pnpm run build")
      .describe(
        "Builds the artifact once in CI (CI job 'build'); the hosts never build. Empty string: the app has no build step (no build job or step; the artifact is packed from the checkout, see artifactPaths, and app.startScript names a file of the source).",
      ),
    artifactPaths: z
      .array(relativePath, {
        error: "must be a list of paths (for example [dist, package.json, pnpm-lock.yaml])",
      })
      .min(1, { error: "must name at least one path (for example dist)" })
      .optional()
      .describe(
        `Files and directories packed into the release artifact (package.json and the lockfile are needed to install production dependencies); node_modules and .git are never packed, at any depth. Default: ${JSON.stringify(BUILT_ARTIFACT_PATHS)}; for an app without a build (buildCommand ""): ${JSON.stringify(SOURCE_ARTIFACT_PATHS)}, the whole checkout (its source, package.json and lockfile).`,
      ),
    migrateCommand: command("pnpm run migrate")
      .default("pnpm run --if-present migrate")
      .describe("Runs pending database migrations in the new release before it goes live."),
    migrateRollbackCommand: command("pnpm run migrate:rollback")
      .default("pnpm run --if-present migrate:rollback")
      .describe("Reverts the last migration batch (migrate workflow, action 'rollback')."),
    migrateStatusCommand: command("pnpm run migrate:status")
      .default("pnpm run --if-present migrate:status")
      .describe("Prints migration status (migrate workflow, action 'status')."),
    migrationsUpToDateCommand: command("npx knex migrate:list | grep -q 'No Pending Migration files Found'")
      .default("")
      .describe(
        "Says whether the database has migrations to run: it runs in the new release (like migrateCommand) before the migrations and exits 0 only when there are none; any other exit means there are (or it could not tell). A deploy and the migrate verb back up first (backup.beforeMigrations) only when it did not exit 0. Empty: unknown, every deploy backs up. Commands for knex, node-pg-migrate and Prisma are in the README.",
      ),
    migrationsDir: optionalRelativePath
      .default("migrations")
      .describe(
        "Directory of the migration files inside a release (knex's and node-pg-migrate's default: migrations). A rollback to a release that lacks files of the current one warns before it switches, naming them and the order that works; a deploy that adds files marks the backup before it as one before a schema change (see backup.keep). Empty: no comparison.",
      ),
    services: z
      .array(service, { error: "must be a list such as [{type: postgres}, {type: redis}]" })
      .max(4)
      .refine((list) => new Set(list.map((s) => s.type)).size === list.length, {
        error: "lists a service type twice (keep one entry per type)",
      })
      .default([])
      .describe(
        "Service containers for the CI test job: postgres, redis, mysql, mongodb, each with an optional image tag.",
      ),
  })
  .transform((app) => ({
    ...app,
    artifactPaths: app.artifactPaths ?? (hasBuildStep(app) ? BUILT_ARTIFACT_PATHS : SOURCE_ARTIFACT_PATHS),
  }))
  .describe("The Node.js app.");
