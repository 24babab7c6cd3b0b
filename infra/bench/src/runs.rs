//! The two local measurements: cold starts (init time over many fresh processes, interleaved
//! so that machine noise falls on every function alike) and invocation runs (one process per
//! function fed the pipeline's real traffic: first invocation, warm ones, peak memory).

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;

use crate::BenchError;
use crate::functions::Function;
use crate::process::Running;
use crate::workload::{Workload, order_paid, sqs_event};

#[derive(Debug, Default, Clone)]
pub struct InvocationStats {
    pub first: Duration,
    pub warm: Vec<Duration>,
    pub peak_rss_kib: Option<u64>,
}

/// Init times by function name, `rounds` cold starts each, interleaved.
pub async fn cold_starts(
    functions: &[Function],
    rounds: usize,
    memory_mb: u32,
) -> Result<BTreeMap<&'static str, Vec<Duration>>, BenchError> {
    let mut inits: BTreeMap<&'static str, Vec<Duration>> = BTreeMap::new();
    for _ in 0..rounds {
        for function in functions {
            let running = Running::start(function, memory_mb).await?;
            inits.entry(function.name).or_default().push(running.init);
            running.stop().await;
        }
    }
    Ok(inits)
}

/// Feeds `events` to one fresh process of `function`, checking every answer with `accept`.
async fn invocation_run(
    function: &Function,
    events: Vec<String>,
    memory_mb: u32,
    accept: impl Fn(&str) -> Result<(), String>,
) -> Result<InvocationStats, BenchError> {
    let mut running = Running::start(function, memory_mb).await?;
    let mut stats = InvocationStats::default();
    for (index, event) in events.into_iter().enumerate() {
        let (duration, body) = running.invoke(event).await?;
        accept(&body).map_err(|reason| {
            BenchError::Function(format!("{} invocation {index}: {reason}: {body}", function.name))
        })?;
        if index == 0 {
            stats.first = duration;
        } else {
            stats.warm.push(duration);
        }
    }
    stats.peak_rss_kib = running.peak_rss_kib();
    running.stop().await;
    Ok(stats)
}

fn accepted_by_api(body: &str) -> Result<(), String> {
    let response: Value = serde_json::from_str(body).map_err(|e| e.to_string())?;
    match response["statusCode"].as_u64() {
        Some(202) => Ok(()),
        other => Err(format!("status {other:?}, expected 202")),
    }
}

fn whole_batch_done(body: &str) -> Result<(), String> {
    let response: Value = serde_json::from_str(body).map_err(|e| e.to_string())?;
    match response["batchItemFailures"].as_array() {
        Some(failures) if failures.is_empty() => Ok(()),
        _ => Err("records failed".into()),
    }
}

/// Runs the whole pipeline through the functions, in order: ingest publishes `events` events
/// into the routing sink, the router fans each out to the four channel sinks, and each sender
/// delivers what the router queued for it.
pub async fn pipeline(
    functions: &[Function],
    workload: &Workload,
    events: usize,
    push_endpoint: &str,
    run_id: &str,
    memory_mb: u32,
) -> Result<BTreeMap<&'static str, InvocationStats>, BenchError> {
    let mut stats = BTreeMap::new();
    let requests: Vec<String> = (0..events)
        .map(|n| workload.publish_request(&order_paid(n, push_endpoint), &format!("bench-{run_id}-{n}")))
        .collect();
    for function in functions {
        let sink = match function.name {
            "ingest" => None,
            "router" => Some(&workload.sinks.routing),
            "webhook-sender" => Some(&workload.sinks.webhook),
            "email-sender" => Some(&workload.sinks.email),
            "sms-sender" => Some(&workload.sinks.sms),
            _ => Some(&workload.sinks.push),
        };
        let measured = match sink {
            None => invocation_run(function, requests.clone(), memory_mb, accepted_by_api).await?,
            Some(queue) => {
                let records = workload.drain(queue, events).await?;
                let events = records.into_iter().map(sqs_event).collect();
                invocation_run(function, events, memory_mb, whole_batch_done).await?
            }
        };
        eprintln!("  {:<15} {} invocations", function.name, events);
        stats.insert(function.name, measured);
    }
    let delivered = workload.receiver.received().len();
    if delivered != events {
        return Err(BenchError::Function(format!(
            "the webhook receiver got {delivered} of {events} webhooks"
        )));
    }
    Ok(stats)
}
