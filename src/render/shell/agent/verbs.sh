# shellcheck shell=bash
# The verbs of the release agent and its entry point. Which verbs exist, their arguments and which function
# implements each are rendered from the verb contract (src/render/agentProtocol.ts) as verb_spec and dispatch_verb.

# --- deploy ---

# Leftovers of deploys that were killed midway; safe to remove because we hold the lock. An upload in progress
# is no leftover: uploads happen before the lock, in .incoming-<id>.<pid> of an agent that is still running.
clean_leftovers() {
  local leftover pid
  for leftover in "$RELEASES_DIR"/.incoming-*; do
    if [ ! -e "$leftover" ] || [ "$leftover" = "$STAGING_DIR" ]; then continue; fi
    pid=${leftover##*.}
    if [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null; then continue; fi
    remove_tree "$leftover"
  done
  rm -f "$APP_ROOT/current.tmp" "$ECOSYSTEM_FILE.tmp"
}

# stdin -> <staging>/artifact.tgz, before the lock is taken, so a slow or stalled upload never blocks a rollback.
receive_upload() {
  receive_stdin "$1/artifact.tgz" "$MAX_ARTIFACT_BYTES" "the artifact" deploy.maxArtifactMegabytes
}

# Only regular files and directories, no absolute paths, no '..': checked on the listing before extracting.
unpack_artifact() {
  local staging=$1 archive="$1/artifact.tgz" types name
  types=$(tar -tvzf "$archive" | cut -c1 | sort -u) || { log "the artifact is not a gzip'd tar"; return 1; }
  if grep -q '[^-d]' <<<"$types"; then
    log "the artifact contains links or special files (only regular files and directories are accepted)"
    return 1
  fi
  while IFS= read -r name; do
    if [[ $name == /* || $name =~ (^|/)\.\.(/|$) ]]; then
      log "the artifact contains an unsafe path: $name"
      return 1
    fi
  done < <(tar -tzf "$archive")
  tar -xzf "$archive" -C "$staging/release" --no-same-owner --no-same-permissions || return 1
  # Modes come from the archive: a read-only directory would make the release unremovable (and every later
  # deploy fail on it). The owner may always write; nobody else may.
  chmod -R u+rwX,go-w "$staging/release"
  rm -f "$archive"
  [ -f "$staging/release/$START_SCRIPT" ] || { log "the artifact has no $START_SCRIPT (app.startScript)"; return 1; }
}

# Install inputs of a release, read from its package.json and lockfile as data (never required), in one node start:
# BUILT_DEPENDENCIES (yes when package.json lists pnpm.onlyBuiltDependencies), INSTALL_FINGERPRINT (a hash of the
# lockfile, package.json's dependency and pnpm settings, the script policy and Node's version and platform; "none"
# without a lockfile), RELEASE_SCRIPTS (" <name> ... ", the scripts package.json defines), RELEASE_NODE_VERSION
# (the Node that runs them) and PACKAGE_MANAGER_SCRIPTS (" <name> ... ", those whose command reads a variable only a
# package manager sets: npm_*, PNPM_*, INIT_CWD).
read_release_facts() {
  local dir=$1 facts
  if [ "$FACTS_DIR" = "$dir" ]; then return 0; fi
  facts=$(node -e 'const fs = require("fs"), path = require("path"), crypto = require("crypto");
const [dir, policy] = process.argv.slice(1);
let p = null, lock = null;
try { p = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8")); } catch {}
try { lock = fs.readFileSync(path.join(dir, "pnpm-lock.yaml")); } catch {}
if (!p || typeof p !== "object") p = {};
const built = p.pnpm && Array.isArray(p.pnpm.onlyBuiltDependencies) ? "yes" : "no";
const keys = ["dependencies", "optionalDependencies", "devDependencies", "peerDependencies", "pnpm"];
const scriptsOf = p.scripts && typeof p.scripts === "object" ? p.scripts : {};
const installScripts = ["preinstall", "install", "postinstall", "prepare"].map((k) => scriptsOf[k] ?? null);
const inputs = [process.version, process.platform, process.arch, policy, ...keys.map((k) => p[k] ?? null), installScripts];
const fingerprint = lock === null ? "none"
  : crypto.createHash("sha256").update(JSON.stringify(inputs)).update(lock).digest("hex");
const scripts = Object.keys(scriptsOf).filter((name) => /^[A-Za-z0-9:._-]+$/.test(name));
const managerScripts = scripts.filter((name) => /npm_|PNPM_|INIT_CWD/.test(String(scriptsOf[name])));
console.log(built + " " + fingerprint);
console.log(scripts.join(" "));
console.log(process.versions.node);
console.log(managerScripts.join(" "));' "$dir" "$DEPENDENCY_SCRIPTS" \
    </dev/null 9>&- 2>/dev/null) || facts="no none"
  read -r BUILT_DEPENDENCIES INSTALL_FINGERPRINT <<<"${facts%%$'\n'*}"
  RELEASE_SCRIPTS=" $(sed -n 2p <<<"$facts") "
  RELEASE_NODE_VERSION=$(sed -n 3p <<<"$facts")
  PACKAGE_MANAGER_SCRIPTS=" $(sed -n 4p <<<"$facts") "
  FACTS_DIR=$dir
}

# Lifecycle scripts are off unless the app lists the dependencies that may build (pnpm.onlyBuiltDependencies in
# package.json, which pnpm 9 honours) and deploy.dependencyScripts is "listed"; .pnpmfile.cjs never runs.
# The flags are on the command line: they beat every .npmrc. pnpm copies files out of its store instead of
# hard-linking them (clone-or-copy): a hard link is the store's own inode, shared by every release installed from
# it, so a write into node_modules would change them all.
install_dependencies() {
  local dir=$1 scripts=(--ignore-scripts)
  if [ ! -f "$dir/package.json" ]; then
    log "no package.json in the artifact: nothing to install"
    return 0
  fi
  read_release_facts "$dir"
  if reuse_dependencies "$dir"; then return 0; fi
  if [ "$DEPENDENCY_SCRIPTS" = listed ] && [ "$BUILT_DEPENDENCIES" = yes ]; then
    scripts=()
    log "lifecycle scripts: only the dependencies package.json lists in pnpm.onlyBuiltDependencies"
  else
    log "lifecycle scripts: off (list dependencies that must build in pnpm.onlyBuiltDependencies)"
  fi
  (cd "$dir" && pnpm install --prod --frozen-lockfile --ignore-pnpmfile "${scripts[@]}" --store-dir "$PNPM_STORE" \
    --package-import-method=clone-or-copy --reporter=append-only </dev/null 9>&-) || return 1
  if [ "$INSTALL_FINGERPRINT" != none ] && [ -d "$dir/node_modules" ]; then
    printf '%s\n' "$INSTALL_FINGERPRINT" >"$dir/node_modules/$INSTALL_STAMP"
  fi
}

# With the install inputs of the current release (its stamp in node_modules), its node_modules is copied instead of
# running pnpm. A copy, never hard links (cp -al): a hard link is the same inode, so a write through it (the app or
# a migration writing into node_modules in place; the owner can always make a read-only file writable again) would
# change every release sharing it, the one a rollback goes back to included. --reflink=auto shares blocks
# copy-on-write where the filesystem can (btrfs, XFS) and copies them elsewhere.
reuse_dependencies() {
  local dir=$1 from
  if [ -z "$PREVIOUS" ] || [ "$INSTALL_FINGERPRINT" = none ] || [ -e "$dir/node_modules" ]; then return 1; fi
  from="$RELEASES_DIR/$PREVIOUS/node_modules"
  [ -d "$from" ] && [ ! -L "$from" ] || return 1
  [ "$(cat "$from/$INSTALL_STAMP" 2>/dev/null)" = "$INSTALL_FINGERPRINT" ] || return 1
  if cp -a --reflink=auto "$from" "$dir/node_modules" 9>&-; then
    log "dependencies: lockfile unchanged since $PREVIOUS, copied its node_modules (no install)"
    return 0
  fi
  log "could not copy the node_modules of $PREVIOUS; installing"
  remove_tree "$dir/node_modules"
  return 1
}

# The default migrate command (pnpm run --if-present <script>) of an app without that script would start pnpm to
# do nothing: skipped.
run_migrations() {
  local dir=$1 release=$2 script
  read_release_facts "$dir"
  script=$(script_of_default_form "$MIGRATE_COMMAND")
  if [ -n "$script" ] && [[ $RELEASE_SCRIPTS != *" $script "* ]]; then
    log "no $script script in package.json: no migrations to run"
    return 0
  fi
  if has_switch --maintenance; then maintenance_during_this_call; fi
  backup_before_migrations "$dir" "$release"
  log "running migrations of $release"
  run_migrate_command "$dir"
}

link_shared_files() {
  local dir=$1
  remove_tree "$dir/logs"
  ln -sfn "$LOGS_DIR" "$dir/logs"
  if [ -f "$ENV_FILE" ]; then
    rm -f "$dir/.env"
    ln -sfn "$ENV_FILE" "$dir/.env"
  fi
}

# Everything that can fail slowly happens in releases/.incoming-<id>.<pid>/ (skipped by every listing), so a deploy
# killed midway never leaves a half-installed or unmigrated release that rollback could pick. STAGING_DIR holds the
# received artifact.tgz and an empty release/.
build_release() {
  local release=$1 dir="$STAGING_DIR/release"
  phase_start install
  unpack_artifact "$STAGING_DIR" || fail "$EXIT_BAD_ARTIFACT" "could not unpack the artifact of $release"
  log "installing production dependencies of $release"
  install_dependencies "$dir" || fail "$EXIT_INSTALL_FAILED" "pnpm install failed for $release"
  link_shared_files "$dir"
  phase_done
  phase_start migrate
  run_migrations "$dir" "$release" ||
    fail "$EXIT_MIGRATION_FAILED" "migrations failed; $release was not switched live (${PREVIOUS:-no release} keeps serving)"
  phase_done
  NEW_RELEASE=$release
  mv -T "$dir" "$RELEASES_DIR/$release"
  remove_tree "$STAGING_DIR"
  STAGING_DIR=""
}

# The upload comes first, without the lock (receive_upload); everything after it holds the lock.
verb_deploy() {
  local release=$RELEASE
  refuse_existing_release "$release"
  STAGING_DIR="$RELEASES_DIR/.incoming-$release.$$"
  mkdir -p "$STAGING_DIR/release"
  phase_start upload
  receive_upload "$STAGING_DIR"
  phase_done
  take_lock
  clean_leftovers
  refuse_existing_release "$release"
  PREVIOUS=$(current_release)
  log "replacing ${PREVIOUS:-none}"
  if side_by_side; then free_next_port; fi
  build_release "$release"
  if side_by_side; then go_live_beside "$release" "$PREVIOUS"; else go_live "$release" "$PREVIOUS"; fi
  prune_releases "$release" "$PREVIOUS"
  log "release $release is live"
}

refuse_existing_release() {
  [ ! -e "$RELEASES_DIR/$1" ] || fail "$EXIT_BAD_RELEASE_ID" "release $1 exists already (make a new release id)"
}

# deploy.strategy reload: switch, reload, health gate; any failure switches back to <previous> (via on_exit).
go_live() {
  local release=$1 previous=$2
  phase_start switch
  SWITCHED_FROM=$previous
  leave_side_by_side
  switch_current "$release"
  log "current -> $release; reloading $APP_NAME"
  pm2_start_or_reload || fail "$EXIT_RELOAD_FAILED" "pm2 could not start $release; switching back to ${previous:-no release}"
  phase_done
  phase_start health
  wait_until_healthy || health_gate_failed "$release" "$previous"
  phase_done
  # Healthy: from here on an interruption keeps this release (NEW_RELEASE first: in between, an undo switches
  # back without deleting the release it switches away from).
  NEW_RELEASE=""
  SWITCHED_FROM=none
  end_maintenance_of_this_call
  finish_leaving_side_by_side
  save_process_list "$ECOSYSTEM_JS"
}

# `save_process_list <what pm2 holds>`: pm2 save rewrites the list pm2 resurrects at boot, needed when what it
# saves changed (the ecosystem settings, which releases run, the app's environment), not on every deploy and
# rollback (one pm2 round trip less).
save_process_list() {
  local marker="$APP_ROOT/.pm2-saved" fingerprint
  fingerprint=$({
    printf '%s\n' "$1"
    cat "$ENV_FILE" 2>/dev/null || true
  } | sha256sum)
  if [ -f "${PM2_HOME:-$APP_HOME/.pm2}/dump.pm2" ] && [ "$(cat "$marker" 2>/dev/null)" = "$fingerprint" ]; then return 0; fi
  if pm2_cli save >/dev/null; then
    printf '%s\n' "$fingerprint" >"$marker"
  else
    log "warning: pm2 save failed (the process list may not survive a reboot)"
  fi
}

# --- rollback, releases, status, health, migrations ---

verb_rollback() {
  local current target
  take_lock
  current=$(current_release)
  if [ -n "$RELEASE" ]; then
    [ -d "$RELEASES_DIR/$RELEASE" ] || fail "$EXIT_RELEASE_NOT_FOUND" "release $RELEASE is not on this host (list them with: releases)"
    target=$RELEASE
  else
    [ -n "$current" ] || fail "$EXIT_NO_ROLLBACK_TARGET" "there is no current release to roll back from"
    target=$(release_before "$current")
    [ -n "$target" ] || fail "$EXIT_NO_ROLLBACK_TARGET" "no release older than $current on this host"
    RELEASE=$target
  fi
  warn_schema_ahead "$current" "$target"
  if side_by_side; then roll_back_beside "$target" "$current"; else go_live "$target" "$current"; fi
  log "rolled back to $target (was ${current:-none}) in $(seconds_since "$AGENT_STARTED")"
}

verb_releases() {
  local current release
  current=$(current_release)
  while IFS= read -r release; do
    if [ "$release" = "$current" ]; then printf '* %s\n' "$release"; else printf '  %s\n' "$release"; fi
  done < <(list_releases | sort -r)
}

verb_status() {
  local current port
  current=$(current_release)
  printf 'app: %s\ncurrent: %s\n' "$APP_NAME" "${current:-none}"
  if side_by_side || any_slot_in_use; then
    probe_port "$(serving_port)"
    for port in "$FIRST_PORT" "$SECOND_PORT"; do
      printf 'port %s: %s%s\n' "$port" "$(slot_release "$port" | grep . || echo none)" \
        "$(if [ "$port" = "$HEALTH_PORT" ]; then echo " (the proxy sends requests here)"; fi)"
    done
  fi
  pm2_cli describe "$APP_NAME" || true
  if health_once; then echo "health: ok ($HEALTH_URL)"; else echo "health: failing ($HEALTH_URL)"; fi
}

verb_health() {
  if side_by_side; then probe_port "$(serving_port)"; fi
  if ! health_once; then
    [ -z "$HEALTH_STATUS" ] || fail "$EXIT_UNHEALTHY" "$HEALTH_URL answered $(answer_of "$HEALTH_STATUS" "$HEALTH_EXCERPT"), not 2xx"
    fail "$EXIT_UNHEALTHY" "nothing answered $HEALTH_URL (is the app listening on port $HEALTH_PORT?)"
  fi
  echo "healthy: $HEALTH_URL"
}

# `run_migration_verb <command> <up|down|status>`: in the current release, after the backup a migration needs.
run_migration_verb() {
  local command=$1 direction=$2 current
  take_lock
  current=$(current_release)
  [ -n "$current" ] || fail "$EXIT_RELEASE_NOT_FOUND" "there is no current release (deploy first)"
  RELEASE=$current
  if has_switch --maintenance; then maintenance_during_this_call; fi
  backup_before_migration_verb "$direction" "$current"
  run_in_release "$RELEASES_DIR/$current" "$command" || fail "$EXIT_MIGRATION_FAILED" "'$command' failed in $current"
}

verb_maintenance() {
  require_maintenance_directory
  case $ARGUMENT in
    on) : >"$MAINTENANCE_FLAG" ;;
    off) rm -f "$MAINTENANCE_FLAG" ;;
    *) ;;
  esac
  if maintenance_is_on; then echo "maintenance: on"; else echo "maintenance: off"; fi
}

# --- entry point ---

main() {
  trap on_exit EXIT
  trap_signals
  read_invocation "$@"
  parse_arguments
  [ "$(id -un)" = "$DEPLOY_USER" ] || fail "$EXIT_USAGE" "run the agent as $DEPLOY_USER (sudo -u $DEPLOY_USER $0 ...)"
  export_env_file /etc/environment
  export LC_ALL=C HOME="$APP_HOME" PM2_HOME="$APP_HOME/.pm2" PATH=/usr/local/bin:/usr/bin:/bin
  umask 027
  cd "$APP_HOME"
  dispatch_verb
}

# Sourced (tests, other tools), the agent only defines its functions; executed, it runs main.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then main "$@"; fi
