#!/usr/bin/env bash
# `make bench`: measures every function and prints one report (also written to
# .local/bench/report.md). Steps: release build (sam build), the hello-world yardstick,
# criterion's CPU benchmarks, LocalStack (started here if it is not running, stopped again at
# the end), a deployed stack `notifier-bench`, then the measurements of `notifier-bench`.
#   NOTIFIER_SKIP_BUILD=1   reuse what .aws-sam/build holds
#   BENCH_ARGS="..."        extra arguments for the measuring program (see --help)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
stack="${NOTIFIER_BENCH_STACK:-notifier-bench}"
cd "$REPO_ROOT"
mkdir -p "$LOCAL_DIR/bench"
ensure_tools

if [ "${NOTIFIER_SKIP_BUILD:-0}" != 1 ]; then
  sam_build
fi
log "hello-world yardstick (cargo lambda build --release, same profile)"
cargo lambda build --release --package notifier-bench-hello >"$LOCAL_DIR/bench/hello-build.log" 2>&1 \
  || { tail -n 30 "$LOCAL_DIR/bench/hello-build.log"; die "hello-world build failed"; }
log "criterion benchmarks (CPU per event)"
cargo bench --package notifier-domain --bench pipeline --locked -- --noplot >"$LOCAL_DIR/bench/criterion.log" 2>&1 \
  || { tail -n 30 "$LOCAL_DIR/bench/criterion.log"; die "criterion benchmarks failed"; }
log "building the measuring program"
cargo build --package notifier-bench --locked --quiet

localstack_for_this_script
NOTIFIER_SKIP_BUILD=1 "$REPO_ROOT/infra/scripts/deploy-local.sh" "$stack"

log "measuring (takes a few minutes)"
# shellcheck disable=SC2086 # BENCH_ARGS is a list of arguments
NOTIFIER_STACK="$stack" "$REPO_ROOT/target/debug/notifier-bench" \
  --repo "$REPO_ROOT" --localstack-log "$LOCAL_DIR/logs/localstack.log" \
  --report "$LOCAL_DIR/bench/report.md" ${BENCH_ARGS:-}
