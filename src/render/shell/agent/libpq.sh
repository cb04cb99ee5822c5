# shellcheck shell=bash
# libpq's connection settings from the app's DATABASE_URL, as the PG* variables pg_dump and pg_restore read: the
# URL (and its password) never becomes an argument, which every user on the host could read in /proc/<pid>/cmdline.
# libpq expands a URI given as the dbname argument, never in PGDATABASE, hence the parsing here.

# %XX sequences of a URI component, decoded like libpq does (no '+' for space).
percent_decode() {
  local encoded=${1//\\/\\\\}
  printf -v "$2" '%b' "${encoded//%/\\x}"
}

# The PG* variable libpq reads for a connection keyword (libpq's "Environment Variables"); fails for keywords
# that have none.
libpq_variable() {
  case "$1" in
    host) echo PGHOST ;;
    hostaddr) echo PGHOSTADDR ;;
    port) echo PGPORT ;;
    dbname) echo PGDATABASE ;;
    user) echo PGUSER ;;
    password) echo PGPASSWORD ;;
    passfile) echo PGPASSFILE ;;
    channel_binding) echo PGCHANNELBINDING ;;
    service) echo PGSERVICE ;;
    options) echo PGOPTIONS ;;
    application_name) echo PGAPPNAME ;;
    sslmode) echo PGSSLMODE ;;
    requiressl) echo PGREQUIRESSL ;;
    sslnegotiation) echo PGSSLNEGOTIATION ;;
    sslcompression) echo PGSSLCOMPRESSION ;;
    sslcert) echo PGSSLCERT ;;
    sslkey) echo PGSSLKEY ;;
    sslcertmode) echo PGSSLCERTMODE ;;
    sslrootcert) echo PGSSLROOTCERT ;;
    sslcrl) echo PGSSLCRL ;;
    sslcrldir) echo PGSSLCRLDIR ;;
    sslsni) echo PGSSLSNI ;;
    requirepeer) echo PGREQUIREPEER ;;
    require_auth) echo PGREQUIREAUTH ;;
    ssl_min_protocol_version) echo PGSSLMINPROTOCOLVERSION ;;
    ssl_max_protocol_version) echo PGSSLMAXPROTOCOLVERSION ;;
    gssencmode) echo PGGSSENCMODE ;;
    krbsrvname) echo PGKRBSRVNAME ;;
    gsslib) echo PGGSSLIB ;;
    gssdelegation) echo PGGSSDELEGATION ;;
    connect_timeout) echo PGCONNECT_TIMEOUT ;;
    client_encoding) echo PGCLIENTENCODING ;;
    target_session_attrs) echo PGTARGETSESSIONATTRS ;;
    load_balance_hosts) echo PGLOADBALANCEHOSTS ;;
    *) return 1 ;;
  esac
}

# The hosts of a URI (host[:port] or [v6-address][:port], comma-separated) into PGHOST and PGPORT, as lists.
export_libpq_hosts() {
  local spec=$1 entry host port hosts=() ports=() any_port=no
  local -a entries
  [ -n "$spec" ] || return 0
  IFS=, read -r -a entries <<<"$spec"
  for entry in "${entries[@]}"; do
    if [[ $entry =~ ^\[([^]]*)\](:(.*))?$ ]]; then
      host=${BASH_REMATCH[1]} port=${BASH_REMATCH[3]}
    elif [[ $entry == *:* ]]; then
      host=${entry%%:*} port=${entry#*:}
    else
      host=$entry port=""
    fi
    percent_decode "$host" host
    hosts+=("$host")
    ports+=("$port")
    if [ -n "$port" ]; then any_port=yes; fi
  done
  PGHOST=$(IFS=,; echo "${hosts[*]}")
  export PGHOST
  if [ "$any_port" = yes ]; then
    PGPORT=$(IFS=,; echo "${ports[*]}")
    export PGPORT
  fi
}

# postgres[ql]://[user[:password]@][hosts][/dbname][?keyword=value&...] in DATABASE_URL -> PG* variables (split as
# libpq splits it: the user part ends at the first '@' before any '/'). Another DATABASE_URL, or none, is left
# alone: the command may read it its own way.
export_libpq_environment() {
  local rest userinfo hosts dbname query pair name value variable
  local -a pairs
  [[ ${DATABASE_URL:-} =~ ^postgres(ql)?:// ]] || return 0
  rest=${DATABASE_URL#*://}
  if [[ ${rest%%/*} == *@* ]]; then
    userinfo=${rest%%@*}
    rest=${rest#*@}
    percent_decode "${userinfo%%:*}" value
    export PGUSER=$value
    if [[ $userinfo == *:* ]]; then
      percent_decode "${userinfo#*:}" value
      export PGPASSWORD=$value
    fi
  fi
  hosts=${rest%%[/?]*}
  rest=${rest:${#hosts}}
  export_libpq_hosts "$hosts"
  if [[ $rest == /* ]]; then
    rest=${rest#/}
    dbname=${rest%%\?*}
    rest=${rest:${#dbname}}
    if [ -n "$dbname" ]; then
      percent_decode "$dbname" value
      export PGDATABASE=$value
    fi
  fi
  query=${rest#\?}
  [ -n "$query" ] || return 0
  IFS='&' read -r -a pairs <<<"$query"
  for pair in "${pairs[@]}"; do
    percent_decode "${pair%%=*}" name
    percent_decode "${pair#*=}" value
    if [ "$name" = ssl ] && [ "$value" = true ]; then name=sslmode value=require; fi
    if ! variable=$(libpq_variable "$name"); then
      log "DATABASE_URL has the parameter '$name', which libpq cannot take from the environment: remove it, or set backup.dumpCommand and backup.restoreCommand to commands that read DATABASE_URL themselves"
      return 1
    fi
    export "$variable=$value"
  done
}
