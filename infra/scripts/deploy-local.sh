#!/usr/bin/env bash
# Builds every function with `sam build` (cargo-lambda, no Docker) and deploys the stack to
# LocalStack with the local parameters on.
#   deploy-local.sh [STACK_NAME] [extra Key=Value parameter overrides...]
# NOTIFIER_SKIP_BUILD=1 deploys what .aws-sam/build already holds.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
stack="${1:-${NOTIFIER_STACK:-notifier}}"
shift || true
sender="${NOTIFIER_SENDER_EMAIL:-notifications@example.com}"
bucket="notifier-sam-artifacts"

ensure_tools
cd "$REPO_ROOT"

if [ "${NOTIFIER_SKIP_BUILD:-0}" != 1 ]; then
  sam_build
fi

log "preparing LocalStack (artifact bucket, SES sender identity $sender)"
"$TOOLS_VENV/bin/python" - "$bucket" "$sender" <<'PY'
import sys, boto3
bucket, sender = sys.argv[1], sys.argv[2]
s3 = boto3.client("s3")
if bucket not in [b["Name"] for b in s3.list_buckets().get("Buckets", [])]:
    s3.create_bucket(Bucket=bucket)
ses = boto3.client("ses")
ses.verify_email_identity(EmailAddress=sender)
status = ses.get_identity_verification_attributes(Identities=[sender])["VerificationAttributes"]
if status.get(sender, {}).get("VerificationStatus") != "Success":
    sys.exit(f"SES identity {sender} is not verified: {status}")
PY

log "sam deploy --stack-name $stack"
start=$SECONDS
sam deploy \
  --template-file .aws-sam/build/template.yaml \
  --stack-name "$stack" \
  --s3-bucket "$bucket" --s3-prefix "$stack" \
  --capabilities CAPABILITY_IAM \
  --no-confirm-changeset --no-fail-on-empty-changeset \
  --parameter-overrides AllowLocalWebhookTargets=true "SenderEmail=$sender" "$@" \
  >"$LOCAL_DIR/sam-deploy.log" 2>&1 \
  || { tail -n 60 "$LOCAL_DIR/sam-deploy.log"; die "sam deploy failed (full log: .local/sam-deploy.log)"; }
status="$("$TOOLS_VENV/bin/python" -c "import boto3,sys; print(boto3.client('cloudformation').describe_stacks(StackName=sys.argv[1])['Stacks'][0]['StackStatus'])" "$stack")"
case "$status" in
  CREATE_COMPLETE | UPDATE_COMPLETE) log "stack $stack is $status (deployed in $((SECONDS - start)) s)" ;;
  *) die "stack $stack ended in $status (see .local/sam-deploy.log)" ;;
esac
