#!/usr/bin/env bash
# Start LocalStack on the host (no Docker) with the notifier plugins; see README.md.
# Idempotent: a LocalStack started earlier by this script and still healthy is left as is.
set -euo pipefail
# shellcheck source=common.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/common.sh"

READY_TIMEOUT=180
SERVICES="sqs,dynamodb,sns,ses,lambda,cloudformation,apigateway,iam,logs,sts,s3"

if [[ "${NOTIFIER_EXTERNAL_LOCALSTACK:-0}" == 1 ]]; then
    if health_json >/dev/null; then
        echo "Using external LocalStack at $(endpoint) (healthy); nothing started."
        exit 0
    fi
    die "NOTIFIER_EXTERNAL_LOCALSTACK=1 but $(endpoint)/_localstack/health does not answer."
fi

ensure_plugins() {
    local src="$LS_DIR/plugins" stamp="$VENV/.plugins.sha256" want build
    want="$(cd "$src" && find . -type f -not -path '*/__pycache__/*' -not -path '*.egg-info/*' \
        -not -path './build/*' | LC_ALL=C sort | xargs sha256sum | sha256sum | cut -d' ' -f1)"
    if [[ "$(cat "$stamp" 2>/dev/null)" == "$want" ]]; then
        return 0
    fi
    echo "Installing LocalStack plugins from $src..."
    # Build from a copy: setuptools writes build/ and *.egg-info next to the sources.
    build="$(mktemp -d)"
    cp -R "$src/." "$build/"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps \
        --no-build-isolation --force-reinstall "$build"
    rm -rf "$build"
    echo "$want" >"$stamp"
}

seconds_since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }

wait_ready() {
    local pid="$1" started=$SECONDS elapsed
    while :; do
        elapsed=$((SECONDS - started))
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "start.sh: LocalStack (pid $pid) exited during start-up; last log lines:" >&2
            tail -n 40 "$LS_LOG" >&2 || true
            rm -f "$PID_FILE"
            exit 1
        fi
        if grep -q '^Ready\.' "$LS_LOG" 2>/dev/null && health_json >/dev/null; then
            return 0
        fi
        if ((elapsed >= READY_TIMEOUT)); then
            echo "start.sh: LocalStack (pid $pid) not ready after ${READY_TIMEOUT} s; last log lines:" >&2
            tail -n 40 "$LS_LOG" >&2 || true
            echo "start.sh: it is still running; stop it with $LS_DIR/stop.sh" >&2
            exit 1
        fi
        sleep 0.5
    done
}

mkdir -p "$LOG_DIR/lambda" "$VOLUME_DIR"
t0=$EPOCHREALTIME

if pid="$(our_pid)"; then
    if health_json >/dev/null; then
        echo "LocalStack already running (pid $pid) and healthy at $HOST_ENDPOINT."
        exit 0
    fi
    echo "LocalStack (pid $pid) is running but not healthy yet; waiting..."
    wait_ready "$pid"
    echo "LocalStack ready at $HOST_ENDPOINT (pid $pid) after $(seconds_since "$t0") s."
    exit 0
fi
rm -f "$PID_FILE"

if port_in_use; then
    holder="$(ss -Hltnp "sport = :$PORT" 2>/dev/null | sed -n 's/.*users:((\(.*\)))$/\1/p' | head -n1)"
    die "port $PORT is already in use by another process${holder:+ [$holder]}, not by a LocalStack" \
        "started by this script. Stop it, or set NOTIFIER_EXTERNAL_LOCALSTACK=1 to use it."
fi

ensure_venv "$VENV" "$LS_DIR/requirements.lock"
ensure_plugins

[[ -f "$LS_LOG" ]] && mv -f "$LS_LOG" "$LOG_DIR/localstack.prev.log"
mkdir -p "$LAMBDA_PID_DIR"
echo "Starting LocalStack (host mode) at $HOST_ENDPOINT; log: $LS_LOG"
# setsid: its own session and process group, so stop.sh can signal the whole group and the
# shell that ran this script can go away.
env \
    GATEWAY_LISTEN="127.0.0.1:$PORT" \
    LOCALSTACK_HOST="localhost:$PORT" \
    SQS_ENDPOINT_STRATEGY=path \
    LOCALSTACK_VOLUME_DIR="$VOLUME_DIR" \
    DNS_ADDRESS=0 \
    SERVICES="$SERVICES" \
    PROVIDER_OVERRIDE_DYNAMODB=moto \
    LAMBDA_RUNTIME_EXECUTOR=process \
    NOTIFIER_LOG_DIR="$LOG_DIR" \
    NOTIFIER_LAMBDA_PID_DIR="$LAMBDA_PID_DIR" \
    DISABLE_EVENTS=1 \
    SKIP_SSL_CERT_DOWNLOAD=1 \
    setsid "$VENV/bin/python" -m localstack.runtime.main \
    </dev/null >>"$LS_LOG" 2>&1 &
pid=$!
t_launch=$EPOCHREALTIME
echo "$pid" >"$PID_FILE"

wait_ready "$pid"
echo "LocalStack ready at $HOST_ENDPOINT (pid $pid) after $(seconds_since "$t0") s" \
    "(LocalStack itself: $(seconds_since "$t_launch") s)."
