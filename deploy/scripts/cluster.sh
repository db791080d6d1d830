#!/usr/bin/env bash
# A local 3-node KRaft Kafka cluster (each node broker and controller) from the same
# jars as the dev broker, on ports and folders of its own so both run side by side.
#
#   cluster.sh start          starts the nodes that are not running, waits until each
#                             one has joined (a restart after `kill` is just `start`)
#   cluster.sh stop           stops every node (SIGTERM, then SIGKILL after 30 s)
#   cluster.sh status         which nodes run, and the env vars that point at them
#   cluster.sh env            export lines: the bootstrap list and replication factor 3
#   cluster.sh kill NODE      SIGKILLs one node (1-3): the fault the tests inject
#
# Settings: WAVESTACK_CLUSTER_PORT (first broker port, default 29092; node N listens on
# PORT+N-1, its controller on PORT+100+N-1), WAVESTACK_CLUSTER_DIR (state, default
# .stack/cluster), WAVESTACK_CLUSTER_HEAP (each JVM's -Xmx, default 512m).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
STACK=${WAVESTACK_STACK_DIR:-$ROOT/.stack}
LIBS=$STACK/kafka/libs
DIR=${WAVESTACK_CLUSTER_DIR:-$STACK/cluster}
BASE_PORT=${WAVESTACK_CLUSTER_PORT:-29092}
HEAP=${WAVESTACK_CLUSTER_HEAP:-512m}
NODES=(1 2 3)

log() { printf 'cluster: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

port() { echo $((BASE_PORT + $1 - 1)); }
controller_port() { echo $((BASE_PORT + 100 + $1 - 1)); }
node_dir() { echo "$DIR/node-$1"; }
pid_of() { cat "$(node_dir "$1")/pid" 2>/dev/null; }
running() { local pid; pid=$(pid_of "$1") && [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; }

voters() {
  local n out=()
  for n in "${NODES[@]}"; do out+=("$n@127.0.0.1:$(controller_port "$n")"); done
  (IFS=,; echo "${out[*]}")
}

bootstrap() {
  local n out=()
  for n in "${NODES[@]}"; do out+=("127.0.0.1:$(port "$n")"); done
  (IFS=,; echo "${out[*]}")
}

java_cmd() {  # java_cmd NODE: sets JAVA, the JVM command line of the storage tool and broker
  # A small heap each: three of them run beside the dev broker and the test processes.
  JAVA=(java -Xms128m "-Xmx$HEAP" -XX:+UseG1GC -Djava.awt.headless=true
        "-Dlog4j2.configurationFile=$ROOT/deploy/kafka/log4j2.yaml"
        "-Dkafka.logs.dir=$(node_dir "$1")/logs" -cp "$LIBS/*")
}

ensure_jars() {
  [ -f "$LIBS/.complete" ] && return 0
  # stack.sh owns fetching the jars; the cluster only reuses them.
  bash "$ROOT/deploy/scripts/stack.sh" install >&2
}

configure() {  # configure NODE: writes server.properties, formats the storage once
  local n=$1 dir data
  dir=$(node_dir "$n"); data=$dir/data
  mkdir -p "$data" "$dir/logs"
  sed -e "s|@NODE_ID@|$n|g" -e "s|@PORT@|$(port "$n")|g" \
      -e "s|@CONTROLLER_PORT@|$(controller_port "$n")|g" -e "s|@VOTERS@|$(voters)|g" \
      -e "s|@DATA@|$data|g" "$ROOT/deploy/kafka/cluster.properties.in" >"$dir/server.properties"
  [ -f "$data/meta.properties" ] && return 0
  java_cmd "$n"
  # One cluster id for all three nodes, made once and kept beside them.
  # (what `StorageTool random-uuid` prints: 16 random bytes, URL-safe base64, no padding,
  # without paying a JVM start for it). Like Kafka's Uuid.randomUuid, never one that
  # starts with '-': the tool's parser takes that for an option (and no node can have
  # been formatted with such an id, so one left by an older script is replaced).
  while [ ! -s "$DIR/cluster-id" ] || [ "$(head -c 1 "$DIR/cluster-id")" = "-" ]; do
    head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=' >"$DIR/cluster-id"
  done
  "${JAVA[@]}" kafka.tools.StorageTool format --cluster-id="$(cat "$DIR/cluster-id")" \
    -c "$dir/server.properties" >"$dir/logs/format.log" 2>&1 \
    || { cat "$dir/logs/format.log" >&2; die "could not format node $n's storage"; }
}

started_count() {  # how often NODE has logged that it started (server.log spans restarts)
  local f
  f="$(node_dir "$1")/logs/server.log"
  if [ -f "$f" ]; then grep -c "Kafka Server started" "$f" || true; else echo 0; fi
}

launch() {  # launch NODE
  local n=$1 dir
  dir=$(node_dir "$n")
  log "starting node $n on 127.0.0.1:$(port "$n") (controller $(controller_port "$n"))"
  java_cmd "$n"
  (
    # A broker keeps files open for every partition; give it head room (see stack.sh).
    ulimit -Hn 1048576 2>/dev/null || true
    ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
    exec nohup "${JAVA[@]}" kafka.Kafka "$dir/server.properties" >>"$dir/logs/stdout.log" 2>&1
  ) &
  echo $! >"$dir/pid"
}

start() {
  ensure_jars
  mkdir -p "$DIR"
  local n i waiting=() before=() launched=()
  for n in "${NODES[@]}"; do
    if running "$n"; then continue; fi
    configure "$n"
    before[n]=$(started_count "$n")
    launch "$n"
    waiting+=("$n"); launched+=("$n")
  done
  [ ${#waiting[@]} -gt 0 ] || { log "all nodes already running ($(bootstrap))"; return 0; }
  # "Kafka Server started" comes after the broker registered with the quorum and was
  # unfenced, so a started node serves its partitions. A node alone cannot get there
  # (no quorum): on a cold start all three must come up together.
  for ((i = 0; i < 1200; i++)); do
    local left=()
    for n in "${waiting[@]}"; do
      if ! running "$n"; then
        tail -30 "$(node_dir "$n")/logs/stdout.log" >&2
        stop "${launched[@]}"  # the others would wait for a quorum that is not coming
        die "node $n exited"
      fi
      [ "$(started_count "$n")" -gt "${before[n]}" ] || left+=("$n")
    done
    [ ${#left[@]} -eq 0 ] && { log "cluster ready: $(bootstrap)"; return 0; }
    waiting=("${left[@]}")
    sleep 0.1
  done
  stop "${launched[@]}"
  die "node(s) ${waiting[*]} did not start within 120 s (see $DIR/node-*/logs/server.log)"
}

stop() {  # stop [NODE...]: the given nodes, by default all
  local n i pids=() which=("$@")
  [ $# -gt 0 ] || which=("${NODES[@]}")
  for n in "${which[@]}"; do
    running "$n" || { rm -f "$(node_dir "$n")/pid"; continue; }
    pids+=("$(pid_of "$n")")
    log "stopping node $n (pid $(pid_of "$n"))"
    kill "$(pid_of "$n")" 2>/dev/null || true
  done
  # All at once: a controlled shutdown waits for the quorum, which stopping the nodes
  # one by one would take away from the last one.
  for ((i = 0; i < 300; i++)); do
    local alive=0 pid
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ $alive = 0 ] && break
    sleep 0.1
  done
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  for n in "${which[@]}"; do rm -f "$(node_dir "$n")/pid"; done
}

kill_node() {
  local n=${1:-}
  [[ " ${NODES[*]} " == *" $n "* ]] || die "kill needs a node number (1-3)"
  running "$n" || die "node $n is not running"
  log "SIGKILL node $n (pid $(pid_of "$n"))"
  kill -9 "$(pid_of "$n")"
  while running "$n"; do sleep 0.05; done
  rm -f "$(node_dir "$n")/pid"
}

print_env() {
  echo "export WAVESTACK_KAFKA_BOOTSTRAP=$(bootstrap)"
  # The streams processes' changelogs are created with this factor too.
  echo "export WAVESTACK_TOPIC_REPLICATION_FACTOR=3"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  kill) kill_node "${2:-}" ;;
  status)
    for n in "${NODES[@]}"; do
      if running "$n"; then log "node $n: running (pid $(pid_of "$n"), 127.0.0.1:$(port "$n"))"
      else log "node $n: stopped"; fi
    done
    print_env ;;
  env) print_env ;;
  *) echo "usage: $0 start|stop|status|env|kill NODE" >&2; exit 2 ;;
esac
