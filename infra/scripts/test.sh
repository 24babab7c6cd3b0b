#!/usr/bin/env bash
# `make test`: formatting, lints, unit tests, then the end-to-end suite against a freshly
# deployed stack on LocalStack. Starts LocalStack if it is not running and stops it again
# afterwards if it started it.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
stack="${NOTIFIER_TEST_STACK:-notifier-e2e}"
cd "$REPO_ROOT"

log "cargo fmt --check"
cargo fmt --all -- --check
log "cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
log "unit tests"
cargo test --workspace --exclude notifier-e2e --locked

ensure_tools
localstack_for_this_script

log "LocalStack plugin tests"
"$LOCAL_DIR/venv-localstack/bin/python" -m pytest -q "$REPO_ROOT/infra/localstack/tests"
log "OpenAPI reference is a valid OpenAPI 3.1 document"
"$LOCAL_DIR/venv-localstack/bin/python" -m openapi_spec_validator "$REPO_ROOT/functions/ingest/openapi.yaml"

if "$TOOLS_VENV/bin/python" -c "import boto3,sys; boto3.client('cloudformation').describe_stacks(StackName=sys.argv[1])" "$stack" >/dev/null 2>&1; then
  log "deleting the previous test stack $stack"
  sam delete --stack-name "$stack" --no-prompts >/dev/null
fi
"$REPO_ROOT/infra/scripts/deploy-local.sh" "$stack" AuthCacheSeconds=1 SubscriptionCacheSeconds=1 \
  "WebhookRetrySchedule=1,2,2" "ProviderRetrySchedule=1,2,2" RoutingMaxReceiveCount=2

log "end-to-end tests against stack $stack"
NOTIFIER_STACK="$stack" cargo test -p notifier-e2e --locked -- --test-threads 4
