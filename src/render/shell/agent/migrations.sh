# shellcheck shell=bash
# Migrations and the database: whether a release has migrations to run (app.migrationsUpToDateCommand), the backup
# before them and its mark (backups.sh keeps marked backups apart), and which migration files (app.migrationsDir)
# one release lacks that another has.

# MIGRATIONS_PENDING for the release in <dir>: "no" when app.migrationsUpToDateCommand exits 0 there, "yes" when it
# exits otherwise (it could not tell either: the safe side), "unknown" without the command.
check_pending_migrations() {
  local dir=$1 status=0
  if [ -z "$MIGRATIONS_UP_TO_DATE_COMMAND" ]; then
    MIGRATIONS_PENDING=unknown
    return 0
  fi
  run_in_release "$dir" "$MIGRATIONS_UP_TO_DATE_COMMAND" >&2 || status=$?
  if [ "$status" -eq 0 ]; then
    MIGRATIONS_PENDING=no
    log "no migrations to run (app.migrationsUpToDateCommand exited 0)"
  else
    MIGRATIONS_PENDING=yes
    log "migrations to run (app.migrationsUpToDateCommand exited $status)"
  fi
}

# The names of the migration files of the release in <dir> (app.migrationsDir), sorted; nothing without the directory.
migration_files() {
  local from="$1/$MIGRATIONS_DIR" file
  if [ -z "$MIGRATIONS_DIR" ] || [ ! -d "$from" ]; then return 0; fi
  for file in "$from"/*; do
    if [ -f "$file" ]; then printf '%s\n' "${file##*/}"; fi
  done | sort
}

# The migration files of the release in <dir> that the release in <other dir> lacks, one a line.
migrations_missing_from() {
  comm -23 <(migration_files "$1") <(migration_files "$2")
}

# Marks the backup this call took (BACKUP_ID), else the newest on this host (the caller's, --backup-taken), as the one
# before a schema change (<what>); nothing when there is none.
mark_before_schema_change() {
  local what=$1 id=$BACKUP_ID
  if [ -z "$id" ]; then id=$(list_backups | tail -n 1); fi
  if [ -z "$id" ]; then
    log "no backup on this host to mark as the one before $what"
    return 0
  fi
  (umask 077 && printf '%s\n' "$what" >"$(schema_mark_file "$id")")
  log "backup $id: kept as the one before $what (backup.keep counts these apart)"
}

# Takes the backup before migrations with the environment of <release>, unless the caller took one (--backup-taken).
take_backup_before_migrations() {
  local release=$1
  if has_switch --backup-taken; then
    log "backup before the migrations: taken by the caller"
    return 0
  fi
  BACKUP_ID=$(new_backup_id "$release")
  take_backup "$BACKUP_ID" "$release"
}

# Before a deploy's migrations in <dir> (the lock is held, nothing has changed yet), with backup.beforeMigrations:
# a backup unless no release is live yet or app.migrationsUpToDateCommand says there is nothing to migrate. It is
# marked as the one before a schema change when there are migrations to run, or (without the command) the release
# adds migration files.
backup_before_migrations() {
  local dir=$1 release=$2 added
  if [ "$BACKUP_BEFORE_MIGRATIONS" != yes ]; then return 0; fi
  if [ -z "$PREVIOUS" ]; then
    log "backup before the migrations: no release is live yet, nothing to back up"
    return 0
  fi
  check_pending_migrations "$dir"
  if [ "$MIGRATIONS_PENDING" = no ]; then
    log "backup before the migrations: none needed, the database is up to date"
    return 0
  fi
  take_backup_before_migrations "$PREVIOUS"
  added=$(migrations_missing_from "$dir" "$RELEASES_DIR/$PREVIOUS")
  if [ "$MIGRATIONS_PENDING" = yes ] || [ -n "$added" ]; then
    mark_before_schema_change "the migrations of $release"
  fi
}

# Before a migrate verb in the current <release>, with backup.beforeMigrations: before a down migration always,
# before "up" unless app.migrationsUpToDateCommand says there is nothing to migrate.
backup_before_migration_verb() {
  local direction=$1 release=$2
  if [ "$BACKUP_BEFORE_MIGRATIONS" != yes ] || [ "$direction" = status ]; then return 0; fi
  if [ "$direction" = up ]; then
    check_pending_migrations "$RELEASES_DIR/$release"
    if [ "$MIGRATIONS_PENDING" = no ]; then
      log "backup before the migrations: none needed, the database is up to date"
      return 0
    fi
  fi
  take_backup_before_migrations "$release"
  if [ "$direction" = down ]; then
    mark_before_schema_change "a down migration in $release"
  elif [ "$MIGRATIONS_PENDING" = yes ]; then
    mark_before_schema_change "the migrations of $release"
  fi
}

# Before a rollback from <current> to <target> switches: migration files of <current> that <target> lacks mean the
# database is ahead of <target>'s code once they ran. The rollback goes on (a broken release must be left at once);
# the warning names them and the order that works.
warn_schema_ahead() {
  local current=$1 target=$2 missing
  if [ -z "$current" ] || [ -z "$MIGRATIONS_DIR" ]; then return 0; fi
  missing=$(migrations_missing_from "$RELEASES_DIR/$current" "$RELEASES_DIR/$target")
  if [ -z "$missing" ]; then return 0; fi
  log "warning: $target lacks migrations of $current ($MIGRATIONS_DIR/): $(paste -sd ' ' <<<"$missing")"
  log "warning: unless they were reverted, the database keeps what they applied: its schema is ahead of $target's code, and migrate-rollback in $target cannot revert them (their files are not in it)"
  log "warning: the order that works: revert them first with $current current (the migrate workflow's rollback action, or: npm run sandbox -- migrate down; once per batch), then roll back; or keep the schema ahead when $target's code works with it"
}

# A deploy that switches back to <previous> after its release <new> failed (the health gate, pm2): the migrations
# <new> added ran and stay, and <new> is removed with their files. Names them and what can be done.
warn_schema_left_ahead() {
  local new=$1 previous=$2 when=${3:-after the switch back} added
  if [ -z "$previous" ] || [ -z "$MIGRATIONS_DIR" ]; then return 0; fi
  added=$(migrations_missing_from "$RELEASES_DIR/$new" "$RELEASES_DIR/$previous")
  if [ -z "$added" ]; then return 0; fi
  log "warning: the migrations $new added stay applied $when ($MIGRATIONS_DIR/): $(paste -sd ' ' <<<"$added"); $previous runs with a schema ahead of its code"
  log "warning: $new is removed with their files, so migrate-rollback cannot revert them: deploy a fixed release (they are applied already)${BACKUP_ID:+, or restore the backup taken before them (restore $BACKUP_ID)}"
}
