#!/usr/bin/env bash
# The whole database cycle of the sandbox, run with a real Express + PostgreSQL app of your own (knex or
# node-pg-migrate migrations), as a new user would: first deploy with the stack's database on the host, a deploy that
# changes the schema (a backup before it), a deploy with nothing to migrate (no backup), the backups, a rollback past
# a migration (the warning naming it), migrate down and up, a deploy whose migration fails (the previous release keeps
# serving), a release whose health path answers 500 (the gate names it), a restore in maintenance mode, down.
#
# The app is never changed and never part of this repository: the script works on a copy in a temporary directory
# (a git repository of its own), where it adds the migrations and the unhealthy patch it needs.
#
#   tools/trial/database-app-cycle.sh <app-dir> [options]
#     --start-script FILE    the app's entry file (default: package.json's "main", else index.js)
#     --health-path PATH     a path the app answers with 2xx (default /health)
#     --port N               the port the app listens on, from PORT (default 3000)
#     --migrations-dir DIR   the app's migration files (default migrations)
#     --tool knex|node-pg-migrate   the migration tool (default knex)
#     --env-file FILE        the app's environment beyond DATABASE_URL (KEY=value lines)
#     --prepare CMD          bash command run in the copy before its first commit (to adapt the app)
#     --print-stack          print the stack file it would use and exit (nothing else runs)
#
# Creates sandbox hosts: run it alone, as root, under the host tests' lock:
#   flock /tmp/pipeline-hosttest.lock tools/trial/database-app-cycle.sh /tmp/trial-app
# The sandbox's state goes to PIPELINE_SANDBOX_DIR (default: a directory in the temporary one); it is always
# brought down at the end.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
APP_NAME=trial-app
START_SCRIPT="" HEALTH_PATH=/health PORT=3000 MIGRATIONS_DIR=migrations TOOL=knex ENV_FILE="" PREPARE="" PRINT_STACK=""

die() {
  printf 'database-app-cycle: %s\n' "$*" >&2
  exit 1
}

[ $# -ge 1 ] || die "usage: $0 <app-dir> [--start-script FILE] [--health-path PATH] [--port N] [--migrations-dir DIR] [--tool knex|node-pg-migrate] [--env-file FILE] [--prepare CMD] [--print-stack]"
APP_DIR=$(cd "$1" && pwd) || die "no app directory $1"
shift
while [ $# -gt 0 ]; do
  case $1 in
    --start-script) START_SCRIPT=$2 ;;
    --health-path) HEALTH_PATH=$2 ;;
    --port) PORT=$2 ;;
    --migrations-dir) MIGRATIONS_DIR=$2 ;;
    --tool) TOOL=$2 ;;
    --env-file) ENV_FILE=$(cd "$(dirname "$2")" && pwd)/$(basename "$2") ;;
    --prepare) PREPARE=$2 ;;
    --print-stack) PRINT_STACK=1; shift; continue ;;
    *) die "unknown option $1" ;;
  esac
  shift 2
done
if [ -z "$START_SCRIPT" ]; then
  START_SCRIPT=$(node -p 'require(process.argv[1]).main || "index.js"' "$APP_DIR/package.json")
fi

# The migration tool's commands, as the README gives them (app.migrationsUpToDateCommand among them).
case $TOOL in
  knex)
    MIGRATE="npx knex migrate:latest"
    MIGRATE_ROLLBACK="npx knex migrate:rollback"
    MIGRATE_STATUS="npx knex migrate:list"
    UP_TO_DATE="npx knex migrate:list | grep -q 'No Pending Migration files Found'"
    ;;
  node-pg-migrate)
    MIGRATE="npx node-pg-migrate up -m $MIGRATIONS_DIR"
    MIGRATE_ROLLBACK="npx node-pg-migrate down -m $MIGRATIONS_DIR"
    MIGRATE_STATUS="npx node-pg-migrate up --dry-run -m $MIGRATIONS_DIR"
    UP_TO_DATE="npx node-pg-migrate up --dry-run -m $MIGRATIONS_DIR | grep -q 'No migrations to run'"
    ;;
  *) die "--tool must be knex or node-pg-migrate, not $TOOL" ;;
esac

# YAML double-quoted scalar (JSON is YAML).
yq() { node -p 'JSON.stringify(process.argv[1])' "$1"; }

stack_file() {
  cat <<EOF
# Written by tools/trial/database-app-cycle.sh for the sandbox: one host, PostgreSQL on it.
config:
  github:owner: trial-owner
  pipeline:repository: $APP_NAME
  pipeline:environment: production
  pipeline:branch: main
  pipeline:url: https://trial.example.com
  pipeline:ingress:
    acmeEmail: ops@example.com
  pipeline:hosts:
    - host: trial-1.example.com
  pipeline:deployUser: deploy
  pipeline:ownsRepositorySettings: false
  pipeline:database:
    enabled: true
  pipeline:backup:
    beforeMigrations: true
    keep: 3
  pipeline:app:
    name: $APP_NAME
    port: $PORT
    healthPath: $(yq "$HEALTH_PATH")
    instances: 1
    startScript: $(yq "$START_SCRIPT")
    buildCommand: ""
    lintCommand: ""
    typecheckCommand: ""
    testCommand: ""
    packageManagerField: false
    migrateCommand: $(yq "$MIGRATE")
    migrateRollbackCommand: $(yq "$MIGRATE_ROLLBACK")
    migrateStatusCommand: $(yq "$MIGRATE_STATUS")
    migrationsUpToDateCommand: $(yq "$UP_TO_DATE")
    migrationsDir: $(yq "$MIGRATIONS_DIR")
EOF
}

if [ -n "$PRINT_STACK" ]; then
  stack_file
  exit 0
fi

WORK=$(mktemp -d /tmp/database-app-cycle.XXXXXX)
export PIPELINE_SANDBOX_DIR=${PIPELINE_SANDBOX_DIR:-$WORK/sandbox}
COPY=$WORK/app
STACK=$WORK/Pulumi.trial.yaml
SANDBOX_UP=""
STEPS=()
STARTED=$(date +%s)

sandbox() { (cd "$REPO" && npm run --silent sandbox -- "$@"); }

finish() {
  local code=$?
  if [ -n "$SANDBOX_UP" ]; then
    printf '\n== down\n'
    sandbox down || code=1
  fi
  printf '\n== summary (%s at %s)\n' "$APP_DIR" "$(git -C "$APP_DIR" rev-parse --short=12 HEAD 2>/dev/null || echo 'no git')"
  printf '%s\n' "${STEPS[@]}"
  printf '%-22s %4ss\n' total $(($(date +%s) - STARTED))
  if [ "$code" -eq 0 ]; then printf 'the whole cycle passed; logs in %s\n' "$WORK"; else printf 'FAILED (exit %s); logs in %s\n' "$code" "$WORK"; fi
  exit "$code"
}
trap finish EXIT

# `step <name> <expected exit: 0|fail> <sandbox args...>`: runs a sandbox verb, shows its output as it comes, keeps it
# in $WORK/<name>.log (LOG) and checks its exit.
step() {
  local name=$1 expect=$2 started code=0
  shift 2
  LOG=$WORK/$name.log
  printf '\n== %s: npm run sandbox -- %s\n' "$name" "$*"
  started=$(date +%s)
  sandbox "$@" 2>&1 | tee "$LOG" || code=$?
  STEPS+=("$(printf '%-22s %4ss  exit %s' "$name" $(($(date +%s) - started)) "$code")")
  if [ "$expect" = 0 ] && [ "$code" -ne 0 ]; then die "$name: npm run sandbox -- $* failed (exit $code), expected success"; fi
  if [ "$expect" = fail ] && [ "$code" -eq 0 ]; then die "$name: npm run sandbox -- $* succeeded, expected a failure"; fi
  return 0
}

# `expect <what> <extended regex>` and `refuse <what> <regex>` on the last step's output.
expect() { grep -Eq -- "$2" "$LOG" || die "$(basename "$LOG" .log): expected $1 (/$2/) in its output ($LOG)"; }
refuse() { ! grep -Eq -- "$2" "$LOG" || die "$(basename "$LOG" .log): expected no $1, but found: $(grep -Em1 -- "$2" "$LOG")"; }

RELEASE_RE='[0-9]{14}-[0-9a-f]{12}'
current_release() {
  sandbox status >"$WORK/status.log" 2>&1 || die "status failed: $(tail -5 "$WORK/status.log")"
  grep -Eo "\\* *$RELEASE_RE" "$WORK/status.log" | grep -Eo "$RELEASE_RE" | head -1
}

# The app's health path through the sandbox's URL (the host's Caddy over HTTPS, its local CA): the status code.
served() {
  local url ca
  url=$(grep -Eho 'https://[0-9.]+/' "$WORK"/up.log | head -1)
  ca=$PIPELINE_SANDBOX_DIR/$(sed -E 's#https://([0-9.]+)/#\1#' <<<"$url")-ca.crt
  curl -s -o /dev/null -w '%{http_code}' --max-time 20 --cacert "$ca" "${url%/}$HEALTH_PATH" || true
}

git_copy() { git -C "$COPY" -c user.name=trial -c user.email=trial@example.com "$@"; }
commit() { git_copy add -A && git_copy commit -qm "$1"; }
revert_last() { git_copy revert --no-edit HEAD >/dev/null; }

# A migration that works with knex (db.raw) and node-pg-migrate (pgm.sql) alike.
migration() {
  cat <<EOF
const run = (db, sql) => (typeof db.raw === "function" ? db.raw(sql) : db.sql(sql));
exports.up = (db) => run(db, $(yq "$1"));
exports.down = (db) => run(db, $(yq "$2"));
EOF
}

# The copy: the app's tracked files (or all but node_modules), a lockfile pnpm reads, committed.
mkdir -p "$COPY"
if git -C "$APP_DIR" rev-parse --git-dir >/dev/null 2>&1; then
  git -C "$APP_DIR" ls-files -z --cached --others --exclude-standard | (cd "$APP_DIR" && xargs -0 cp --parents -t "$COPY")
else
  (cd "$APP_DIR" && tar --exclude=node_modules -cf - .) | tar -xf - -C "$COPY"
fi
git -C "$COPY" init -q
if [ -n "$PREPARE" ]; then (cd "$COPY" && bash -c "$PREPARE") || die "--prepare failed"; fi
if [ ! -f "$COPY/pnpm-lock.yaml" ]; then
  (cd "$COPY" && "$REPO/node_modules/.bin/pnpm" import && rm -f package-lock.json yarn.lock) || die "pnpm import failed in the copy"
fi
commit "the app as fetched"
[ -d "$COPY/$MIGRATIONS_DIR" ] || die "the app has no $MIGRATIONS_DIR/ (--migrations-dir)"
stack_file >"$STACK"
ENV_ARGS=()
if [ -n "$ENV_FILE" ]; then ENV_ARGS=(--env-file "$ENV_FILE"); fi

# 1. First deploy: the database on the host, the app's migrations run, nothing to back up yet.
SANDBOX_UP=1
step up 0 up --config "$STACK" --app "$COPY" "${ENV_ARGS[@]}"
refuse "backup before the first release" 'backup [0-9]{14}-.*bytes'
R1=$(current_release)
[ "$(served)" = 200 ] || die "up: $HEALTH_PATH does not answer 200 through the sandbox's URL"

# 2. A schema change: a backup before the migrations, marked before-migrations.
NEW_MIGRATION=29990101000000_trial_notes.js
migration "CREATE TABLE trial_notes (id serial PRIMARY KEY, body text)" "DROP TABLE trial_notes" \
  >"$COPY/$MIGRATIONS_DIR/$NEW_MIGRATION"
commit "trial: a schema change"
step schema-deploy 0 deploy --app "$COPY"
expect "a backup before the migrations" 'backup [0-9]{14}-.*bytes'
BEFORE_SCHEMA=$(grep -Eo "backup [0-9]{14}-$RELEASE_RE" "$LOG" | head -1 | cut -d' ' -f2)

# 3. Nothing to migrate: app.migrationsUpToDateCommand exits 0, no backup.
step noop-deploy 0 deploy --app "$COPY"
expect "the agent's word that nothing is pending" 'no migrations to run \(app.migrationsUpToDateCommand exited 0\)'
refuse "backup" 'backup [0-9]{14}-.*bytes'
R3=$(current_release)

# 4. The backups: the one before the schema change carries the mark.
step backups 0 backups
expect "$BEFORE_SCHEMA marked before-migrations" "$BEFORE_SCHEMA .*before-migrations"

# 5. Rollback past the migration: the warning names it; then the order it gives: back to the newest, migrate down
# (a backup first), migrate up.
step rollback-first 0 rollback "$R1"
expect "the warning naming $NEW_MIGRATION" "warning: $R1 lacks migrations of $R3 .*$NEW_MIGRATION"
step rollback-newest 0 rollback "$R3"
step migrate-down 0 migrate down
expect "a backup before the down migration" 'backup [0-9]{14}-.*bytes'
step migrate-up 0 migrate up

# 6. A migration that fails: the deploy fails, the previous release keeps serving.
migration "SELECT no_such_column FROM trial_notes" "SELECT 1" >"$COPY/$MIGRATIONS_DIR/29990102000000_trial_fails.js"
commit "trial: a failing migration"
step failing-migration fail deploy --app "$COPY"
expect "the migration's error" 'no_such_column'
[ "$(current_release)" = "$R3" ] || die "failing-migration: the current release is no longer $R3"
[ "$(served)" = 200 ] || die "failing-migration: $R3 does not answer 200 through the sandbox's URL any more"
revert_last

# 7. A release whose health path answers 500: the gate names the status and switches back.
cat >"$COPY/trial-unhealthy.js" <<EOF
const http = require("http");
const emit = http.Server.prototype.emit;
http.Server.prototype.emit = function (event, request, response) {
  if (event === "request" && request.url.split("?")[0] === $(yq "$HEALTH_PATH")) {
    response.statusCode = 500;
    response.end("trial: unhealthy");
    return true;
  }
  return emit.apply(this, arguments);
};
EOF
# The entry file requires the patch first (after a shebang line, if any).
# shellcheck disable=SC2016 # a JavaScript template literal
node -e '
  const fs = require("fs"), path = require("path");
  const [entry, patch] = process.argv.slice(1);
  let rel = path.relative(path.dirname(entry), patch);
  if (!rel.startsWith(".")) rel = "./" + rel;
  const lines = fs.readFileSync(entry, "utf8").split("\n");
  lines.splice(lines[0].startsWith("#!") ? 1 : 0, 0, `require(${JSON.stringify(rel)});`);
  fs.writeFileSync(entry, lines.join("\n"));
' "$COPY/$START_SCRIPT" "$COPY/trial-unhealthy.js"
commit "trial: health answers 500"
step unhealthy fail deploy --app "$COPY"
expect "the gate naming 500" 'did not answer .* the last 500'
[ "$(current_release)" = "$R3" ] || die "unhealthy: the current release is no longer $R3"
[ "$(served)" = 200 ] || die "unhealthy: $R3 does not answer 200 through the sandbox's URL after the switch back"
revert_last

# 8. Restore the backup from before the schema change, in maintenance mode: the migration is pending again.
step maintenance-on 0 maintenance on
step restore 0 restore "$BEFORE_SCHEMA"
expect "the restore" "restored backup $BEFORE_SCHEMA"
step maintenance-off 0 maintenance off
step migrate-status 0 migrate status
sed -n '/[Pp]ending\|Migrating files/,$p' "$LOG" | grep -q "$NEW_MIGRATION" ||
  die "migrate-status: expected $NEW_MIGRATION pending again after the restore ($LOG)"
[ "$(served)" = 200 ] || die "restore: $HEALTH_PATH does not answer 200 after the restore"
