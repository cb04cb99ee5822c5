# shellcheck shell=bash
# How the release's package.json scripts run: with Node's own runner where it does what pnpm would, else with pnpm.

# script_of_default_form <command>: the script of a command of the default form `pnpm run --if-present <script>`
# (app.migrateCommand's default), nothing for any other command.
script_of_default_form() {
  local pattern='^pnpm run --if-present ([A-Za-z0-9:._-]+)$'
  if [[ $1 =~ $pattern ]]; then echo "${BASH_REMATCH[1]}"; fi
}

# The migrate command of the default form runs its script with Node's own runner, `node --run <script>` (the same
# command, shell, directory and environment, node_modules/.bin first on PATH), which starts in a fraction of pnpm's
# time, wherever that runs the same: pnpm is kept for what node --run leaves out by design, pre/post scripts and the
# package manager's npm_* variables, and for pnpm settings in the release. Any other command runs as configured.
run_migrate_command() {
  local dir=$1 script reason
  script=$(script_of_default_form "$MIGRATE_COMMAND")
  if [ -z "$script" ]; then
    log "migrations: app.migrateCommand as configured"
  else
    reason=$(pnpm_needed_for "$dir" "$script")
    if [ -z "$reason" ]; then
      log "migrations: node --run $script (Node $RELEASE_NODE_VERSION, no pre$script or post$script script)"
      run_in_release "$dir" "node --run $script"
      return
    fi
    log "migrations: pnpm ($reason)"
  fi
  run_in_release "$dir" "$MIGRATE_COMMAND"
}

# pnpm_needed_for <dir> <script>: why `pnpm run <script>` would not do what `node --run <script>` does in the release
# (read_release_facts first); nothing when they are the same.
pnpm_needed_for() {
  local dir=$1 script=$2
  if ! node_runs_scripts "$RELEASE_NODE_VERSION"; then
    echo "Node ${RELEASE_NODE_VERSION:-of unknown version} has no node --run with node_modules/.bin on PATH (22.3+)"
  elif [[ $RELEASE_SCRIPTS == *" pre$script "* || $RELEASE_SCRIPTS == *" post$script "* ]]; then
    echo "package.json has a pre$script or post$script script, which only a package manager runs"
  elif [[ $PACKAGE_MANAGER_SCRIPTS == *" $script "* ]]; then
    echo "the $script script reads a variable only a package manager sets"
  elif [ -e "$dir/.npmrc" ] || [ -e "$dir/pnpm-workspace.yaml" ]; then
    echo "the release has pnpm settings (.npmrc or pnpm-workspace.yaml)"
  fi
}

# node_runs_scripts <version>: Node runs package.json scripts itself (node --run), node_modules/.bin of the directory
# and its ancestors on PATH: 22.3.0 and later.
node_runs_scripts() {
  local major minor
  IFS=. read -r major minor _ <<<"$1"
  [[ $major =~ ^[0-9]+$ && $minor =~ ^[0-9]+$ ]] || return 1
  ((major > 22 || (major == 22 && minor >= 3)))
}
