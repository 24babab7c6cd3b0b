//! The cost model: USD per million delivered notifications, per channel, from the figures
//! `make bench` measures (requests by operation, invocations by function, log bytes, warm
//! durations) and AWS list prices; beside it, the same arithmetic for a naive design.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::time::Duration;

use crate::billed::BilledCount;

/// us-east-1 list prices, USD, as published on the AWS pricing pages (2025, the latest this
/// project has checked; re-check before quoting).
pub const PRICES_AS_OF: &str = "AWS us-east-1 list prices as published in 2025";
const API_GATEWAY_REST_PER_REQUEST: f64 = 3.50e-6;
const LAMBDA_PER_REQUEST: f64 = 0.20e-6;
const LAMBDA_PER_GB_SECOND_X86: f64 = 0.000_016_666_7;
const SQS_PER_REQUEST: f64 = 0.40e-6;
const DYNAMODB_PER_WRITE_UNIT: f64 = 0.625e-6;
const DYNAMODB_PER_READ_UNIT: f64 = 0.125e-6;
const LOGS_PER_GB: f64 = 0.50;
const SES_PER_EMAIL: f64 = 0.10e-3;
const SNS_PUSH_PER_PUBLISH: f64 = 0.50e-6;
/// US SMS base price per message part; carrier fees come on top and vary.
const SNS_SMS_US_PER_MESSAGE: f64 = 0.005_81;

/// Lines Lambda itself writes per invocation (START, END, REPORT), which CloudWatch bills.
const PLATFORM_LOG_BYTES_PER_INVOCATION: f64 = 250.0;
const MEMORY_GB: f64 = 0.125;

/// USD per notification, by cost item.
#[derive(Debug, Default, Clone)]
pub struct Cost {
    pub api_gateway: f64,
    pub lambda: f64,
    pub sqs: f64,
    pub dynamodb: f64,
    pub logs: f64,
    pub provider: f64,
}

impl Cost {
    fn infrastructure(&self) -> f64 {
        self.api_gateway + self.lambda + self.sqs + self.dynamodb + self.logs
    }
}

fn provider_price(channel: &str) -> f64 {
    match channel {
        "email" => SES_PER_EMAIL,
        "sms" => SNS_SMS_US_PER_MESSAGE,
        "push" => SNS_PUSH_PER_PUBLISH,
        _ => 0.0,
    }
}

/// What this design costs per notification, from one billed-request count.
/// `durations`: warm p50 per invocation by SAM logical id; `event_item_kb`: size of a stored
/// event (its write units).
pub fn measured(count: &BilledCount, durations: &BTreeMap<String, Duration>, event_item_kb: f64) -> Cost {
    let events = count.events as f64;
    let publish_calls = if count.ingest == "batch" {
        (events / 100.0).ceil()
    } else {
        events
    };
    let invocations: f64 = count.functions.invocations.values().sum::<usize>() as f64;
    let queue_triggered: f64 = count
        .functions
        .invocations
        .iter()
        .filter(|(function, _)| function.as_str() != "IngestFunction")
        .map(|(_, n)| *n as f64)
        .sum();
    let gb_seconds: f64 = count
        .functions
        .invocations
        .iter()
        .map(|(function, n)| {
            *n as f64 * durations.get(function).map_or(0.0, Duration::as_secs_f64) * MEMORY_GB
        })
        .sum();
    let operation = |name: &str| count.requests.get(name).copied().unwrap_or(0) as f64;
    let sqs_requests: f64 = count
        .requests
        .iter()
        .filter(|(name, _)| name.starts_with("sqs."))
        .map(|(_, n)| *n as f64)
        .sum::<f64>()
        // Each SQS-triggered invocation: the event source mapping's ReceiveMessage and
        // DeleteMessageBatch (not in LocalStack's request log).
        + 2.0 * queue_triggered;
    let event_units = event_item_kb.ceil();
    let transaction_items = if operation("dynamodb.TransactWriteItems") > 0.0 {
        events
    } else {
        0.0
    };
    let write_units = operation("dynamodb.PutItem") * event_units
        + 2.0 * event_units * transaction_items
        + operation("dynamodb.UpdateItem")
        + operation("dynamodb.DeleteItem");
    let read_units = operation("dynamodb.GetItem") + operation("dynamodb.Query");
    let log_bytes = count.functions.log_bytes as f64 + invocations * PLATFORM_LOG_BYTES_PER_INVOCATION;
    Cost {
        api_gateway: publish_calls * API_GATEWAY_REST_PER_REQUEST / events,
        lambda: (invocations * LAMBDA_PER_REQUEST + gb_seconds * LAMBDA_PER_GB_SECOND_X86) / events,
        sqs: sqs_requests * SQS_PER_REQUEST / events,
        dynamodb: (write_units * DYNAMODB_PER_WRITE_UNIT + read_units * DYNAMODB_PER_READ_UNIT) / events,
        logs: log_bytes / 1e9 * LOGS_PER_GB / events,
        provider: provider_price(count.channel),
    }
}

/// The straightforward version of the same pipeline, per notification (one subscriber):
/// SDK clients built per invocation (a TLS handshake per call), 1024 MB functions, no caches,
/// idempotency as a read before two writes, a pending record per delivery, one `SendMessage`
/// per message, event source mappings with batch size 1, and a log line per step.
pub fn naive(channel: &str) -> Cost {
    let invocations = 3.0;
    let gb_seconds = 1.0 * (0.120 + 0.150 + 0.150);
    // ingest: SendMessage; router: SendMessage; two queue hops: ReceiveMessage + DeleteMessage each.
    let sqs_requests = 2.0 + 2.0 * 2.0;
    // Reads: API key, idempotency key, subscriptions, delivery, subscription.
    // Writes: idempotency key, event (2 units), pending delivery, attempt log, delivery update.
    let read_units = 5.0;
    let write_units = 6.0;
    let log_bytes = 2_000.0 + invocations * PLATFORM_LOG_BYTES_PER_INVOCATION;
    Cost {
        api_gateway: API_GATEWAY_REST_PER_REQUEST,
        lambda: invocations * LAMBDA_PER_REQUEST + gb_seconds * LAMBDA_PER_GB_SECOND_X86,
        sqs: sqs_requests * SQS_PER_REQUEST,
        dynamodb: write_units * DYNAMODB_PER_WRITE_UNIT + read_units * DYNAMODB_PER_READ_UNIT,
        logs: log_bytes / 1e9 * LOGS_PER_GB,
        provider: provider_price(channel),
    }
}

/// The cost table: USD per million notifications.
pub fn render(rows: &[(String, Cost)]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\n| USD per million notifications ({PRICES_AS_OF}) | API Gateway | Lambda | SQS | DynamoDB | logs | AWS total | provider | total |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (label, cost) in rows {
        let million = |usd: f64| format!("{:.2}", usd * 1e6);
        let _ = writeln!(
            out,
            "| {label} | {} | {} | {} | {} | {} | {} | {} | {} |",
            million(cost.api_gateway),
            million(cost.lambda),
            million(cost.sqs),
            million(cost.dynamodb),
            million(cost.logs),
            million(cost.infrastructure()),
            million(cost.provider),
            million(cost.infrastructure() + cost.provider)
        );
    }
    out
}
