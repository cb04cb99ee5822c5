# shellcheck shell=bash
# The health gate of the release agent: probes of the app's health path on localhost, and a failed gate explained
# with what it saw (status code and body excerpt, answers and unanswered attempts) and a hint that matches.

# What the last probe saw (health_once): the status code ("" when nothing answered) and a body excerpt; and what
# the gate saw (wait_until_healthy): attempts, answers, the last answer's code and excerpt.
HEALTH_STATUS=""
HEALTH_EXCERPT=""
HEALTH_ATTEMPTS=0
HEALTH_ANSWERS=0
HEALTH_LAST_STATUS=""
HEALTH_LAST_EXCERPT=""
readonly HEALTH_READ_BYTES=4096 HEALTH_EXCERPT_CHARACTERS=120
# The port probed (app.port, or the release port of the release being gated: probe_port) and its URL.
HEALTH_PORT=$APP_PORT
HEALTH_URL="http://127.0.0.1:$APP_PORT$HEALTH_PATH"
# Side-by-side releases: a function the gate calls after each unanswered probe; when it fails, the gate gives up
# at once (wait_until_healthy returns 2). And what the failed gate's message says became of the traffic.
GATE_WATCH=""
GATE_OUTCOME=""

probe_port() {
  HEALTH_PORT=$1
  HEALTH_URL="http://127.0.0.1:$1$HEALTH_PATH"
}

# One GET of the health path; true on 2xx. Sets HEALTH_STATUS (empty: no answer) and HEALTH_EXCERPT from at most
# HEALTH_READ_BYTES of the answer (status line, headers, the start of the body); curl's exit status is not used (a
# body cut off by head or by --max-time still came with its status line).
health_once() {
  local response body="" status_line='^HTTP/[0-9.]+ ([0-9]{3})'
  HEALTH_STATUS=""
  HEALTH_EXCERPT=""
  response=$(curl --noproxy '*' -sS -i --max-time 5 "$HEALTH_URL" 2>/dev/null | head -c "$HEALTH_READ_BYTES" | tr -d '\000') || true
  [[ $response =~ $status_line ]] || return 1
  HEALTH_STATUS=${BASH_REMATCH[1]}
  if [[ $response == *$'\r\n\r\n'* ]]; then body=${response#*$'\r\n\r\n'}; fi
  HEALTH_EXCERPT=$(one_line_excerpt "$body")
  [[ $HEALTH_STATUS == 2[0-9][0-9] ]]
}

# <text> as one line of at most HEALTH_EXCERPT_CHARACTERS printable ASCII characters: escape sequences (colours,
# cursor moves, window titles) removed, every other control character and non-ASCII byte a space, runs of spaces
# one. Safe to print on a terminal and in a log line.
one_line_excerpt() {
  local esc=$'\e' bel=$'\a' text
  text=$(printf '%s' "$1" |
    LC_ALL=C sed -E "s,${esc}\[[0-?]*[ -/]*[@-~],,g; s,${esc}\][^${bel}${esc}]*(${bel}|${esc}\\\\)?,,g; s,${esc}.?,,g" |
    LC_ALL=C tr -c '[:print:]' ' ' | tr -s ' ')
  text=${text# }
  text=${text% }
  if [ "${#text}" -gt "$HEALTH_EXCERPT_CHARACTERS" ]; then text="${text:0:$((HEALTH_EXCERPT_CHARACTERS - 3))}..."; fi
  printf '%s' "$text"
}

# The health gate: polls until 2xx or HEALTH_TIMEOUT_SECONDS have passed, keeping what it saw for
# health_gate_failed.
wait_until_healthy() {
  local deadline=$((SECONDS + HEALTH_TIMEOUT_SECONDS))
  HEALTH_ATTEMPTS=0
  HEALTH_ANSWERS=0
  HEALTH_LAST_STATUS=""
  HEALTH_LAST_EXCERPT=""
  while true; do
    HEALTH_ATTEMPTS=$((HEALTH_ATTEMPTS + 1))
    if health_once; then return 0; fi
    if [ -n "$HEALTH_STATUS" ]; then
      HEALTH_ANSWERS=$((HEALTH_ANSWERS + 1))
      HEALTH_LAST_STATUS=$HEALTH_STATUS
      HEALTH_LAST_EXCERPT=$HEALTH_EXCERPT
    elif [ -n "$GATE_WATCH" ] && ! "$GATE_WATCH"; then
      return 2
    fi
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.2
  done
}

# "1 answer", "2 answers": `counted <n> <word>`.
counted() { if [ "$1" -eq 1 ]; then printf '1 %s' "$2"; else printf '%s %ss' "$1" "$2"; fi; }

# A status code with the excerpt of its body, e.g. 500 ("database down"), or 503 for an empty body.
answer_of() { printf '%s%s' "$1" "${2:+ (\"$2\")}"; }

# The failed gate of <release> (back to <previous>) in words, with a hint that matches what it saw.
health_gate_failed() {
  local release=$1 previous=$2 missed=$((HEALTH_ATTEMPTS - HEALTH_ANSWERS)) unanswered="" outcome
  outcome=${GATE_OUTCOME:-switched back to ${previous:-no release}}
  if [ "$HEALTH_ANSWERS" -eq 0 ]; then
    log "error: $release did not answer $HEALTH_URL within ${HEALTH_TIMEOUT_SECONDS}s: no answer to $(counted "$HEALTH_ATTEMPTS" attempt); $outcome"
    log "hint: nothing answered on port $HEALTH_PORT: check that the app listens on the PORT it is given (app.port)"
  else
    if [ "$missed" -gt 0 ]; then unanswered=", $(counted "$missed" attempt) without an answer"; fi
    log "error: $release did not answer $HEALTH_URL with 2xx within ${HEALTH_TIMEOUT_SECONDS}s: $(counted "$HEALTH_ANSWERS" answer), the last $(answer_of "$HEALTH_LAST_STATUS" "$HEALTH_LAST_EXCERPT")$unanswered; $outcome"
    log "hint: the app answers but $HEALTH_PATH returned $HEALTH_LAST_STATUS: see the app's logs (pm2 logs $APP_NAME, or the files in $LOGS_DIR)"
  fi
  exit "$EXIT_UNHEALTHY"
}
