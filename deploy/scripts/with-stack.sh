#!/usr/bin/env bash
# Runs a command with Kafka and PostgreSQL available, then stops what it started.
#
# A service named by WAVESTACK_KAFKA_BOOTSTRAP / WAVESTACK_DATABASE_URL is used as
# it is; otherwise the local one (deploy/scripts/stack.sh) is started if it isn't
# running, and stopped again afterwards only if this script started it. So
# `make test` during `make dev` shares the running stack and leaves it running.
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
STACK="$HERE/stack.sh"
started=()

cleanup() {
  local s
  for s in "${started[@]}"; do bash "$STACK" "stop-$s" || true; done
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

eval "$(bash "$STACK" env | sed 's/^export /export STACK_/')"
# Read the status once into a variable: `status | grep -q` under pipefail fails
# whenever grep stops reading early, which would look like "not running".
status=$(bash "$STACK" status 2>&1)
if [ -z "${WAVESTACK_DATABASE_URL:-}" ]; then
  if [[ "$status" != *"postgresql: running"* ]]; then
    bash "$STACK" start-pg || exit 1
    started+=(pg)
  fi
  export WAVESTACK_DATABASE_URL=$STACK_WAVESTACK_DATABASE_URL
fi
if [ -z "${WAVESTACK_KAFKA_BOOTSTRAP:-}" ]; then
  if [[ "$status" != *"kafka: running"* ]]; then
    bash "$STACK" start-kafka || exit 1
    started+=(kafka)
  fi
  export WAVESTACK_KAFKA_BOOTSTRAP=$STACK_WAVESTACK_KAFKA_BOOTSTRAP
fi

"$@"
