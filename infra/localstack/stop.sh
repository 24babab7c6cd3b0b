#!/usr/bin/env bash
# Stop the LocalStack started by start.sh, and any Lambda function processes it ran.
# Idempotent: exits 0 when nothing is running.
set -euo pipefail
# shellcheck source=common.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/common.sh"

GRACE_SECONDS=20

# A process group is a function's if a member has the Runtime API address the executor sets
# (guards against a pid file outliving its process and the id being reused).
is_function_group() {
    local member
    for member in $(pgrep -g "$1" 2>/dev/null); do
        grep -qz '^AWS_LAMBDA_RUNTIME_API=127\.0\.0\.1:' "/proc/$member/environ" 2>/dev/null &&
            return 0
    done
    return 1
}

# Process groups of live function processes (each bootstrap leads its own group).
function_groups() {
    local file pid
    [[ -d "$LAMBDA_PID_DIR" ]] || return 0
    for file in "$LAMBDA_PID_DIR"/*; do
        [[ -f "$file" ]] || continue
        pid="$(basename "$file")"
        if [[ "$pid" =~ ^[0-9]+$ ]] && is_function_group "$pid"; then
            echo "$pid"
        else
            rm -f "$file"
        fi
    done
}

signal_groups() {
    local sig="$1" group
    shift
    for group in "$@"; do
        kill "-$sig" -- "-$group" 2>/dev/null || true
    done
}

# Zombies do not count: a dead LocalStack can stay one until init reaps it.
any_alive() {
    (($#)) || return 1
    ps -e -o pgid=,stat= | awk -v groups=" $* " \
        'index(groups, " " $1 " ") && $2 !~ /^Z/ { found = 1 } END { exit !found }'
}

if [[ "${NOTIFIER_EXTERNAL_LOCALSTACK:-0}" == 1 ]]; then
    echo "NOTIFIER_EXTERNAL_LOCALSTACK=1: LocalStack is managed elsewhere; nothing to stop."
    exit 0
fi

groups=()
if pid="$(our_pid)"; then
    echo "Stopping LocalStack (pid $pid)..."
    # LocalStack shuts its services (and so its function processes) down on SIGTERM.
    groups+=("$pid")
    signal_groups TERM "$pid"
fi

deadline=$((SECONDS + GRACE_SECONDS))
while any_alive "${groups[@]}" && ((SECONDS < deadline)); do
    sleep 0.25
done
# Function processes LocalStack did not end itself (or all of them, if it was not running).
mapfile -t stray < <(function_groups)
if ((${#stray[@]})); then
    echo "Stopping ${#stray[@]} Lambda function process(es) left running: ${stray[*]}"
    signal_groups TERM "${stray[@]}"
    groups+=("${stray[@]}")
fi
while any_alive "${groups[@]}" && ((SECONDS < deadline)); do
    sleep 0.25
done
if any_alive "${groups[@]}"; then
    echo "Still running after ${GRACE_SECONDS} s; sending SIGKILL."
    signal_groups KILL "${groups[@]}"
    sleep 0.5
fi

rm -f "$PID_FILE"
rm -rf "$LAMBDA_PID_DIR"
if ((${#groups[@]})); then
    echo "Stopped."
else
    echo "LocalStack is not running."
fi
