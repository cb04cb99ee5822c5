# shellcheck shell=bash
# Side-by-side releases (deploy.strategy sideBySide): each release runs as its own pm2 app, `<app>-<port>`, on one
# of two ports (FIRST_PORT, SECOND_PORT). A deploy starts the new release on the port the proxy does not send to,
# gates it there, and only then switches the proxy (through the root-owned upstream helper: the deploy user cannot
# reconfigure the proxy itself). The release the deploy replaced stays warm for a rollback that is a switch only
# (deploy.previousRelease warm), or stops once it has finished its requests (stopped).

# Deploy progress for on_exit (undo_side_by_side): the port of a release this call started that the proxy does not
# send to yet, and the port the proxy sent to before this call switched it.
SLOT_STARTED=""
PROXY_SWITCHED_FROM=""
# Where the error log of the app ended when the release being gated was started (its new lines are read from there).
SLOT_LOG_START=0
readonly SLOT_ERROR_LOG="$LOGS_DIR/$APP_NAME-error.log"
# Why the gate's watch gave up on a release (release_uses_its_port), and the background stop of free_next_port.
SLOT_PORT_PROBLEM=""
FREEING_PID=""

side_by_side() { [ "$STRATEGY" = sideBySide ]; }

# The port the proxy sends requests to: the upstream helper's flag file (root-owned, Caddy reads it per request).
serving_port() { if [ -e "$UPSTREAM_DIR/$SECOND_PORT" ]; then echo "$SECOND_PORT"; else echo "$FIRST_PORT"; fi; }

other_port() { if [ "$1" = "$FIRST_PORT" ]; then echo "$SECOND_PORT"; else echo "$FIRST_PORT"; fi; }

slot_name() { printf '%s-%s' "$APP_NAME" "$1"; }

# The release the app on <port> runs (nothing when none runs there), as the agent recorded it when it started it.
slot_release() {
  local release
  release=$(cat "$SLOTS_DIR/$1" 2>/dev/null) || return 0
  if [[ $release =~ $RELEASE_ID_PATTERN ]]; then printf '%s\n' "$release"; fi
}

# True when a release runs on either port (pm2 apps of side-by-side releases exist on this host).
any_slot_in_use() { [ -n "$(slot_release "$FIRST_PORT")$(slot_release "$SECOND_PORT")" ]; }

# `start_slot <port> <release>`: (re)starts the pm2 app of <port> on <release>; whatever ran there goes first,
# after the proxy's requests to it (from when it served) have finished.
start_slot() {
  local port=$1 release=$2 file=${SLOT_ECOSYSTEM_FILE//"$SLOT_PORT_TOKEN"/$1} ecosystem
  if [ -n "$(slot_release "$port")" ]; then retire_slot "$port"; fi
  ecosystem=${SLOT_ECOSYSTEM_JS//"$SLOT_PORT_TOKEN"/$port}
  ecosystem=${ecosystem//"$SLOT_RELEASE_TOKEN"/$release}
  mkdir -p "$SLOTS_DIR"
  printf '%s\n' "$ecosystem" >"$file.tmp" && mv -f "$file.tmp" "$file" || return 1
  SLOT_LOG_START=$(stat -c %s "$SLOT_ERROR_LOG" 2>/dev/null || echo 0)
  printf '%s\n' "$release" >"$SLOTS_DIR/$port"
  pm2_cli start "$file" >&2
}

stop_slot() {
  pm2_cli delete "$(slot_name "$1")" >/dev/null 2>&1 || true
  rm -f "$SLOTS_DIR/$1"
}

# Stops the release on <port> once the proxy has no request in flight to it.
retire_slot() {
  drain_port "$1"
  stop_slot "$1"
}

# The proxy sends new requests to <port> from now on (the helper accepts only this app's two ports).
switch_proxy() { sudo -n "$UPSTREAM_HELPER" switch "$1" 9>&- </dev/null; }

# Waits until the proxy has no request in flight to <port> (at most deploy.shutdownTimeoutSeconds); never fails.
drain_port() {
  sudo -n "$UPSTREAM_HELPER" drain "$1" 9>&- </dev/null || log "warning: requests to port $1 may have been cut short"
}

# `slot_listening_ports <release>`: the TCP ports processes of <release> listen on: those ss names for a listening
# socket whose working directory is the release's (pm2 starts its workers there). With NODE_CLUSTER_SCHED_POLICY=none
# (pm2Daemon.ts) each worker holds its listening socket itself, so ss names the workers; the socket of a port that
# another release already listens on is shared with it (pm2's daemon is the cluster primary of both).
slot_listening_ports() {
  local dir address users port pid
  dir=$(cd "$RELEASES_DIR/$1" 2>/dev/null && pwd -P) || return 0
  ss -ltnpH 2>/dev/null | while read -r _ _ _ address _ users; do
    port=${address##*:}
    while read -r pid; do
      if [ "$(readlink "/proc/$pid/cwd" 2>/dev/null)" = "$dir" ]; then
        echo "$port"
        break
      fi
    done < <(grep -o 'pid=[0-9]*' <<<"$users" | cut -d= -f2)
  done | sort -un
}

# The gate's watch (GATE_WATCH) on the release being started: fails when it took another port than the PORT it was
# given, or tried to and found it in use (an app with a fixed port). Such an app cannot run side by side.
release_uses_its_port() {
  local port=$HEALTH_PORT others
  others=$(slot_listening_ports "$(slot_release "$port")" | grep -vx "$port" | tr '\n' ' ') || true
  if [ -n "$others" ]; then
    SLOT_PORT_PROBLEM="listens on port ${others% } instead of the PORT it was given ($port)"
    return 1
  fi
  if tail -c +"$((SLOT_LOG_START + 1))" "$SLOT_ERROR_LOG" 2>/dev/null | grep -q "EADDRINUSE.*:$(other_port "$port")\b"; then
    SLOT_PORT_PROBLEM="tried to listen on port $(other_port "$port") (EADDRINUSE) instead of the PORT it was given ($port)"
    return 1
  fi
}

# `gate_slot <release> <port> <previous>`: the health gate of <release> on its own port; the proxy has sent it
# nothing. A failure stops it (on_exit) and <previous> keeps serving.
gate_slot() {
  local release=$1 port=$2 previous=$3 status=0
  probe_port "$port"
  GATE_WATCH=release_uses_its_port
  GATE_OUTCOME="${previous:-no release} kept serving (the proxy never sent $release a request)"
  wait_until_healthy || status=$?
  GATE_WATCH=""
  if [ "$status" -eq 2 ]; then
    log "error: $release $SLOT_PORT_PROBLEM; ${previous:-no release} kept serving"
    log "hint: side-by-side releases (deploy.strategy sideBySide) need the app to listen on process.env.PORT; for an app with a fixed port, set pipeline:deploy.strategy to reload"
    exit "$EXIT_UNHEALTHY"
  fi
  if [ "$status" -ne 0 ]; then health_gate_failed "$release" "$previous"; fi
}

# A deploy replaces the release on the port the proxy does not send to (the warm one): it stops in the background
# while the new release installs and migrates, so its pm2 delete (SIGINT, then the app's own shutdown) is not part
# of the deploy's time. A deploy that fails after this leaves no warm release; a rollback then starts its target.
free_next_port() {
  local port release
  port=$(other_port "$(serving_port)")
  release=$(slot_release "$port")
  if [ -z "$release" ]; then return 0; fi
  log "stopping $release on port $port: this deploy's release takes the port"
  retire_slot "$port" 9>&- </dev/null &
  FREEING_PID=$!
}

wait_for_free_port() {
  if [ -z "$FREEING_PID" ]; then return 0; fi
  wait "$FREEING_PID" || true
  FREEING_PID=""
}

# `go_live_beside <release> <previous>`: start <release> beside the serving one, gate it, switch the proxy to it.
go_live_beside() {
  local release=$1 previous=$2 serving new
  serving=$(serving_port)
  new=$(other_port "$serving")
  wait_for_free_port
  phase_start start
  SLOT_STARTED=$new
  log "starting $release on port $new beside ${previous:-no release} (port $serving)"
  start_slot "$new" "$release" ||
    fail "$EXIT_RELOAD_FAILED" "pm2 could not start $release; ${previous:-no release} keeps serving"
  phase_done
  phase_start health
  gate_slot "$release" "$new" "$previous"
  phase_done
  switch_to_slot "$new" "$serving" "$release" "$previous"
}

# `switch_to_slot <port> <serving port> <release> <previous>`: current -> <release> and the proxy -> <port>; the
# release on <serving port> is kept warm, or stopped once its requests have finished.
switch_to_slot() {
  local port=$1 serving=$2 release=$3 previous=$4
  phase_start switch
  SWITCHED_FROM=$previous
  PROXY_SWITCHED_FROM=$serving
  switch_current "$release"
  switch_proxy "$port" || fail "$EXIT_RELOAD_FAILED" "the proxy could not be switched to port $port ($UPSTREAM_HELPER); ${previous:-no release} keeps serving"
  log "the proxy sends requests to $release (port $port)"
  phase_done
  # From here on an interruption keeps this release (NEW_RELEASE first, as in go_live).
  NEW_RELEASE=""
  SLOT_STARTED=""
  SWITCHED_FROM=none
  PROXY_SWITCHED_FROM=""
  end_maintenance_of_this_call
  retire_serving "$serving" "$previous"
  save_slot_list
}

# The release that served on <port> before the switch: kept warm, or stopped after its requests have finished. A
# host that ran the in-place app (deploy.strategy reload before) has that app stopped instead.
retire_serving() {
  local port=$1 previous=$2
  if [ -f "$ECOSYSTEM_FILE" ]; then
    drain_port "$port"
    delete_in_place_app
    rm -f "$ECOSYSTEM_FILE"
    log "stopped the in-place app $APP_NAME (deploy.strategy reload before): releases now run side by side"
    return 0
  fi
  if [ -z "$(slot_release "$port")" ]; then return 0; fi
  if [ "$PREVIOUS_RELEASE_MODE" = stopped ]; then
    retire_slot "$port"
    log "stopped ${previous:-the previous release} (deploy.previousRelease stopped)"
  else
    log "${previous:-the previous release} stays warm on port $port for a rollback"
  fi
}

# pm2 save when the set of apps or what they run changed (the list pm2 resurrects at boot).
save_slot_list() {
  save_process_list "$SLOT_ECOSYSTEM_JS $(slot_release "$FIRST_PORT") $(slot_release "$SECOND_PORT")"
}

# `roll_back_beside <target> <current>`: a switch only when <target> is warm on the other port and answers its
# health path; otherwise start, gate and switch as a deploy does.
roll_back_beside() {
  local target=$1 current=$2 serving other
  serving=$(serving_port)
  other=$(other_port "$serving")
  probe_port "$other"
  if [ "$(slot_release "$other")" = "$target" ] && health_once; then
    log "$target is warm on port $other: switching the proxy"
    switch_to_slot "$other" "$serving" "$target" "$current"
    return 0
  fi
  go_live_beside "$target" "$current"
}

# Undo of a side-by-side deploy or rollback that did not finish (on_exit): the proxy back first, then current,
# then the release this call started stops.
undo_side_by_side() {
  wait_for_free_port
  if [ -n "$PROXY_SWITCHED_FROM" ]; then
    switch_proxy "$PROXY_SWITCHED_FROM" || log "warning: could not switch the proxy back to port $PROXY_SWITCHED_FROM"
    PROXY_SWITCHED_FROM=""
  fi
  if [ "$SWITCHED_FROM" != none ]; then
    restore_current_link "$SWITCHED_FROM" || true
    SWITCHED_FROM=none
  fi
  if [ -n "$SLOT_STARTED" ]; then
    stop_slot "$SLOT_STARTED"
    SLOT_STARTED=""
  fi
}

# deploy.strategy reload on a host whose releases ran side by side: the in-place app takes FIRST_PORT, so the
# release there stops first (a short gap the proxy's retries cover while nothing listens), and the other one
# once the proxy is back on FIRST_PORT.
leave_side_by_side() {
  if ! any_slot_in_use; then return 0; fi
  log "deploy.strategy reload: stopping the side-by-side releases (the app restarts once in place)"
  stop_slot "$FIRST_PORT"
}

finish_leaving_side_by_side() {
  if [ -z "$(slot_release "$SECOND_PORT")" ] && [ ! -e "$UPSTREAM_DIR/$SECOND_PORT" ]; then return 0; fi
  switch_proxy "$FIRST_PORT" || log "warning: could not switch the proxy to port $FIRST_PORT"
  retire_slot "$SECOND_PORT"
}
