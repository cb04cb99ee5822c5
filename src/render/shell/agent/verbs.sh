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
# A watchdog polls the size: at most MAX_ARTIFACT_BYTES are read (one byte more is refused), and an upload that
# sends nothing for UPLOAD_IDLE_TIMEOUT_SECONDS is given up.
receive_upload() {
  local archive="$1/artifact.tgz" size=0 last_size=0 last_change now status=0
  local idle_limit=$((UPLOAD_IDLE_TIMEOUT_SECONDS * 1000000))
  : >"$archive"
  # dd writes every block as it arrives (head would buffer it, and a trickle would look stalled). fullblock: without
  # it, count_bytes counts the short reads of a pipe as whole blocks and stops early.
  dd iflag=count_bytes,fullblock count="$((MAX_ARTIFACT_BYTES + 1))" bs=4K status=none <&0 >"$archive" &
  UPLOAD_PID=$!
  last_change=${EPOCHREALTIME/./}
  while kill -0 "$UPLOAD_PID" 2>/dev/null; do
    sleep 0.1
    size=$(stat -c %s "$archive")
    now=${EPOCHREALTIME/./}
    if [ "$size" -ne "$last_size" ]; then
      last_size=$size
      last_change=$now
    elif [ $((now - last_change)) -ge "$idle_limit" ] && kill -0 "$UPLOAD_PID" 2>/dev/null; then
      stop_upload
      fail "$EXIT_UPLOAD_REFUSED" "the upload sent nothing for ${UPLOAD_IDLE_TIMEOUT_SECONDS}s (deploy.uploadIdleTimeoutSeconds); gave it up"
    fi
    if [ "$size" -gt "$MAX_ARTIFACT_BYTES" ]; then break; fi
  done
  wait "$UPLOAD_PID" || status=$?
  UPLOAD_PID=""
  size=$(stat -c %s "$archive")
  if [ "$size" -gt "$MAX_ARTIFACT_BYTES" ]; then
    fail "$EXIT_UPLOAD_REFUSED" "the artifact is larger than $MAX_ARTIFACT_BYTES bytes (deploy.maxArtifactMegabytes); refused"
  fi
  [ "$status" -eq 0 ] || fail "$EXIT_UPLOAD_REFUSED" "could not read the artifact from stdin"
}

# Ends a running upload (on a failure or a signal); nothing when none runs.
stop_upload() {
  if [ -z "$UPLOAD_PID" ]; then return 0; fi
  kill "$UPLOAD_PID" 2>/dev/null || true
  wait "$UPLOAD_PID" 2>/dev/null || true
  UPLOAD_PID=""
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

# Lifecycle scripts are off unless the app lists the dependencies that may build (pnpm.onlyBuiltDependencies in
# package.json, which pnpm 9 honours) and deploy.dependencyScripts is "listed"; .pnpmfile.cjs never runs.
# The flags are on the command line: they beat every .npmrc.
install_dependencies() {
  local dir=$1 scripts=(--ignore-scripts)
  if [ ! -f "$dir/package.json" ]; then
    log "no package.json in the artifact: nothing to install"
    return 0
  fi
  if [ "$DEPENDENCY_SCRIPTS" = listed ] && lists_built_dependencies "$dir/package.json"; then
    scripts=()
    log "lifecycle scripts: only the dependencies package.json lists in pnpm.onlyBuiltDependencies"
  else
    log "lifecycle scripts: off (list dependencies that must build in pnpm.onlyBuiltDependencies)"
  fi
  (cd "$dir" && pnpm install --prod --frozen-lockfile --ignore-pnpmfile "${scripts[@]}" --store-dir "$PNPM_STORE" \
    --reporter=append-only </dev/null 9>&-)
}

# Parsed as JSON, never required (a package.json is data, not code).
lists_built_dependencies() {
  node -e 'const p = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
process.exit(p && p.pnpm && Array.isArray(p.pnpm.onlyBuiltDependencies) ? 0 : 1)' "$1" </dev/null 9>&- 2>/dev/null
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
  local release=$1 dir="$STAGING_DIR/release" started=${EPOCHREALTIME/./}
  unpack_artifact "$STAGING_DIR" || fail "$EXIT_BAD_ARTIFACT" "could not unpack the artifact of $release"
  log "installing production dependencies of $release"
  install_dependencies "$dir" || fail "$EXIT_INSTALL_FAILED" "pnpm install failed for $release"
  link_shared_files "$dir"
  phase_done install "$started"
  log "running migrations of $release"
  started=${EPOCHREALTIME/./}
  run_in_release "$dir" "$MIGRATE_COMMAND" ||
    fail "$EXIT_MIGRATION_FAILED" "migrations failed; $release was not switched live (${PREVIOUS:-no release} keeps serving)"
  phase_done migrate "$started"
  NEW_RELEASE=$release
  mv -T "$dir" "$RELEASES_DIR/$release"
  remove_tree "$STAGING_DIR"
  STAGING_DIR=""
}

# The upload comes first, without the lock (receive_upload); everything after it holds the lock.
verb_deploy() {
  local release=$RELEASE started=${EPOCHREALTIME/./}
  refuse_existing_release "$release"
  STAGING_DIR="$RELEASES_DIR/.incoming-$release.$$"
  mkdir -p "$STAGING_DIR/release"
  receive_upload "$STAGING_DIR"
  phase_done upload "$started"
  take_lock
  clean_leftovers
  refuse_existing_release "$release"
  PREVIOUS=$(current_release)
  build_release "$release"
  go_live "$release" "$PREVIOUS"
  prune_releases "$release" "$PREVIOUS"
  log "release $release is live"
}

refuse_existing_release() {
  [ ! -e "$RELEASES_DIR/$1" ] || fail "$EXIT_BAD_RELEASE_ID" "release $1 exists already (make a new release id)"
}

# Switch, reload, health gate; any failure switches back to <previous> (via on_exit).
go_live() {
  local release=$1 previous=$2 started=${EPOCHREALTIME/./}
  SWITCHED_FROM=$previous
  switch_current "$release"
  log "current -> $release; reloading $APP_NAME"
  pm2_start_or_reload || fail "$EXIT_RELOAD_FAILED" "pm2 could not start $release; switching back to ${previous:-no release}"
  phase_done switch "$started"
  started=${EPOCHREALTIME/./}
  wait_until_healthy ||
    fail "$EXIT_UNHEALTHY" "$release did not answer $HEALTH_URL with 2xx within ${HEALTH_TIMEOUT_SECONDS}s; switched back to ${previous:-no release}"
  phase_done health "$started"
  # Healthy: from here on an interruption keeps this release (NEW_RELEASE first: in between, an undo switches
  # back without deleting the release it switches away from).
  NEW_RELEASE=""
  SWITCHED_FROM=none
  pm2_cli save >/dev/null || log "warning: pm2 save failed (the process list may not survive a reboot)"
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
  go_live "$target" "$current"
  log "rolled back to $target (was ${current:-none})"
}

verb_releases() {
  local current release
  current=$(current_release)
  while IFS= read -r release; do
    if [ "$release" = "$current" ]; then printf '* %s\n' "$release"; else printf '  %s\n' "$release"; fi
  done < <(list_releases | sort -r)
}

verb_status() {
  local current
  current=$(current_release)
  printf 'app: %s\ncurrent: %s\n' "$APP_NAME" "${current:-none}"
  pm2_cli describe "$APP_NAME" || true
  if health_once; then echo "health: ok ($HEALTH_URL)"; else echo "health: failing ($HEALTH_URL)"; fi
}

verb_health() {
  health_once || fail "$EXIT_UNHEALTHY" "$HEALTH_URL does not answer with 2xx"
  echo "healthy: $HEALTH_URL"
}

run_migration_verb() {
  local command=$1 current
  take_lock
  current=$(current_release)
  [ -n "$current" ] || fail "$EXIT_RELEASE_NOT_FOUND" "there is no current release (deploy first)"
  RELEASE=$current
  run_in_release "$RELEASES_DIR/$current" "$command" || fail "$EXIT_MIGRATION_FAILED" "'$command' failed in $current"
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
