#!/usr/bin/env bash
# `make local`: LocalStack up, functions built, stack deployed, a demo tenant ready, and how to
# call it printed. Safe to re-run: each step is skipped or fast when nothing changed.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
stack="${NOTIFIER_STACK:-notifier}"
demo_file="$LOCAL_DIR/demo-tenant-$stack.json"

ensure_tools
"$REPO_ROOT/infra/localstack/start.sh"
"$REPO_ROOT/infra/scripts/deploy-local.sh" "$stack"

base="$(api_base_url "$stack")"
demo_key=""
if [ -f "$demo_file" ]; then
  demo_key="$("$TOOLS_VENV/bin/python" -c 'import json,sys; print(json.load(open(sys.argv[1]))["api_key"])' "$demo_file")"
  code="$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $demo_key" "$base/v1/subscriptions")"
  [ "$code" = 401 ] && demo_key=""  # LocalStack was restarted: its tables are new.
fi
if [ -z "$demo_key" ]; then
  log "creating the demo tenant"
  (cd "$REPO_ROOT" && cargo run -q -p notifier-cli -- --stack "$stack" tenant create demo) >"$demo_file"
  demo_key="$("$TOOLS_VENV/bin/python" -c 'import json,sys; print(json.load(open(sys.argv[1]))["api_key"])' "$demo_file")"
fi
tenant_id="$("$TOOLS_VENV/bin/python" -c 'import json,sys; print(json.load(open(sys.argv[1]))["tenant_id"])' "$demo_file")"

cat <<MSG

notifier is running on LocalStack (stack "$stack").

  API base URL : $base
  demo tenant  : $tenant_id
  demo API key : $demo_key
  logs         : $LOCAL_DIR/logs (localstack.log, lambda/<function>.log)

Publish an event:

  curl -sS -X POST '$base/v1/events' \\
    -H 'Authorization: Bearer $demo_key' \\
    -H 'Content-Type: application/json' \\
    -d '{"type": "order.paid", "data": {"order_id": "ord_123", "amount": 4200}}'

Stop everything with: make local-down
MSG
