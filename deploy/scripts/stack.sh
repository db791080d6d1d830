#!/usr/bin/env bash
# Local stack for development and tests: fetches and runs a single-node KRaft Kafka
# (jars from Maven Central) and a private PostgreSQL 15 cluster, installs ffmpeg.
#
#   stack.sh install          ffmpeg + Kafka jars (idempotent, quick when done)
#   stack.sh start | stop     both services (start waits until they accept clients)
#   stack.sh status           what runs, and the env vars that point at it
#   stack.sh env              prints export lines for WAVESTACK_* variables
#   stack.sh cluster ...      a 3-node Kafka cluster beside the dev broker (cluster.sh)
#
# Everything lives under $WAVESTACK_STACK_DIR (default: .stack/ in the checkout), on
# ports of its own, so it never collides with a system Kafka or PostgreSQL.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
STACK=${WAVESTACK_STACK_DIR:-$ROOT/.stack}
KAFKA_PORT=${WAVESTACK_STACK_KAFKA_PORT:-19092}
CONTROLLER_PORT=$((KAFKA_PORT + 1))
PG_PORT=${WAVESTACK_STACK_PG_PORT:-55432}
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
# PostgreSQL is durable (fsync on) unless asked otherwise: `make test` sets this to
# "off", since a test database lost to a power cut is simply made again.
PG_FSYNC=${WAVESTACK_STACK_PG_FSYNC:-on}

log() { printf 'stack: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

as_postgres() {
  # initdb and postgres refuse to run as root; everything else runs as the caller.
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

install_ffmpeg() {
  command -v ffmpeg >/dev/null && command -v ffprobe >/dev/null && return 0
  [ "$(id -u)" = 0 ] || die "ffmpeg is missing; install it with: sudo apt-get install -y ffmpeg"
  log "installing ffmpeg from Debian's packages"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ffmpeg >/dev/null
}

install_kafka() {
  local libs=$STACK/kafka/libs
  [ -f "$libs/.complete" ] && [ "$libs/.complete" -nt "$ROOT/deploy/pom.xml" ] && return 0
  command -v mvn >/dev/null || die "Maven (mvn) is needed to fetch the Kafka jars"
  log "fetching the Kafka broker jars from Maven Central"
  rm -rf "$libs"; mkdir -p "$libs"
  mvn -q -f "$ROOT/deploy/pom.xml" dependency:copy-dependencies \
    -DoutputDirectory="$libs" -DincludeScope=runtime >&2
  touch "$libs/.complete"
}

install_postgres() {
  [ -x "$PG_BIN/initdb" ] && return 0
  [ "$(id -u)" = 0 ] || die "PostgreSQL 15 is missing; install postgresql-15"
  log "installing PostgreSQL 15 from Debian's packages"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15 >/dev/null
}

wait_port() {  # wait_port NAME PORT SECONDS
  local i
  for ((i = 0; i < $3 * 10; i++)); do
    (exec 3<>"/dev/tcp/127.0.0.1/$2") 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

kafka_running() { [ -f "$STACK/kafka/pid" ] && kill -0 "$(cat "$STACK/kafka/pid")" 2>/dev/null; }

start_kafka() {
  kafka_running && { log "kafka already running on 127.0.0.1:$KAFKA_PORT"; return 0; }
  local dir=$STACK/kafka data=$STACK/kafka/data
  mkdir -p "$data" "$dir/logs"
  sed -e "s|@PORT@|$KAFKA_PORT|g" -e "s|@CONTROLLER_PORT@|$CONTROLLER_PORT|g" \
      -e "s|@DATA@|$data|g" "$ROOT/deploy/kafka/server.properties.in" >"$dir/server.properties"
  local java=(java -Xms256m -Xmx768m -XX:+UseG1GC -Djava.awt.headless=true
              -Dlog4j2.configurationFile="$ROOT/deploy/kafka/log4j2.yaml"
              -Dkafka.logs.dir="$dir/logs" -cp "$dir/libs/*")
  if [ ! -f "$data/meta.properties" ]; then
    local cluster_id
    cluster_id=$("${java[@]}" kafka.tools.StorageTool random-uuid)
    "${java[@]}" kafka.tools.StorageTool format -t "$cluster_id" -c "$dir/server.properties" >"$dir/logs/format.log" 2>&1 \
      || { cat "$dir/logs/format.log" >&2; die "could not format Kafka storage"; }
  fi
  log "starting kafka on 127.0.0.1:$KAFKA_PORT"
  # A broker keeps files open for every partition (the test suite makes thousands of
  # topics); without head room it fails its log directory and shuts down.
  (
    ulimit -Hn 1048576 2>/dev/null || true
    ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
    exec nohup "${java[@]}" kafka.Kafka "$dir/server.properties" >"$dir/logs/stdout.log" 2>&1
  ) &
  echo $! >"$dir/pid"
  wait_port kafka "$KAFKA_PORT" 60 || { tail -30 "$dir/logs/stdout.log" >&2; die "kafka did not open its port"; }
}

stop_kafka() {
  kafka_running || { rm -f "$STACK/kafka/pid"; return 0; }
  local pid i
  pid=$(cat "$STACK/kafka/pid")
  log "stopping kafka (pid $pid)"
  kill "$pid" 2>/dev/null || true
  for ((i = 0; i < 300; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$STACK/kafka/pid"
}

pg_dir() {
  # As root, PostgreSQL runs as the postgres user, which must reach its folder. A
  # checkout it cannot traverse (say under /root) gets a folder under /var/tmp instead,
  # named after the checkout so two checkouts never share one.
  mkdir -p "$STACK"
  if [ "$(id -u)" = 0 ] && ! runuser -u postgres -- test -x "$STACK" 2>/dev/null; then
    echo "/var/tmp/wavestack-pg-$(printf %s "$STACK" | md5sum | cut -c1-12)"
  else
    echo "$STACK/pg"
  fi
}

pg_running() {
  local dir
  dir=$(pg_dir)
  [ -f "$dir/data/postmaster.pid" ] && as_postgres "$PG_BIN/pg_ctl" -D "$dir/data" status >/dev/null 2>&1
}

start_pg() {
  pg_running && { log "postgresql already running on 127.0.0.1:$PG_PORT"; return 0; }
  local dir
  dir=$(pg_dir)
  mkdir -p "$dir"
  [ "$(id -u)" = 0 ] && chown postgres: "$dir"
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    as_postgres "$PG_BIN/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; die "initdb failed"; }
  fi
  case "$PG_FSYNC" in on | off) ;; *) die "WAVESTACK_STACK_PG_FSYNC must be on or off" ;; esac
  log "starting postgresql on 127.0.0.1:$PG_PORT (fsync $PG_FSYNC)"
  as_postgres "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-p $PG_PORT -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=$PG_FSYNC -c synchronous_commit=$PG_FSYNC" start >/dev/null \
    || { tail -20 "$dir/server.log" >&2; die "postgresql did not start"; }
  as_postgres psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -tAc "SELECT 1 FROM pg_roles WHERE rolname='wavestack'" | grep -q 1 \
    || as_postgres psql -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -c "CREATE ROLE wavestack LOGIN SUPERUSER"
  as_postgres psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='wavestack'" | grep -q 1 \
    || as_postgres psql -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -c "CREATE DATABASE wavestack OWNER wavestack"
}

stop_pg() {
  pg_running || return 0
  log "stopping postgresql"
  as_postgres "$PG_BIN/pg_ctl" -D "$(pg_dir)/data" -m fast -w stop >/dev/null
}

print_env() {
  echo "export WAVESTACK_KAFKA_BOOTSTRAP=127.0.0.1:$KAFKA_PORT"
  echo "export WAVESTACK_DATABASE_URL=postgresql://wavestack@127.0.0.1:$PG_PORT/wavestack"
}

case "${1:-}" in
  install) install_ffmpeg; install_postgres; install_kafka ;;
  start) install_kafka; install_postgres; start_pg; start_kafka ;;
  stop) stop_kafka; stop_pg ;;
  start-kafka) install_kafka; start_kafka ;;
  stop-kafka) stop_kafka ;;
  start-pg) install_postgres; start_pg ;;
  stop-pg) stop_pg ;;
  status)
    kafka_running && log "kafka: running (pid $(cat "$STACK/kafka/pid"))" || log "kafka: stopped"
    pg_running && log "postgresql: running" || log "postgresql: stopped"
    print_env ;;
  env) print_env ;;
  cluster) shift; install_kafka; exec bash "$ROOT/deploy/scripts/cluster.sh" "$@" ;;
  *) echo "usage: $0 install|start|stop|start-kafka|stop-kafka|start-pg|stop-pg|status|env|cluster" >&2; exit 2 ;;
esac
