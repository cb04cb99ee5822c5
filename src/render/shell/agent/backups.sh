# shellcheck shell=bash
# Database backups of the release agent: dumps under BACKUPS_DIR, the deploy user's own (0700, files 0600: they hold
# the database's contents). Root never touches them.

backup_file() { printf '%s/%s.dump\n' "$BACKUPS_DIR" "$1"; }

# <UTC now>-<release>: ids sort by the time of the dump.
new_backup_id() { printf '%s-%s\n' "$(date -u +%Y%m%d%H%M%S)" "$1"; }

# Backup ids on this host, oldest first (temporary files start with a dot and are skipped).
list_backups() {
  local file name
  for file in "$BACKUPS_DIR"/*.dump; do
    name=$(basename "$file" .dump)
    if [ -f "$file" ] && [[ $name =~ $BACKUP_ID_PATTERN ]]; then printf '%s\n' "$name"; fi
  done | sort
}

make_backups_dir() {
  mkdir -p "$BACKUPS_DIR"
  chmod 700 "$BACKUPS_DIR"
}

# Dumps the database with the environment of <release> into <id>.dump: into a temporary file first, renamed only
# when the dump command succeeded, so a failed or interrupted dump leaves nothing that looks like a backup.
take_backup() {
  local id=$1 release=$2 target errors status=0
  target=$(backup_file "$id")
  [ ! -e "$target" ] || fail "$EXIT_BACKUP_FAILED" "backup $id exists already"
  make_backups_dir
  BACKUP_PARTIAL="$BACKUPS_DIR/.partial-$id.$$"
  log "backing up the database with the environment of $release"
  errors=$(
    umask 077
    run_database_command "$RELEASES_DIR/$release" "$DUMP_COMMAND" 2>&1 >"$BACKUP_PARTIAL"
  ) || status=$?
  if [ -n "$errors" ]; then printf '%s\n' "$errors" >&2; fi
  if [ "$status" -ne 0 ]; then
    rm -f "$BACKUP_PARTIAL"
    BACKUP_PARTIAL=""
    fail_on_version_mismatch "$errors"
    fail "$EXIT_BACKUP_FAILED" "the dump command (backup.dumpCommand) failed; no backup was kept and nothing was changed"
  fi
  mv -T "$BACKUP_PARTIAL" "$target"
  BACKUP_PARTIAL=""
  log "backup $id: $(stat -c %s "$target") bytes"
  prune_backups "$id"
}

# pg_dump refuses a server of a newer major version than its own: "aborting because of server version mismatch",
# with the detail "server version: 16.4 (...); pg_dump version: 15.8 (...)". Debian 12's client is 15.
fail_on_version_mismatch() {
  local errors=$1 versions='server version: ([0-9]+)[^;]*; pg_dump version: ([0-9]+)' server=newer client=older
  [[ $errors == *"aborting because of server version mismatch"* ]] || return 0
  if [[ $errors =~ $versions ]]; then server=${BASH_REMATCH[1]} client=${BASH_REMATCH[2]}; fi
  fail "$EXIT_BACKUP_FAILED" "the database server is PostgreSQL $server but pg_dump is version $client, which refuses to dump a newer server: install postgresql-client-$server on the host (from the PostgreSQL project's apt repository), or set backup.dumpCommand to a pg_dump of version $server or newer. No backup was kept and nothing was changed"
}

# A backup taken before a schema change (migrations ran after it) has a mark next to it: <id>.before-migrations,
# which names the change.
schema_mark_file() { printf '%s/%s.before-migrations\n' "$BACKUPS_DIR" "$1"; }

is_before_schema_change() { [ -f "$(schema_mark_file "$1")" ]; }

# Keeps the BACKUP_KEEP newest backups, the BACKUP_KEEP newest of those marked before a schema change (so deploys
# without migrations never push those out), and <spare>.
prune_backups() {
  local spare=$1 kept=0 marked=0 id
  while IFS= read -r id; do
    kept=$((kept + 1))
    if is_before_schema_change "$id"; then
      marked=$((marked + 1))
      if [ "$marked" -le "$BACKUP_KEEP" ]; then continue; fi
    fi
    if [ "$kept" -le "$BACKUP_KEEP" ] || [ "$id" = "$spare" ]; then continue; fi
    log "pruning backup $id"
    rm -f "$(backup_file "$id")" "$(schema_mark_file "$id")"
  done < <(list_backups | sort -r)
}

# stdin -> a temporary file (0600), before the lock: the restore command reads a whole dump, never a stream that
# may end early when the connection is lost. Capped and watched like the artifact upload.
receive_dump() {
  make_backups_dir
  RESTORE_INPUT="$BACKUPS_DIR/.incoming-$BACKUP_ID.$$"
  (umask 077 && : >"$RESTORE_INPUT")
  receive_stdin "$RESTORE_INPUT" "$MAX_RESTORE_BYTES" "the dump" backup.maxRestoreMegabytes
  [ -s "$RESTORE_INPUT" ] || fail "$EXIT_BACKUP_NOT_FOUND" "stdin brought no dump for $BACKUP_ID"
}

# A failed or interrupted call leaves no half-written dump behind.
discard_backup_files_in_the_making() {
  if [ -n "$BACKUP_PARTIAL" ]; then rm -f "$BACKUP_PARTIAL" || true; fi
  if [ -n "$RESTORE_INPUT" ]; then rm -f "$RESTORE_INPUT" || true; fi
}

verb_backup() {
  local current
  take_lock
  current=$(current_release)
  [ -n "$current" ] || fail "$EXIT_RELEASE_NOT_FOUND" "there is no current release (deploy first): the dump runs with its environment"
  if [ -z "$BACKUP_ID" ]; then BACKUP_ID=$(new_backup_id "$current"); fi
  [ "${BACKUP_ID#*-}" = "$current" ] ||
    fail "$EXIT_USAGE" "backup id $BACKUP_ID does not name the current release $current"
  take_backup "$BACKUP_ID" "$current"
  cat "$(backup_file "$BACKUP_ID")"
}

verb_backups() {
  local id
  while IFS= read -r id; do
    printf '%s %s%s\n' "$id" "$(stat -c %s "$(backup_file "$id")")" "$(if is_before_schema_change "$id"; then echo " before-migrations"; fi)"
  done < <(list_backups | sort -r)
}

# Replaces the database's contents: only in maintenance mode (nobody writes meanwhile) or when the caller confirms.
verb_restore() {
  local dump current
  if ! maintenance_is_on && ! has_switch --confirm; then
    fail "$EXIT_RESTORE_REFUSED" "a restore replaces the database: switch maintenance mode on first (maintenance on) or pass --confirm"
  fi
  if has_switch --stdin; then
    receive_dump
    dump=$RESTORE_INPUT
  else
    dump=$(backup_file "$BACKUP_ID")
    [ -f "$dump" ] || fail "$EXIT_BACKUP_NOT_FOUND" "backup $BACKUP_ID is not on this host (list them with: backups; or stream the dump with --stdin)"
  fi
  take_lock
  current=$(current_release)
  [ -n "$current" ] || fail "$EXIT_RELEASE_NOT_FOUND" "there is no current release (deploy first): the restore runs with its environment"
  log "restoring backup $BACKUP_ID with the environment of $current"
  run_database_command "$RELEASES_DIR/$current" "$RESTORE_COMMAND" "$dump" ||
    fail "$EXIT_RESTORE_FAILED" "the restore command (backup.restoreCommand) failed"
  log "restored backup $BACKUP_ID"
}
