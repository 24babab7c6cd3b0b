//! `make bench`: measures every function side by side and prints one report. Needs the
//! release build (`make build`), the hello-world yardstick (`cargo lambda build`), a running
//! LocalStack with the benchmark stack deployed, and criterion's results; `make bench` (see
//! `infra/scripts/bench.sh`) arranges all of that.

mod billed;
mod cost;
mod emulator;
mod functions;
mod process;
mod report;
mod runs;
mod workload;

use std::path::PathBuf;

use clap::Parser;
use notifier_e2e::Stack;
use thiserror::Error;

use crate::report::{CPU_BENCHES, FunctionRow, criterion_mean, init_rows, package_sizes, render};
use crate::workload::{Workload, push_endpoint};

#[derive(Debug, Error)]
pub enum BenchError {
    #[error("setup: {0}")]
    Setup(String),
    #[error("function: {0}")]
    Function(String),
    #[error("AWS: {0}")]
    Aws(String),
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Http(#[from] reqwest::Error),
}

impl BenchError {
    pub fn aws(error: impl std::error::Error) -> Self {
        let mut text = error.to_string();
        let mut source = error.source();
        while let Some(cause) = source {
            text.push_str(&format!(": {cause}"));
            source = cause.source();
        }
        Self::Aws(text)
    }
}

/// Measures the notifier's functions (see README "Performance and cost").
#[derive(Debug, Parser)]
struct Args {
    /// Repository root (where `.aws-sam/build` and `target/` are).
    #[arg(long, default_value = ".")]
    repo: PathBuf,
    /// Cold starts per function.
    #[arg(long, default_value_t = 20)]
    cold_starts: usize,
    /// Events fed to each function's warm process.
    #[arg(long, default_value_t = 1000)]
    events: usize,
    /// Events published per channel for the billed-request count.
    #[arg(long, default_value_t = 100)]
    billed_events: usize,
    /// LocalStack's log, whose request lines are counted.
    #[arg(long, default_value = ".local/logs/localstack.log")]
    localstack_log: PathBuf,
    /// The memory size the functions are told they have (MB).
    #[arg(long, default_value_t = 128)]
    memory: u32,
    /// Leave out the batch-ingest count (for a stack without `POST /v1/events:batch`).
    #[arg(long)]
    skip_batch_ingest: bool,
    /// Write the report here as well as to stdout.
    #[arg(long)]
    report: Option<PathBuf>,
}

/// The SAM logical id of a function (how LocalStack's executor names its logs).
fn logical_id(name: &str) -> String {
    let mut id: String = name
        .split('-')
        .map(|word| {
            let mut chars = word.chars();
            chars
                .next()
                .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect();
    id.push_str("Function");
    id
}

/// A short string no earlier run used (seven digits, so it can end a phone number).
pub fn unique_suffix() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    format!("{:07}", now.as_micros() % 10_000_000)
}

#[tokio::main]
async fn main() -> Result<(), BenchError> {
    let args = Args::parse();
    let stack = Stack::connect().await;
    let run_id = unique_suffix();
    eprintln!(
        "preparing tenant, subscriptions and sink queues on stack {}",
        stack.name
    );
    let workload = Workload::prepare(&stack, &run_id).await?;
    let endpoint = push_endpoint(&stack, &format!("bench-{run_id}")).await?;
    let mut everything = vec![functions::hello(&args.repo)];
    everything.extend(functions::all(&args.repo, &stack, &workload.sinks));

    eprintln!("cold starts: {} per function", args.cold_starts);
    let inits = runs::cold_starts(&everything, args.cold_starts, args.memory).await?;
    eprintln!("invocations: {} events through the pipeline", args.events);
    let measured = runs::pipeline(
        &everything[1..],
        &workload,
        args.events,
        &endpoint,
        &run_id,
        args.memory,
    )
    .await;
    workload.delete_sinks().await;
    let mut invocations = measured?;

    let mut rows = Vec::new();
    for function in &everything {
        rows.push(FunctionRow {
            name: function.name,
            inits: init_rows(&inits, function.name),
            invocations: invocations.remove(function.name),
            sizes: package_sizes(&function.bootstrap)?,
        });
    }

    let mut billed = Vec::new();
    for (channel, batch) in [
        ("webhook", false),
        ("webhook", true),
        ("email", false),
        ("sms", false),
        ("push", false),
    ] {
        if batch && args.skip_batch_ingest {
            continue;
        }
        eprintln!(
            "billed requests: {} {channel} events ({})",
            args.billed_events,
            if batch { "batch" } else { "single" }
        );
        billed.push(
            billed::count_channel(
                &stack,
                &args.localstack_log,
                channel,
                args.billed_events,
                batch,
                &run_id,
            )
            .await?,
        );
    }

    let durations: std::collections::BTreeMap<String, std::time::Duration> = rows
        .iter()
        .filter_map(|row| {
            let stats = row.invocations.as_ref()?;
            Some((logical_id(row.name), report::percentile(&stats.warm, 50)))
        })
        .collect();
    // A stored event: the published body plus its id, timestamps and fingerprint.
    let event_item_kb = (workload::order_paid(0, &endpoint).to_string().len() + 300) as f64 / 1024.0;
    let mut costs: Vec<(String, cost::Cost)> = billed
        .iter()
        .map(|count| {
            (
                format!("{}, {} ingest (measured)", count.channel, count.ingest),
                cost::measured(count, &durations, event_item_kb),
            )
        })
        .collect();
    for channel in ["webhook", "email"] {
        costs.push((
            format!("{channel}, naive design (modelled)"),
            cost::naive(channel),
        ));
    }

    let cpu: Vec<_> = CPU_BENCHES
        .iter()
        .map(|(id, label)| (*label, criterion_mean(&args.repo, id)))
        .collect();
    let mut table = render(&rows, args.events, args.cold_starts, &cpu, &billed);
    table.push_str(&cost::render(&costs));
    println!("{table}");
    if let Some(path) = args.report {
        std::fs::write(path, &table)?;
    }
    Ok(())
}
