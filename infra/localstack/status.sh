#!/usr/bin/env bash
# Is LocalStack running? Exit 0 if healthy, 3 if not running, 1 if running but not healthy.
set -euo pipefail
# shellcheck source=common.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/common.sh"

if [[ "${NOTIFIER_EXTERNAL_LOCALSTACK:-0}" == 1 ]]; then
    echo "External LocalStack (NOTIFIER_EXTERNAL_LOCALSTACK=1) at $(endpoint)"
    if health="$(health_json)"; then
        echo "health: $health"
        exit 0
    fi
    echo "not reachable"
    exit 3
fi

if ! pid="$(our_pid)"; then
    echo "LocalStack is not running (start it with $LS_DIR/start.sh)."
    echo "logs: $LOG_DIR"
    exit 3
fi
echo "LocalStack is running: pid $pid, endpoint $HOST_ENDPOINT"
echo "logs: $LOG_DIR (localstack.log, lambda/<function>.log)"
if health="$(health_json)"; then
    echo "health: $health"
    exit 0
fi
echo "health: no answer from $HOST_ENDPOINT/_localstack/health (still starting?)"
exit 1
