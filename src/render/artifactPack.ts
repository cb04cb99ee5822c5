// How a release artifact is packed, the same in the deploy workflow's build job and in the sandbox: a gzip'd tar of
// app.artifactPaths. Dependencies are never packed (the hosts install them from the lockfile), nor git's data: an
// app without a build step packs its whole checkout ("."), where both may be.

/** tar's options that leave out every node_modules and .git, at any depth (before -czf and the paths). */
export const PACK_EXCLUDES = ["--exclude=node_modules", "--exclude=.git"] as const;
