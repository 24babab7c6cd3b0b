//! Billed AWS requests per delivered notification, on the deployed pipeline (API Gateway,
//! event source mappings, every function) and counted from LocalStack's request log: publish
//! a batch of events to a tenant subscribed on one channel, wait until every one of them has
//! reached its destination and the log has gone quiet, and count the DynamoDB, SQS, SES and
//! SNS requests the log gained meanwhile.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use futures_util::StreamExt;
use futures_util::stream;
use notifier_e2e::receiver::Receiver;
use notifier_e2e::{Stack, TestTenant};
use reqwest::Method;
use serde_json::{Value, json};

use crate::BenchError;
use crate::workload::{order_paid, push_endpoint, subscribe, subscriptions};

const BILLED_SERVICES: [&str; 4] = ["dynamodb", "sqs", "ses", "sns"];
const PUBLISH_CONCURRENCY: usize = 10;
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(180);

#[derive(Debug, Clone)]
pub struct BilledCount {
    pub channel: &'static str,
    pub ingest: &'static str,
    pub events: usize,
    /// Requests by `service.Operation`.
    pub requests: BTreeMap<String, usize>,
    /// What the functions did meanwhile, from their logs.
    pub functions: FunctionActivity,
}

/// Invocations by function (the executor's `START` lines) and the bytes of log lines the
/// functions themselves wrote.
#[derive(Debug, Clone, Default)]
pub struct FunctionActivity {
    pub invocations: BTreeMap<String, usize>,
    pub log_bytes: usize,
}

impl BilledCount {
    pub fn per_notification(&self) -> f64 {
        self.requests.values().sum::<usize>() as f64 / self.events as f64
    }
}

/// Where a channel's sent notifications can be counted.
enum Destination {
    Webhook(Receiver),
    Email(String),
    Sms(String),
    Push(String),
}

pub async fn count_channel(
    stack: &Stack,
    log: &Path,
    channel: &'static str,
    events: usize,
    batch: bool,
    run_id: &str,
) -> Result<BilledCount, BenchError> {
    let tenant = stack
        .create_tenant(&format!("bench billed {channel} {run_id}"))
        .await;
    let receiver = Receiver::start(&[], 200).await;
    let endpoint = push_endpoint(stack, &format!("bench-billed-{run_id}-{channel}")).await?;
    let [webhook, email, sms, push] = subscriptions(&receiver.url);
    let (subscription, destination) = match channel {
        "webhook" => (webhook, Destination::Webhook(receiver)),
        "email" => (email, Destination::Email(format!("billed-{run_id}@example.com"))),
        "sms" => (
            sms,
            Destination::Sms(format!("+1555{}", &run_id[run_id.len() - 7..])),
        ),
        _ => (push, Destination::Push(endpoint.clone())),
    };
    subscribe(stack, &tenant, &subscription).await?;
    let bodies: Vec<Value> = (0..events)
        .map(|sequence| {
            let mut body = order_paid(sequence, &endpoint);
            match &destination {
                Destination::Email(address) => body["data"]["customer"]["email"] = json!(address),
                Destination::Sms(phone) => body["data"]["customer"]["phone"] = json!(phone),
                _ => {}
            }
            body
        })
        .collect();

    let offset = std::fs::metadata(log)?.len();
    let lambda_logs = log.parent().unwrap_or(Path::new(".")).join("lambda");
    let log_offsets = log_sizes(&lambda_logs, &stack.name)?;
    if batch {
        publish_batches(stack, &tenant, &bodies).await?;
    } else {
        publish_each(stack, &tenant, &bodies).await?;
    }
    wait_until_delivered(stack, &destination, events).await?;
    wait_for_quiet_log(log).await?;
    let requests = count_requests(log, offset)?;
    let functions = function_activity(&lambda_logs, &stack.name, &log_offsets)?;
    Ok(BilledCount {
        channel,
        ingest: if batch { "batch" } else { "single" },
        events,
        requests,
        functions,
    })
}

async fn publish_each(stack: &Stack, tenant: &TestTenant, bodies: &[Value]) -> Result<(), BenchError> {
    let replies: Vec<_> = stream::iter(bodies)
        .map(|body| stack.publish(tenant, body, None))
        .buffer_unordered(PUBLISH_CONCURRENCY)
        .collect()
        .await;
    match replies.iter().find(|reply| reply.status != 202) {
        Some(refused) => Err(BenchError::Setup(format!("publish refused: {}", refused.body))),
        None => Ok(()),
    }
}

async fn publish_batches(stack: &Stack, tenant: &TestTenant, bodies: &[Value]) -> Result<(), BenchError> {
    for chunk in bodies.chunks(100) {
        let reply = notifier_e2e::call(
            stack
                .authed(tenant, Method::POST, "/v1/events:batch")
                .json(&json!({ "events": chunk })),
        )
        .await;
        let accepted = reply.body["results"]
            .as_array()
            .map_or(0, |results| results.iter().filter(|r| r["status"] == 202).count());
        if reply.status != 200 || accepted != chunk.len() {
            return Err(BenchError::Setup(format!(
                "batch publish refused ({}): {}",
                reply.status, reply.body
            )));
        }
    }
    Ok(())
}

async fn wait_until_delivered(
    stack: &Stack,
    destination: &Destination,
    events: usize,
) -> Result<(), BenchError> {
    let deadline = tokio::time::Instant::now() + DELIVERY_TIMEOUT;
    loop {
        let delivered = delivered_count(stack, destination).await?;
        if delivered >= events {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(BenchError::Setup(format!(
                "only {delivered} of {events} notifications arrived within {DELIVERY_TIMEOUT:?}"
            )));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

async fn delivered_count(stack: &Stack, destination: &Destination) -> Result<usize, BenchError> {
    let count = |value: &Value| value.as_array().map_or(0, Vec::len);
    Ok(match destination {
        Destination::Webhook(receiver) => receiver.received().len(),
        Destination::Email(address) => {
            let sent = localstack(stack, "/_aws/ses").await?;
            sent["messages"].as_array().map_or(0, |messages| {
                messages
                    .iter()
                    .filter(|m| m["Destination"]["ToAddresses"] == json!([address]))
                    .count()
            })
        }
        Destination::Sms(phone) => {
            let path = format!("/_aws/sns/sms-messages?phoneNumber={}", phone.replace('+', "%2B"));
            count(&localstack(stack, &path).await?["sms_messages"][phone])
        }
        Destination::Push(arn) => {
            let path = format!("/_aws/sns/platform-endpoint-messages?endpointArn={arn}");
            count(&localstack(stack, &path).await?["platform_endpoint_messages"][arn])
        }
    })
}

async fn localstack(stack: &Stack, path: &str) -> Result<Value, BenchError> {
    let endpoint = std::env::var("AWS_ENDPOINT_URL")
        .map_err(|_| BenchError::Setup("AWS_ENDPOINT_URL must point at LocalStack".into()))?;
    let response = stack
        .http
        .get(format!("{}{path}", endpoint.trim_end_matches('/')))
        .send()
        .await?;
    Ok(response.json().await?)
}

/// Waits until the sender has recorded the last outcome: no new log line for two seconds.
async fn wait_for_quiet_log(log: &Path) -> Result<(), BenchError> {
    let mut size = std::fs::metadata(log)?.len();
    for _ in 0..30 {
        tokio::time::sleep(Duration::from_secs(2)).await;
        let now = std::fs::metadata(log)?.len();
        if now == size {
            return Ok(());
        }
        size = now;
    }
    Ok(())
}

/// The size of each function log of `stack` (LocalStack's executor keeps one file per
/// execution environment, named `<stack>-<LogicalId>-<id>.log`).
fn log_sizes(dir: &Path, stack: &str) -> Result<BTreeMap<std::path::PathBuf, u64>, BenchError> {
    let mut sizes = BTreeMap::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().to_string();
        if let Some(rest) = name.strip_prefix(&format!("{stack}-"))
            && rest.chars().next().is_some_and(char::is_uppercase)
        {
            sizes.insert(entry.path(), entry.metadata()?.len());
        }
    }
    Ok(sizes)
}

fn function_activity(
    dir: &Path,
    stack: &str,
    before: &BTreeMap<std::path::PathBuf, u64>,
) -> Result<FunctionActivity, BenchError> {
    let mut activity = FunctionActivity::default();
    for (path, size) in log_sizes(dir, stack)? {
        let start = before.get(&path).copied().unwrap_or(0).min(size) as usize;
        let text = std::fs::read(&path)?;
        let tail = String::from_utf8_lossy(&text[start..]);
        let name = path.file_name().unwrap_or_default().to_string_lossy().to_string();
        let function = name
            .trim_start_matches(&format!("{stack}-"))
            .split('-')
            .next()
            .unwrap_or_default()
            .to_owned();
        for line in tail.lines() {
            if line.contains(" START RequestId: ") {
                *activity.invocations.entry(function.clone()).or_insert(0) += 1;
            } else if line.starts_with('{') {
                activity.log_bytes += line.len() + 1;
            }
        }
    }
    Ok(activity)
}

/// `AWS <service>.<Operation> => <status>` lines after `offset`, by operation.
fn count_requests(log: &Path, offset: u64) -> Result<BTreeMap<String, usize>, BenchError> {
    let text = std::fs::read(log)?;
    let tail = String::from_utf8_lossy(&text[offset.min(text.len() as u64) as usize..]).to_string();
    let mut counts = BTreeMap::new();
    for line in tail.lines() {
        let Some((_, request)) = line.split_once("localstack.request.aws") else {
            continue;
        };
        let Some(operation) = request
            .split_once("AWS ")
            .and_then(|(_, rest)| rest.split_whitespace().next())
        else {
            continue;
        };
        let service = operation.split('.').next().unwrap_or_default();
        if BILLED_SERVICES.contains(&service) {
            *counts.entry(operation.to_owned()).or_insert(0) += 1;
        }
    }
    Ok(counts)
}
