"""Checks of the two LocalStack plugins against a running LocalStack (infra/localstack/start.sh).

Run with the LocalStack venv:
    .local/venv-localstack/bin/python -m pytest infra/localstack/tests
The tests fail (they do not skip) when LocalStack is not reachable.
"""

import base64
import io
import json
import os
import time
import urllib.request
import uuid
import zipfile
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

REPO_ROOT = Path(__file__).resolve().parents[3]
ENDPOINT = os.environ.get("LOCALSTACK_ENDPOINT", "http://127.0.0.1:4566")
LOG_DIR = Path(os.environ.get("NOTIFIER_LOG_DIR", REPO_ROOT / ".local" / "logs"))
EXTERNAL = os.environ.get("NOTIFIER_EXTERNAL_LOCALSTACK") == "1"
ROLE = "arn:aws:iam::000000000000:role/x"
SUFFIX = uuid.uuid4().hex[:8]

# A custom runtime in Python: echoes the event with the Runtime API headers and a few env
# variables; {"crash": true} exits mid-invocation, {"sleep": n} sleeps first.
ECHO_BOOTSTRAP = r"""#!/usr/bin/env python3
import json, os, time, urllib.request
api = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2018-06-01/runtime"
print("echo-init pid", os.getpid(), flush=True)
HEADERS = ("Lambda-Runtime-Aws-Request-Id", "Lambda-Runtime-Deadline-Ms",
           "Lambda-Runtime-Invoked-Function-Arn", "Lambda-Runtime-Trace-Id")
ENV = ("AWS_ENDPOINT_URL", "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
       "AWS_LAMBDA_FUNCTION_VERSION", "AWS_REGION", "LAMBDA_TASK_ROOT", "AWS_ACCESS_KEY_ID")
while True:
    with urllib.request.urlopen(api + "/invocation/next") as r:
        headers = {h: r.headers.get(h) for h in HEADERS}
        event = json.loads(r.read())
    rid = headers["Lambda-Runtime-Aws-Request-Id"]
    print("echo-handling", event.get("marker"), flush=True)
    if event.get("crash"):
        os._exit(3)
    time.sleep(event.get("sleep", 0))
    out = {"event": event, "headers": headers, "pid": os.getpid(), "cwd": os.getcwd(),
           "env": {k: os.environ.get(k) for k in ENV}, "received_ms": int(time.time() * 1000)}
    req = urllib.request.Request(api + "/invocation/" + rid + "/response",
                                 data=json.dumps(out).encode(), method="POST")
    urllib.request.urlopen(req).read()
"""

# Reports an init error through the Runtime API, then hangs until it is killed.
INIT_ERROR_BOOTSTRAP = """#!/bin/bash
set -e
curl -sf -X POST "http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime/init/error" \\
    -H 'Lambda-Runtime-Function-Error-Type: Runtime.ConfigError' \\
    -d '{"errorType":"Runtime.ConfigError","errorMessage":"missing TABLE_NAME"}'
sleep 60
"""

# Exits before ever asking for an invocation.
EXIT_AT_INIT_BOOTSTRAP = """#!/bin/sh
echo "exit-at-init: giving up"
exit 7
"""


def _client(service):
    return boto3.client(
        service,
        endpoint_url=ENDPOINT,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 0}, read_timeout=60),
    )


@pytest.fixture(scope="session", autouse=True)
def localstack_reachable():
    try:
        with urllib.request.urlopen(f"{ENDPOINT}/_localstack/health", timeout=5) as r:
            health = json.loads(r.read())
    except OSError as e:
        pytest.fail(f"LocalStack not reachable at {ENDPOINT} ({e}); run infra/localstack/start.sh")
    for service in ("dynamodb", "lambda", "cloudformation"):
        assert health["services"].get(service) in ("available", "running"), health


@pytest.fixture(scope="session")
def dynamodb():
    return _client("dynamodb")


@pytest.fixture(scope="session")
def lambda_client():
    return _client("lambda")


def _zip(bootstrap: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        info = zipfile.ZipInfo("bootstrap")
        info.external_attr = 0o755 << 16
        zf.writestr(info, bootstrap)
    return buf.getvalue()


@pytest.fixture(scope="module")
def make_function(lambda_client):
    created = []

    def make(name: str, bootstrap: str, timeout: int = 10) -> str:
        name = f"{name}-{SUFFIX}"
        lambda_client.create_function(
            FunctionName=name,
            Runtime="provided.al2023",
            Handler="bootstrap",
            Role=ROLE,
            Code={"ZipFile": _zip(bootstrap)},
            Timeout=timeout,
            MemorySize=128,
        )
        created.append(name)
        lambda_client.get_waiter("function_active_v2").wait(
            FunctionName=name, WaiterConfig={"Delay": 0.5, "MaxAttempts": 60}
        )
        return name

    yield make
    for name in created:
        lambda_client.delete_function(FunctionName=name)


def _invoke(lambda_client, name, event, log_tail=False):
    started = time.monotonic()
    response = lambda_client.invoke(
        FunctionName=name,
        Payload=json.dumps(event).encode(),
        LogType="Tail" if log_tail else "None",
    )
    elapsed = time.monotonic() - started
    return response, json.loads(response["Payload"].read() or b"null"), elapsed


# DynamoDB through moto


@pytest.fixture(scope="module")
def table(dynamodb):
    name = f"plugins-test-{SUFFIX}"
    dynamodb.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
            {"AttributeName": "gsi1pk", "AttributeType": "S"},
        ],
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "gsi1",
                "KeySchema": [{"AttributeName": "gsi1pk", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    )
    dynamodb.get_waiter("table_exists").wait(
        TableName=name, WaiterConfig={"Delay": 0.5, "MaxAttempts": 20}
    )
    yield name
    dynamodb.delete_table(TableName=name)


def test_dynamodb_conditional_put(dynamodb, table):
    item = {"pk": {"S": "tenant#1"}, "sk": {"S": "msg#1"}, "status": {"S": "new"}}
    dynamodb.put_item(TableName=table, Item=item, ConditionExpression="attribute_not_exists(pk)")

    with pytest.raises(dynamodb.exceptions.ConditionalCheckFailedException) as failed:
        dynamodb.put_item(
            TableName=table,
            Item=dict(item, status={"S": "other"}),
            ConditionExpression="attribute_not_exists(pk)",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    # The existing item comes back with the error (ReturnValuesOnConditionCheckFailure).
    assert failed.value.response.get("Item") == item

    got = dynamodb.get_item(TableName=table, Key={"pk": item["pk"], "sk": item["sk"]})
    assert got["Item"]["status"] == {"S": "new"}


def test_dynamodb_query_update_transact_and_gsi(dynamodb, table):
    pk, due = {"S": "tenant#2"}, {"S": "due"}
    dynamodb.batch_write_item(
        RequestItems={
            table: [
                {"PutRequest": {"Item": {"pk": pk, "sk": {"S": f"msg#{i}"}, "gsi1pk": due}}}
                for i in range(3)
            ]
        }
    )
    dynamodb.update_item(
        TableName=table,
        Key={"pk": pk, "sk": {"S": "msg#0"}},
        UpdateExpression="SET attempts = if_not_exists(attempts, :zero) + :one",
        ConditionExpression="attribute_exists(pk)",
        ExpressionAttributeValues={":zero": {"N": "0"}, ":one": {"N": "1"}},
    )
    with pytest.raises(dynamodb.exceptions.TransactionCanceledException):
        dynamodb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": table, "Item": {"pk": pk, "sk": {"S": "msg#9"}}}},
                {
                    "ConditionCheck": {
                        "TableName": table,
                        "Key": {"pk": pk, "sk": {"S": "msg#1"}},
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
            ]
        )
    dynamodb.delete_item(TableName=table, Key={"pk": pk, "sk": {"S": "msg#2"}})

    result = dynamodb.query(
        TableName=table,
        KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
        ExpressionAttributeValues={":pk": pk, ":prefix": {"S": "msg#"}},
    )
    assert [i["sk"]["S"] for i in result["Items"]] == ["msg#0", "msg#1"]
    assert result["Items"][0]["attempts"] == {"N": "1"}

    by_index = dynamodb.query(
        TableName=table,
        IndexName="gsi1",
        KeyConditionExpression="gsi1pk = :due",
        ExpressionAttributeValues={":due": due},
    )
    assert sorted(i["sk"]["S"] for i in by_index["Items"]) == ["msg#0", "msg#1"]


def test_dynamodb_transactions_of_100_are_all_or_nothing(dynamodb, table):
    # The plugin makes moto copy each table once per transaction instead of once per item.
    def put(i, condition="attribute_not_exists(pk)"):
        item = {"pk": {"S": "batch"}, "sk": {"S": f"e#{i:03}"}}
        return {"Put": {"TableName": table, "Item": item, "ConditionExpression": condition}}

    dynamodb.put_item(TableName=table, Item={"pk": {"S": "batch"}, "sk": {"S": "e#099"}})
    with pytest.raises(dynamodb.exceptions.TransactionCanceledException) as cancelled:
        dynamodb.transact_write_items(TransactItems=[put(i) for i in range(100)])
    codes = [r["Code"] for r in cancelled.value.response["CancellationReasons"]]
    assert codes[99] == "ConditionalCheckFailed" and set(codes[:99]) == {"None"}
    count = lambda: dynamodb.query(
        TableName=table,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": "batch"}},
    )["Count"]
    assert count() == 1, "a cancelled transaction writes nothing"

    dynamodb.transact_write_items(TransactItems=[put(i) for i in range(99)])
    assert count() == 100


def test_dynamodb_ttl(dynamodb, table):
    dynamodb.update_time_to_live(
        TableName=table, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"}
    )
    ttl = dynamodb.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires_at"}


def test_dynamodb_table_from_cloudformation(dynamodb):
    cfn = _client("cloudformation")
    stack, table_name = f"plugins-test-{SUFFIX}", f"plugins-cfn-{SUFFIX}"
    template = {
        "Resources": {
            "Table": {
                "Type": "AWS::DynamoDB::Table",
                "Properties": {
                    "TableName": table_name,
                    "BillingMode": "PAY_PER_REQUEST",
                    "AttributeDefinitions": [
                        {"AttributeName": "pk", "AttributeType": "S"},
                        {"AttributeName": "gsi1pk", "AttributeType": "S"},
                    ],
                    "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                    "GlobalSecondaryIndexes": [
                        {
                            "IndexName": "gsi1",
                            "KeySchema": [{"AttributeName": "gsi1pk", "KeyType": "HASH"}],
                            "Projection": {"ProjectionType": "KEYS_ONLY"},
                        }
                    ],
                    "TimeToLiveSpecification": {"AttributeName": "expires_at", "Enabled": True},
                },
            }
        }
    }
    cfn.create_stack(StackName=stack, TemplateBody=json.dumps(template))
    try:
        cfn.get_waiter("stack_create_complete").wait(
            StackName=stack, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
        )
        described = dynamodb.describe_table(TableName=table_name)["Table"]
        assert [g["IndexName"] for g in described["GlobalSecondaryIndexes"]] == ["gsi1"]
        ttl = dynamodb.describe_time_to_live(TableName=table_name)["TimeToLiveDescription"]
        assert ttl["TimeToLiveStatus"] == "ENABLED"
    finally:
        cfn.delete_stack(StackName=stack)
        cfn.get_waiter("stack_delete_complete").wait(
            StackName=stack, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
        )


# Lambda through the process executor


@pytest.fixture(scope="module")
def echo_function(make_function):
    return make_function("plugins-echo", ECHO_BOOTSTRAP, timeout=2)


def test_lambda_echo(lambda_client, echo_function):
    marker = f"marker-{uuid.uuid4().hex}"
    before_ms = int(time.time() * 1000)
    response, out, _ = _invoke(lambda_client, echo_function, {"marker": marker}, log_tail=True)

    assert "FunctionError" not in response, out
    assert out["event"] == {"marker": marker}
    headers = out["headers"]
    assert headers["Lambda-Runtime-Aws-Request-Id"]
    assert headers["Lambda-Runtime-Invoked-Function-Arn"].endswith(f":function:{echo_function}")
    assert headers["Lambda-Runtime-Trace-Id"].startswith("Root=")
    # Deadline = start of invocation + Timeout (2 s).
    assert before_ms + 1000 < int(headers["Lambda-Runtime-Deadline-Ms"]) < out["received_ms"] + 2500
    env = out["env"]
    if not EXTERNAL:
        assert env["AWS_ENDPOINT_URL"] == "http://127.0.0.1:4566"
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == echo_function
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "128"
    assert env["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
    assert env["AWS_REGION"] == "us-east-1"
    assert env["AWS_ACCESS_KEY_ID"]
    assert env["LAMBDA_TASK_ROOT"] == out["cwd"]
    # The function's output comes back in the invocation's log tail...
    tail = base64.b64decode(response["LogResult"]).decode()
    assert f"echo-handling {marker}" in tail
    assert "REPORT RequestId:" in tail

    # ...and lands in the per-function log file.
    if not EXTERNAL:
        log_file = LOG_DIR / "lambda" / f"{echo_function}.log"
        assert f"echo-handling {marker}" in log_file.read_text()


def test_lambda_crash_then_fresh_process(lambda_client, echo_function):
    _, first, _ = _invoke(lambda_client, echo_function, {"marker": "before-crash"})

    response, out, elapsed = _invoke(lambda_client, echo_function, {"crash": True})
    assert response.get("FunctionError") == "Unhandled"
    assert out["errorType"] == "Runtime.ExitError", out
    assert "exit status 3" in out["errorMessage"]
    assert elapsed < 5

    response, after, _ = _invoke(lambda_client, echo_function, {"marker": "after-crash"})
    assert "FunctionError" not in response, after
    assert after["event"] == {"marker": "after-crash"}
    assert after["pid"] != first["pid"]


def test_lambda_timeout(lambda_client, echo_function):
    response, out, elapsed = _invoke(lambda_client, echo_function, {"sleep": 30})
    assert response.get("FunctionError") == "Unhandled"
    assert out["errorType"] == "Sandbox.Timedout", out
    assert "Task timed out after 2.00 seconds" in out["errorMessage"]
    assert 2 <= elapsed < 6

    response, after, _ = _invoke(lambda_client, echo_function, {"marker": "after-timeout"})
    assert "FunctionError" not in response, after


def test_lambda_init_error_is_reported(lambda_client, make_function):
    name = make_function("plugins-init-error", INIT_ERROR_BOOTSTRAP)
    response, out, elapsed = _invoke(lambda_client, name, {})
    assert response.get("FunctionError") == "Unhandled"
    assert out == {"errorType": "Runtime.ConfigError", "errorMessage": "missing TABLE_NAME"}
    assert elapsed < 10


def test_lambda_exit_during_init_is_reported(lambda_client, make_function):
    name = make_function("plugins-exit-at-init", EXIT_AT_INIT_BOOTSTRAP)
    response, out, elapsed = _invoke(lambda_client, name, {})
    assert response.get("FunctionError") == "Unhandled"
    assert out["errorType"] == "Runtime.ExitError", out
    assert "exit status 7" in out["errorMessage"]
    assert elapsed < 10
    if not EXTERNAL:
        log_file = LOG_DIR / "lambda" / f"{name}.log"
        assert "exit-at-init: giving up" in log_file.read_text()
