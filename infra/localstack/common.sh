# Shared settings and helpers for start.sh, stop.sh and status.sh (sourced, not run).
# shellcheck shell=bash

LS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# REPO_ROOT, LOCAL_DIR, die, find_python and ensure_venv come from the project's script library.
# shellcheck source=../scripts/lib.sh
source "$LS_DIR/../scripts/lib.sh"
VENV="$LOCAL_DIR/venv-localstack"
LOG_DIR="$LOCAL_DIR/logs"
LS_LOG="$LOG_DIR/localstack.log"
PID_FILE="$LOCAL_DIR/localstack.pid"
VOLUME_DIR="$LOCAL_DIR/localstack"
# The process executor records each function process here, so stop.sh can end them even if
# LocalStack itself died without cleaning up.
LAMBDA_PID_DIR="$VOLUME_DIR/lambda-pids"
PORT=4566
HOST_ENDPOINT="http://127.0.0.1:$PORT"

# The endpoint to check: an external LocalStack (NOTIFIER_EXTERNAL_LOCALSTACK=1) or ours.
endpoint() {
    if [[ "${NOTIFIER_EXTERNAL_LOCALSTACK:-0}" == 1 ]]; then
        echo "${LOCALSTACK_ENDPOINT:-http://localhost:$PORT}"
    else
        echo "$HOST_ENDPOINT"
    fi
}

# Prints the health JSON and succeeds if the endpoint answers it.
health_json() {
    curl -fsS --max-time 3 "$(endpoint)/_localstack/health" 2>/dev/null
}

# Succeeds if PID_FILE names a live LocalStack process started by start.sh.
our_pid() {
    local pid
    [[ -f "$PID_FILE" ]] || return 1
    pid="$(cat "$PID_FILE" 2>/dev/null)"
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q 'localstack.runtime.main' || return 1
    echo "$pid"
}

port_in_use() {
    (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null
}
