# What bench/run-postgres-writes and bench/run-cluster share, sourced by both: a private
# PostgreSQL cluster made the way Tests/VigilTestSupport/PostgresServer.swift makes one
# (initdb and pg_ctl as the postgres user when run as root, a private socket folder and a
# loopback port, roles vigil_owner and vigil_writer) but with PostgreSQL's durable
# defaults (fsync, synchronous_commit, full_page_writes on), and release vigild nodes whose
# postgres sink writes to it. The caller sets `work` (a short temporary folder) and calls
# bench_cleanup from its EXIT trap.

bench_pids=()
pg_data=

# The newest PostgreSQL server installed, installing Debian's package when there is none.
pg_find() {
  if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
    echo "installing postgresql (apt-get)" >&2
    apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
  fi
  pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
}

# A PostgreSQL program as its own user (it refuses to run as root), as a command line.
pg_command() {
  if [ "$(id -u)" = 0 ]; then printf '%q ' runuser -u postgres -- "$@"; else printf '%q ' "$@"; fi
}

pg_as_owner() {
  eval "$(pg_command "$@")"
}

# Makes and starts a cluster in $work/pg: sets pg_sock (the socket folder) and pg_port.
pg_make() {
  pg_find
  local dir=$work/pg
  mkdir -p "$dir"
  if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$dir"; fi
  pg_sock=$dir
  pg_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  pg_as_owner "$pg_bin/initdb" -D "$dir/data" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
    -E UTF8 --no-locale >"$work/initdb.log" 2>&1 || { cat "$work/initdb.log" >&2; return 1; }
  pg_data=$dir/data
  pg_start_command="$(pg_command "$pg_bin/pg_ctl" -D "$pg_data" -l "$pg_sock/server.log" -w -t 60 \
    -o "-k $pg_sock -p $pg_port -c listen_addresses=127.0.0.1 -c max_connections=50" start) >/dev/null"
  # -m fast ends every session at once: what a database outage is to its clients.
  pg_stop_command="$(pg_command "$pg_bin/pg_ctl" -D "$pg_data" -m fast -w -t 60 stop) >/dev/null"
  eval "$pg_start_command"
  pg_sql "CREATE ROLE vigil_owner LOGIN PASSWORD 'secret'; CREATE ROLE vigil_writer LOGIN PASSWORD 'secret';"
  pg_sql "CREATE DATABASE vigil OWNER vigil_owner"
  # Since PostgreSQL 15 nobody may create in public; the writer needs only TEMP (COPY's staging).
  pg_sql "REVOKE CREATE ON DATABASE vigil FROM PUBLIC" vigil
}

# psql as the superuser: unaligned, tuples only.
pg_sql() {
  "$pg_bin/psql" -X -q -v ON_ERROR_STOP=1 -A -t -h "$pg_sock" -p "$pg_port" -U postgres -d "${2:-postgres}" -c "$1"
}

# One line saying what the server is and how durable it was asked to be.
pg_describe() {
  echo "PostgreSQL $(pg_sql 'SHOW server_version' | cut -d' ' -f1), private cluster (initdb, pg_ctl), socket $pg_sock, port $pg_port;" \
    "$(pg_sql "SELECT string_agg(name || '=' || current_setting(name), ', ' ORDER BY name) FROM pg_settings
               WHERE name IN ('fsync', 'synchronous_commit', 'full_page_writes', 'wal_level', 'shared_buffers',
                              'max_wal_size', 'checkpoint_timeout')")"
}

# Starts a release vigild named NODE in FOLDER (created; shipped Rules/, durability none)
# whose postgres sink writes with METHOD (copy or insert; none given: the sink's default),
# reports included (and max_lag: $node_max_lag when that is set); waits for its socket,
# FOLDER/s.sock, and sets node_pid.
node_start() {
  local node=$1 dir=$2 method=${3:-}
  mkdir -p "$dir/Rules"
  cp Rules/*.yaml "$dir/Rules/"
  cat >"$dir/v.yaml" <<EOF
node: $node
durability: none
rules:
  watch: false
plugins:
  designations: {}
  places: {}
  postgres:
    socket: $pg_sock
    port: $pg_port
    database: vigil
    user: vigil_writer
    owner: {user: vigil_owner}
    reports: true
EOF
  if [ -n "$method" ]; then echo "    write: $method" >>"$dir/v.yaml"; fi
  if [ -n "${node_max_lag:-}" ]; then echo "    max_lag: $node_max_lag" >>"$dir/v.yaml"; fi
  (cd "$dir" && exec "$vigild" --config v.yaml --socket "$dir/s.sock" --log-level warning 2>>"$dir/vigild.log") &
  node_pid=$!
  bench_pids+=("$node_pid")
  for _ in $(seq 200); do [ -S "$dir/s.sock" ] && return 0; sleep 0.05; done
  echo "vigild $node did not start: $(cat "$dir/vigild.log")" >&2
  return 1
}

# The CPU seconds (user and system) the processes PIDs have used so far.
cpu_seconds() {
  local pid ticks=0
  for pid in "$@"; do
    ticks=$((ticks + $(awk '{ print $14 + $15 }' "/proc/$pid/stat")))
  done
  awk -v t="$ticks" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.1f", t / hz }'
}

# The server processes of the sinks' sessions now.
writer_backends() {
  pg_sql "SELECT pid FROM pg_stat_activity WHERE usename = 'vigil_writer'"
}

# Says why a node failed: whether it still runs, and the end of its log.
node_failed() {
  local node=$1 dir=$2 pid=$3
  echo "vigild $node: $(kill -0 "$pid" 2>/dev/null && echo still running || echo 'not running (exited)'); its log ends:" >&2
  tail -20 "$dir/vigild.log" >&2
}

# Stops a node (SIGTERM, as systemd would) and waits for it.
node_stop() {
  local pid kept=()
  kill -TERM "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
  for pid in "${bench_pids[@]+"${bench_pids[@]}"}"; do [ "$pid" = "$1" ] || kept+=("$pid"); done
  bench_pids=("${kept[@]+"${kept[@]}"}")
}

bench_cleanup() {
  local pid
  set +e
  for pid in "${bench_pids[@]+"${bench_pids[@]}"}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${bench_pids[@]+"${bench_pids[@]}"}"; do wait "$pid" 2>/dev/null || true; done
  if [ -n "$pg_data" ] && [ -f "$pg_data/postmaster.pid" ]; then
    pg_as_owner "$pg_bin/pg_ctl" -D "$pg_data" -m immediate -w -t 60 stop >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
}

# The project's shared folder (tools/gen_reports.py): $SHARED, else a `shared` beside the
# clone or beside any folder above it.
find_generator() {
  local shared=${SHARED:-} dir=$PWD
  if [ -z "$shared" ]; then
    while [ "$dir" != / ]; do
      if [ -f "$dir/../shared/tools/gen_reports.py" ]; then shared=$(cd "$dir/../shared" && pwd); break; fi
      dir=$(dirname "$dir")
    done
  fi
  gen=${shared:-../shared}/tools/gen_reports.py
  [ -f "$gen" ] || { echo "cannot find $gen (set SHARED)" >&2; return 2; }
}
