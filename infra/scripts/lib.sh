# Shared by the project's scripts (sourced, not run). Sets the repo root, the local AWS
# environment (LocalStack unless the caller's environment says otherwise) and helpers.

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
LOCAL_DIR="$REPO_ROOT/.local"
TOOLS_VENV="$LOCAL_DIR/venv-tools"

export AWS_ENDPOINT_URL="${AWS_ENDPOINT_URL:-http://localhost:4566}"
export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-test}"
export AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-test}"
export AWS_REGION="${AWS_REGION:-${AWS_DEFAULT_REGION:-us-east-1}}"
export AWS_DEFAULT_REGION="$AWS_REGION"
export SAM_CLI_TELEMETRY=0
# cargo-lambda finds zig through `python3 -m ziglang`, so the tools venv goes first on PATH.
export PATH="$TOOLS_VENV/bin:$HOME/.cargo/bin:$PATH"

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# A Python >= 3.12 (LocalStack needs it): NOTIFIER_PYTHON, pyenv's 3.13, or one on PATH.
find_python() {
  local candidate
  for candidate in "${NOTIFIER_PYTHON:-}" /root/.pyenv/versions/3.13.0/bin/python3 \
    "$(command -v python3.13 || true)" "$(command -v python3.12 || true)" "$(command -v python3 || true)"; do
    [ -n "$candidate" ] && [ -x "$candidate" ] || continue
    if "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null; then
      echo "$candidate"
      return 0
    fi
  done
  die "Python 3.12 or newer is needed (set NOTIFIER_PYTHON=/path/to/python3.12+)"
}

# ensure_venv DIR LOCKFILE: a venv at DIR with exactly LOCKFILE installed; reinstalled only
# when the lock file changes.
ensure_venv() {
  local dir="$1" lock="$2" stamp want
  stamp="$dir/.lock.sha256"
  want="$(sha256sum "$lock" | cut -d' ' -f1)"
  if [ -x "$dir/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
    return 0
  fi
  log "installing $(basename "$lock") into ${dir#"$REPO_ROOT"/} (once)"
  rm -rf "$dir"
  "$(find_python)" -m venv "$dir"
  "$dir/bin/pip" install --quiet --disable-pip-version-check --no-input -r "$lock"
  echo "$want" > "$stamp"
}

ensure_tools() {
  ensure_venv "$TOOLS_VENV" "$REPO_ROOT/infra/tools/requirements.lock"
}

# Stack outputs as KEY=VALUE lines.
stack_outputs() {
  "$TOOLS_VENV/bin/python" - "$1" <<'PY'
import sys, boto3
stack = boto3.client("cloudformation").describe_stacks(StackName=sys.argv[1])["Stacks"][0]
for output in stack.get("Outputs", []):
    print(f'{output["OutputKey"]}={output["OutputValue"]}')
PY
}

# sam build into .aws-sam/build (cargo-lambda, release), log in .local/sam-build.log.
sam_build() {
  log "sam build (cargo-lambda, release)"
  local start=$SECONDS
  sam build --template-file "$REPO_ROOT/template.yaml" --build-dir "$REPO_ROOT/.aws-sam/build" \
    >"$LOCAL_DIR/sam-build.log" 2>&1 \
    || { tail -n 60 "$LOCAL_DIR/sam-build.log"; die "sam build failed (full log: .local/sam-build.log)"; }
  log "built in $((SECONDS - start)) s"
}

# Starts LocalStack unless it is running, and stops it when the calling script exits if it
# was started here.
localstack_for_this_script() {
  LOCALSTACK_STARTED_HERE=0
  if ! "$REPO_ROOT/infra/localstack/status.sh" >/dev/null 2>&1; then
    "$REPO_ROOT/infra/localstack/start.sh"
    LOCALSTACK_STARTED_HERE=1
  fi
  trap 'if [ "$LOCALSTACK_STARTED_HERE" = 1 ]; then "$REPO_ROOT/infra/localstack/stop.sh" || true; fi' EXIT
}

api_base_url() {
  local outputs api_id stage
  outputs="$(stack_outputs "$1")"
  api_id="$(sed -n 's/^ApiId=//p' <<<"$outputs")"
  stage="$(sed -n 's/^ApiStage=//p' <<<"$outputs")"
  echo "${AWS_ENDPOINT_URL%/}/_aws/execute-api/$api_id/$stage"
}
