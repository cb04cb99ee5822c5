# shellcheck shell=bash
# Functions of the release agent. releaseAgent.ts prepends the settings (readonly variables, verb table and
# dispatch, exit codes, export_env_file) rendered from the stack config and appends health.sh, backups.sh and
# verbs.sh; shellcheck lints the assembled script.

KEY_ID=local
ACTOR=-
VERB=-
RELEASE=""
ARGUMENT=""
SWITCHES=" "
AUDITED=no
WORDS=()
# Deploy progress, read by on_exit to undo a half-done deploy after an unexpected failure.
STAGING_DIR=""
UPLOAD_PID=""
NEW_RELEASE=""
PREVIOUS=""
SWITCHED_FROM=none
INTERRUPTED_BY=""
# The backup the call takes or restores, and its files in the making (removed by on_exit).
BACKUP_ID=""
BACKUP_PARTIAL=""
RESTORE_INPUT=""
# Whether the release has migrations to run: yes, no or unknown (check_pending_migrations).
MIGRATIONS_PENDING=unknown
# yes while maintenance mode is on because this call switched it on (on_exit switches it off again).
MAINTENANCE_OF_THIS_CALL=no
# The deploy phase in progress and when it started (microseconds, from EPOCHREALTIME): phase_start, phase_done.
PHASE=""
PHASE_STARTED=0
# When the agent started (microseconds): the rollback reports its own time.
AGENT_STARTED=${EPOCHREALTIME/./}
# Install inputs of the release being deployed, and what runs its scripts (read_release_facts).
FACTS_DIR=""
BUILT_DEPENDENCIES=no
INSTALL_FINGERPRINT=none
RELEASE_SCRIPTS=" "
RELEASE_NODE_VERSION=""
PACKAGE_MANAGER_SCRIPTS=" "
readonly INSTALL_STAMP=.pipeline-install

# Never fails: after a lost connection stderr is a broken pipe, and the undo that follows must still run.
log() { printf 'release-agent: %s\n' "$*" >&2 2>/dev/null || true; }

# One progress line per deploy phase with its duration, `phase <phase> <seconds>s`, and ` failed` after it when the
# phase failed (on_exit ends a phase in progress so). The runner-side scripts read these lines (agentProtocol.ts
# DEPLOY_PHASES, PHASE_LINE_SED).
phase_start() {
  PHASE=$1
  PHASE_STARTED=${EPOCHREALTIME/./}
}

phase_done() {
  log "phase $PHASE $(seconds_since "$PHASE_STARTED")${1:+ $1}"
  PHASE=""
}

# The time since <microseconds> (from EPOCHREALTIME) as e.g. 1.25s.
seconds_since() {
  local elapsed=$((${EPOCHREALTIME/./} - $1))
  printf '%d.%02ds' $((elapsed / 1000000)) $((elapsed % 1000000 / 10000))
}

fail() {
  local code=$1
  shift
  log "error: $*"
  exit "$code"
}

usage_error() {
  log "error: $*"
  printf 'usage:\n%s\n' "$USAGE_TEXT" >&2
  exit "$EXIT_USAGE"
}

# --- the command line: argv when called directly, $SSH_ORIGINAL_COMMAND behind the forced command ---

read_invocation() {
  local word
  if [ "${1-}" = --key ]; then
    [ "$#" -eq 2 ] || usage_error "the forced command takes only --key <id>"
    [[ $2 =~ $KEY_ID_PATTERN ]] || usage_error "bad key id"
    KEY_ID=$2
    AUDITED=yes # everything that arrives with the deploy key is logged, rejected commands too
    [ -n "${SSH_ORIGINAL_COMMAND-}" ] || usage_error "no command given"
    split_command "$SSH_ORIGINAL_COMMAND"
    unset SSH_ORIGINAL_COMMAND
  else
    for word in "$@"; do
      [[ $word =~ $SAFE_WORD_PATTERN ]] || usage_error "arguments may only contain letters, digits and . _ - [ ]"
    done
    WORDS=("$@")
  fi
  [ "${#WORDS[@]}" -gt 0 ] || usage_error "no verb given"
}

# Never eval: reject every character outside a small set, then split on spaces (read does no globbing).
split_command() {
  local command=$1
  [ "${#command}" -le "$MAX_COMMAND_LENGTH" ] || usage_error "command longer than $MAX_COMMAND_LENGTH characters"
  [[ $command =~ $SAFE_COMMAND_PATTERN ]] || usage_error "the command may only contain letters, digits, spaces and . _ - [ ]"
  read -r -a WORDS <<<"$command"
}

parse_arguments() {
  local spec min max takes_actor pattern_variable bad_exit_variable switches word index=1 positional=()
  VERB=${WORDS[0]}
  spec=$(verb_spec "$VERB") || usage_error "unknown verb"
  read -r min max takes_actor pattern_variable bad_exit_variable switches <<<"$spec"
  while [ "$index" -lt "${#WORDS[@]}" ]; do
    word=${WORDS[$index]}
    if [ "$word" = --actor ]; then
      [ "$takes_actor" = yes ] || usage_error "$VERB takes no --actor"
      [ "$ACTOR" = - ] || usage_error "--actor given twice"
      index=$((index + 1))
      [ "$index" -lt "${#WORDS[@]}" ] || usage_error "--actor needs a GitHub login"
      [[ ${WORDS[$index]} =~ $ACTOR_PATTERN ]] || usage_error "--actor is not a GitHub login"
      ACTOR=${WORDS[$index]}
    elif [[ $word == -* ]]; then
      if [ "$switches" = - ] || [[ ,$switches, != *",$word,"* ]]; then usage_error "unknown option $word for $VERB"; fi
      [[ $SWITCHES != *" $word "* ]] || usage_error "$word given twice"
      SWITCHES+="$word "
    else
      positional+=("$word")
    fi
    index=$((index + 1))
  done
  if [ "${#positional[@]}" -lt "$min" ] || [ "${#positional[@]}" -gt "$max" ]; then
    usage_error "wrong number of arguments for $VERB"
  fi
  if [ "${#positional[@]}" -eq 1 ]; then
    [[ ${positional[0]} =~ ${!pattern_variable} ]] || fail "${!bad_exit_variable}" "the argument of $VERB must match ${!pattern_variable}"
    ARGUMENT=${positional[0]}
    if [ "$pattern_variable" = RELEASE_ID_PATTERN ]; then RELEASE=$ARGUMENT; fi
    if [ "$pattern_variable" = BACKUP_ID_PATTERN ]; then BACKUP_ID=$ARGUMENT; fi
  fi
}

# True when the command line gave the switch (e.g. --maintenance).
has_switch() { [[ $SWITCHES == *" $1 "* ]]; }

# --- audit log and exit handling ---

# The log is root-owned: the agent (the deploy user) can only append through the root-owned helper, which checks
# the line's format and stamps the time (sudoers allows exactly that helper).
audit() {
  local code=$1
  printf 'key=%s actor=%s verb=%s release=%s result=%s exit=%s%s\n' \
    "$KEY_ID" "$ACTOR" "${VERB:0:64}" "${RELEASE:-${BACKUP_ID:--}}" "$(exit_name "$code")" "$code" \
    "${INTERRUPTED_BY:+ signal=SIG$INTERRUPTED_BY}" |
    sudo -n "$AUDIT_HELPER" 2>/dev/null 9>&- || log "warning: cannot write $AUDIT_LOG"
}

# A signal is a failure: SIGTERM (a cancelled run), SIGHUP, SIGINT, and SIGPIPE when the SSH channel is gone
# and the agent writes. Its output goes nowhere from here on (the client is gone or going), and the exit code
# says so, so that on_exit undoes what was half done and the audit log says interrupted, never ok.
on_signal() {
  trap '' HUP INT TERM PIPE
  exec >/dev/null 2>&1
  INTERRUPTED_BY=$1
  exit "$EXIT_INTERRUPTED"
}

trap_signals() {
  local signal
  for signal in HUP INT TERM PIPE; do
    # shellcheck disable=SC2064 # the signal name is fixed when the trap is set
    trap "on_signal $signal" "$signal"
  done
}

on_exit() {
  local code=$?
  trap - EXIT
  trap '' HUP INT TERM PIPE # the undo below runs to its end
  if [ -n "$INTERRUPTED_BY" ]; then code=$EXIT_INTERRUPTED; fi
  if [ -z "$(exit_name "$code")" ]; then
    log "error: unexpected failure (exit $code)"
    code=$EXIT_INTERNAL
  fi
  if [ "$code" -ne "$EXIT_OK" ] && [ -n "$PHASE" ]; then phase_done failed; fi
  if [ "$code" -ne "$EXIT_OK" ]; then undo_unfinished_deploy; fi
  discard_backup_files_in_the_making
  end_maintenance_of_this_call
  exec 9>&- # the deploy lock goes before the audit line: an audit write that waits must not keep it
  if [ "$AUDITED" = yes ]; then audit "$code"; fi
  exit "$code"
}

undo_unfinished_deploy() {
  stop_upload
  if [ -n "$STAGING_DIR" ]; then remove_tree "$STAGING_DIR" || true; fi
  # A release that migrated and then failed leaves its migrations applied: switched back from, or never served.
  if [ -n "$NEW_RELEASE" ] && [ "$SWITCHED_FROM" != none ]; then
    warn_schema_left_ahead "$NEW_RELEASE" "$SWITCHED_FROM" || true
  elif [ -n "$NEW_RELEASE" ] && side_by_side; then
    warn_schema_left_ahead "$NEW_RELEASE" "$PREVIOUS" "though $NEW_RELEASE never served" || true
  fi
  if side_by_side; then
    undo_side_by_side
  elif [ "$SWITCHED_FROM" != none ]; then
    restore_release "$SWITCHED_FROM" || log "warning: could not switch back"
  fi
  if [ -n "$NEW_RELEASE" ]; then remove_tree "${RELEASES_DIR:?}/$NEW_RELEASE" || true; fi
}

take_lock() {
  exec 9>>"$LOCK_FILE"
  flock -w "$LOCK_TIMEOUT_SECONDS" 9 ||
    fail "$EXIT_LOCK_TIMEOUT" "another deploy, rollback or migration holds $LOCK_FILE (waited ${LOCK_TIMEOUT_SECONDS}s); retry when it has finished"
}

# --- uploads ---

# `receive_stdin <file> <max bytes> <what> <limit key>`: stdin -> <file>. A watchdog polls the size: at most <max
# bytes> are read (one byte more is refused), and an upload that sends nothing for UPLOAD_IDLE_TIMEOUT_SECONDS is
# given up. Either fails with uploadRefused (the caller's on_exit removes the file).
receive_stdin() {
  local file=$1 max_bytes=$2 what=$3 limit_key=$4 size=0 last_size=0 last_change now status=0
  local idle_limit=$((UPLOAD_IDLE_TIMEOUT_SECONDS * 1000000))
  : >"$file"
  # dd writes every block as it arrives (head would buffer it, and a trickle would look stalled). fullblock: without
  # it, count_bytes counts the short reads of a pipe as whole blocks and stops early.
  dd iflag=count_bytes,fullblock count="$((max_bytes + 1))" bs=4K status=none <&0 >"$file" &
  UPLOAD_PID=$!
  last_change=${EPOCHREALTIME/./}
  while kill -0 "$UPLOAD_PID" 2>/dev/null; do
    sleep 0.1
    size=$(stat -c %s "$file")
    now=${EPOCHREALTIME/./}
    if [ "$size" -ne "$last_size" ]; then
      last_size=$size
      last_change=$now
    elif [ $((now - last_change)) -ge "$idle_limit" ] && kill -0 "$UPLOAD_PID" 2>/dev/null; then
      stop_upload
      fail "$EXIT_UPLOAD_REFUSED" "the upload sent nothing for ${UPLOAD_IDLE_TIMEOUT_SECONDS}s (deploy.uploadIdleTimeoutSeconds); gave it up"
    fi
    if [ "$size" -gt "$max_bytes" ]; then break; fi
  done
  wait "$UPLOAD_PID" || status=$?
  UPLOAD_PID=""
  size=$(stat -c %s "$file")
  if [ "$size" -gt "$max_bytes" ]; then
    fail "$EXIT_UPLOAD_REFUSED" "$what is larger than $max_bytes bytes ($limit_key); refused"
  fi
  [ "$status" -eq 0 ] || fail "$EXIT_UPLOAD_REFUSED" "could not read $what from stdin"
}

# Ends a running upload (on a failure or a signal); nothing when none runs.
stop_upload() {
  if [ -z "$UPLOAD_PID" ]; then return 0; fi
  kill "$UPLOAD_PID" 2>/dev/null || true
  wait "$UPLOAD_PID" 2>/dev/null || true
  UPLOAD_PID=""
}

# rm -rf that also removes a tree with read-only directories (from an artifact unpacked by an earlier version).
remove_tree() {
  if [ ! -e "$1" ]; then return 0; fi
  chmod -R u+rwX "$1" 2>/dev/null || true
  rm -rf "$1"
}

# --- releases and the current symlink ---

list_releases() {
  local dir name
  for dir in "$RELEASES_DIR"/*/; do
    name=$(basename "$dir")
    if [[ $name =~ $RELEASE_ID_PATTERN ]]; then printf '%s\n' "$name"; fi
  done | sort
}

current_release() {
  local target name
  target=$(readlink "$CURRENT_LINK" 2>/dev/null) || return 0
  name=$(basename "$target")
  if [[ $name =~ $RELEASE_ID_PATTERN ]]; then printf '%s\n' "$name"; fi
}

release_before() {
  local target=$1 release previous=""
  while IFS= read -r release; do
    if [[ $release < $target ]]; then previous=$release; fi
  done < <(list_releases)
  printf '%s\n' "$previous"
}

# Atomic: rename(2) replaces the old symlink in one step.
switch_current() {
  ln -sfn "$RELEASES_DIR/$1" "$APP_ROOT/current.tmp"
  mv -T "$APP_ROOT/current.tmp" "$CURRENT_LINK"
}

# Back to <release> (empty: there was none, so the app stops).
restore_release() {
  if restore_current_link "$1"; then
    pm2_start_or_reload || log "warning: pm2 could not reload $1"
  else
    delete_in_place_app
  fi
  SWITCHED_FROM=none
}

# current back to <release>; false, with current removed, when there is none to go back to.
restore_current_link() {
  if [ -n "$1" ] && [ -d "$RELEASES_DIR/$1" ]; then
    switch_current "$1"
  else
    rm -f "$CURRENT_LINK"
    return 1
  fi
}

prune_releases() {
  local spare_a=$1 spare_b=$2 kept=0 release
  while IFS= read -r release; do
    kept=$((kept + 1))
    if [ "$kept" -le "$KEEP_RELEASES" ] || [ "$release" = "$spare_a" ] || [ "$release" = "$spare_b" ]; then continue; fi
    if [ "$release" = "$(slot_release "$FIRST_PORT")" ] || [ "$release" = "$(slot_release "$SECOND_PORT")" ]; then continue; fi
    log "pruning release $release"
    remove_tree "${RELEASES_DIR:?}/$release"
  done < <(list_releases | sort -r)
}

# --- maintenance mode ---

# The proxy answers 503 while the flag file exists: Caddy's file matcher checks it on every request, so the mode
# survives proxy reloads and restarts. The directory is made by the reverse-proxy step (deploy user, caddy group).
maintenance_is_on() { [ -e "$MAINTENANCE_FLAG" ]; }

require_maintenance_directory() {
  if [ ! -d "${MAINTENANCE_FLAG%/*}" ] || [ ! -w "${MAINTENANCE_FLAG%/*}" ]; then
    fail "$EXIT_NO_PROXY" "${MAINTENANCE_FLAG%/*} is missing: maintenance mode needs the reverse proxy step (run pulumi up)"
  fi
}

# Maintenance for the rest of this call: left on at the end only when it was on before.
maintenance_during_this_call() {
  require_maintenance_directory
  if maintenance_is_on; then
    log "maintenance mode was on already: it stays on afterwards"
    return 0
  fi
  : >"$MAINTENANCE_FLAG"
  MAINTENANCE_OF_THIS_CALL=yes
  log "maintenance mode on"
}

end_maintenance_of_this_call() {
  if [ "$MAINTENANCE_OF_THIS_CALL" != yes ]; then return 0; fi
  rm -f "$MAINTENANCE_FLAG" || log "warning: could not remove $MAINTENANCE_FLAG: maintenance mode is still on"
  MAINTENANCE_OF_THIS_CALL=no
  log "maintenance mode off"
}

# --- pm2, app environment (the health gate: health.sh) ---

# fd 9 holds the deploy lock: no child may inherit it (the long-lived pm2 daemon, a background process that a
# migration or an install script leaves behind), or the lock outlives the agent. A daemon this starts gets its
# environment (pm2Daemon.ts: the workers accept connections themselves, so a reload never strands one).
pm2_cli() { env "${PM2_DAEMON_ENVIRONMENT[@]}" pm2 "$@" 9>&- </dev/null; }

pm2_start_or_reload() {
  printf '%s\n' "$ECOSYSTEM_JS" >"$ECOSYSTEM_FILE.tmp" && mv -f "$ECOSYSTEM_FILE.tmp" "$ECOSYSTEM_FILE" &&
    pm2_cli startOrReload "$ECOSYSTEM_FILE" --update-env >&2
}

# Deletes the in-place app (deploy.strategy reload) through its ecosystem file, which names it: `pm2 delete <name>`
# would, with no app of that name, delete the apps of the namespace <name>, the releases running side by side.
delete_in_place_app() {
  if [ -f "$ECOSYSTEM_FILE" ]; then pm2_cli delete "$ECOSYSTEM_FILE" >/dev/null 2>&1 || true; fi
}

# Enters a release directory with the app's environment (in the caller's subshell).
enter_release() {
  cd "$1" || return 1
  export NODE_ENV=production
  export_env_file "$ENV_FILE"
  export PORT="$APP_PORT"
}

# Runs a configured command (migrations) in a release directory with the app's environment; stdin is <input>
# (default: nothing).
run_in_release() {
  local dir=$1 command=$2
  (
    enter_release "$dir" || exit 1
    bash -c "$command" <"${3:-/dev/null}" 9>&-
  )
}

# The same for a dump or restore command, with libpq's PG* variables taken from DATABASE_URL (libpq.sh).
run_database_command() {
  local dir=$1 command=$2
  (
    enter_release "$dir" || exit 1
    export_libpq_environment || exit 1
    bash -c "$command" <"${3:-/dev/null}" 9>&-
  )
}
