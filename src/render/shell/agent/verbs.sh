# shellcheck shell=bash
# The verbs of the release agent and its entry point. Which verbs exist, their arguments and which function
# implements each are rendered from the verb contract (src/render/agentProtocol.ts) as verb_spec and dispatch_verb.

# --- deploy ---

# Leftovers of a deploy that was killed midway; safe to remove because we hold the lock.
clean_leftovers() {
  local leftover
  for leftover in "$RELEASES_DIR"/.incoming-*; do remove_tree "$leftover"; done
  rm -f "$APP_ROOT/current.tmp" "$ECOSYSTEM_FILE.tmp"
}

# Only regular files and directories, no absolute paths, no '..': checked on the listing before extracting.
receive_artifact() {
  local staging=$1 archive="$1/artifact.tgz" types name
  cat >"$archive" || return 1
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

install_dependencies() {
  local dir=$1
  if [ ! -f "$dir/package.json" ]; then
    log "no package.json in the artifact: nothing to install"
    return 0
  fi
  (cd "$dir" && pnpm install --prod --frozen-lockfile --store-dir "$PNPM_STORE" --reporter=append-only </dev/null 9>&-)
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

# Everything that can fail slowly happens in releases/.incoming-<id>/ (skipped by every listing), so a deploy killed
# midway never leaves a half-installed or unmigrated release that rollback could pick.
build_release() {
  local release=$1 dir
  STAGING_DIR="$RELEASES_DIR/.incoming-$release"
  dir="$STAGING_DIR/release"
  mkdir -p "$dir"
  receive_artifact "$STAGING_DIR" || fail "$EXIT_BAD_ARTIFACT" "could not unpack the artifact of $release"
  log "installing production dependencies of $release"
  install_dependencies "$dir" || fail "$EXIT_INSTALL_FAILED" "pnpm install failed for $release"
  link_shared_files "$dir"
  log "running migrations of $release"
  run_in_release "$dir" "$MIGRATE_COMMAND" ||
    fail "$EXIT_MIGRATION_FAILED" "migrations failed; $release was not switched live (${PREVIOUS:-no release} keeps serving)"
  NEW_RELEASE=$release
  mv -T "$dir" "$RELEASES_DIR/$release"
  remove_tree "$STAGING_DIR"
  STAGING_DIR=""
}

verb_deploy() {
  local release=$RELEASE
  take_lock
  clean_leftovers
  [ ! -e "$RELEASES_DIR/$release" ] || fail "$EXIT_BAD_RELEASE_ID" "release $release exists already (make a new release id)"
  PREVIOUS=$(current_release)
  build_release "$release"
  go_live "$release" "$PREVIOUS"
  prune_releases "$release" "$PREVIOUS"
  log "release $release is live"
}

# Switch, reload, health gate; any failure switches back to <previous> (via on_exit).
go_live() {
  local release=$1 previous=$2
  SWITCHED_FROM=$previous
  switch_current "$release"
  log "current -> $release; reloading $APP_NAME"
  pm2_start_or_reload || fail "$EXIT_RELOAD_FAILED" "pm2 could not start $release; switching back to ${previous:-no release}"
  wait_until_healthy ||
    fail "$EXIT_UNHEALTHY" "$release did not answer $HEALTH_URL with 2xx within ${HEALTH_TIMEOUT_SECONDS}s; switched back to ${previous:-no release}"
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
