//! Figures in, one report out: statistics, package sizes, criterion's estimates, and the
//! table `make bench` prints.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::Path;
use std::time::Duration;

use crate::BenchError;
use crate::billed::BilledCount;
use crate::runs::InvocationStats;

/// The value below which `percent` % of the sample falls (nearest rank).
pub fn percentile(sample: &[Duration], percent: usize) -> Duration {
    if sample.is_empty() {
        return Duration::ZERO;
    }
    let mut sorted = sample.to_vec();
    sorted.sort();
    let rank = (percent * sorted.len()).div_ceil(100).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// The `bootstrap` and the deflated zip SAM uploads for it (SAM zips with Python's zipfile).
pub fn package_sizes(bootstrap: &Path) -> Result<(u64, u64), BenchError> {
    let raw = std::fs::metadata(bootstrap)?.len();
    let zip = bootstrap.with_extension("bench.zip");
    let status = std::process::Command::new("python3")
        .args([
            "-c",
            "import sys, zipfile\n\
             with zipfile.ZipFile(sys.argv[2], 'w', zipfile.ZIP_DEFLATED) as z: z.write(sys.argv[1], 'bootstrap')",
        ])
        .arg(bootstrap)
        .arg(&zip)
        .status()?;
    if !status.success() {
        return Err(BenchError::Setup(format!(
            "could not zip {}",
            bootstrap.display()
        )));
    }
    let zipped = std::fs::metadata(&zip)?.len();
    std::fs::remove_file(&zip)?;
    Ok((raw, zipped))
}

/// The criterion benchmarks `make bench` runs, by id, with what each stands for.
pub const CPU_BENCHES: [(&str, &str); 6] = [
    ("router_fan_out/1", "router: match + fan out, 1 subscription"),
    ("router_fan_out/10", "router: match + fan out, 10 subscriptions"),
    ("router_fan_out/100", "router: match + fan out, 100 subscriptions"),
    (
        "webhook_sign_serialise_2kb",
        "webhook: serialise + sign a 2 KB payload",
    ),
    (
        "ingest_validate_hash",
        "ingest: parse + validate + fingerprint + id",
    ),
    (
        "ingest_validate_hash_cloudevents",
        "ingest: the same for a CloudEvent",
    ),
];

/// Criterion's mean estimate for `id`, from `target/criterion`.
pub fn criterion_mean(repo: &Path, id: &str) -> Option<Duration> {
    let path = repo.join("target/criterion").join(id).join("new/estimates.json");
    let estimates: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()?;
    let nanos = estimates["mean"]["point_estimate"].as_f64()?;
    Some(Duration::from_nanos(nanos as u64))
}

pub struct FunctionRow {
    pub name: &'static str,
    pub inits: Vec<Duration>,
    pub invocations: Option<InvocationStats>,
    pub sizes: (u64, u64),
}

fn ms(duration: Duration) -> String {
    format!("{:.2}", duration.as_secs_f64() * 1e3)
}

fn mb(bytes: u64) -> String {
    format!("{:.2}", bytes as f64 / 1e6)
}

pub fn render(
    rows: &[FunctionRow],
    events: usize,
    cold_starts: usize,
    cpu: &[(&str, Option<Duration>)],
    billed: &[BilledCount],
) -> String {
    let mut out = String::new();
    let hello_init = rows
        .iter()
        .find(|row| row.name == "hello-world")
        .map(|row| percentile(&row.inits, 50))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "\nnotifier benchmark: init over {cold_starts} cold starts; invocations over {events} events per function\n"
    );
    let _ = writeln!(
        out,
        "| function | init p50 ms | init p90 ms | init vs hello | 1st invoke ms | warm p50 ms | warm p90 ms | peak RSS MB | bootstrap MB | zip MB |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for row in rows {
        let init = percentile(&row.inits, 50);
        let versus = if row.name == "hello-world" {
            "1.00x".to_owned()
        } else {
            let extra = init.as_secs_f64() - hello_init.as_secs_f64();
            format!(
                "{:.2}x ({:+.2} ms)",
                init.as_secs_f64() / hello_init.as_secs_f64().max(1e-9),
                extra * 1e3
            )
        };
        let (first, p50, p90, rss) = match &row.invocations {
            Some(stats) => (
                ms(stats.first),
                ms(percentile(&stats.warm, 50)),
                ms(percentile(&stats.warm, 90)),
                stats
                    .peak_rss_kib
                    .map_or("-".to_owned(), |kib| format!("{:.1}", kib as f64 * 1024.0 / 1e6)),
            ),
            None => ("-".into(), "-".into(), "-".into(), "-".into()),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            row.name,
            ms(init),
            ms(percentile(&row.inits, 90)),
            versus,
            first,
            p50,
            p90,
            rss,
            mb(row.sizes.0),
            mb(row.sizes.1)
        );
    }

    let _ = writeln!(out, "\n| CPU per event (criterion, mean) | µs |");
    let _ = writeln!(out, "|---|---:|");
    for (label, mean) in cpu {
        let value = mean.map_or("not run".to_owned(), |d| format!("{:.2}", d.as_secs_f64() * 1e6));
        let _ = writeln!(out, "| {label} | {value} |");
    }

    let _ = writeln!(
        out,
        "\n| billed AWS requests per delivered notification (LocalStack log) | ingest | events | per notification | requests by operation | invocations by function | log bytes per notification |"
    );
    let _ = writeln!(out, "|---|---|---:|---:|---|---|---:|");
    for count in billed {
        let by_operation: Vec<String> = count
            .requests
            .iter()
            .map(|(operation, n)| format!("{operation} {n}"))
            .collect();
        let invocations: Vec<String> = count
            .functions
            .invocations
            .iter()
            .map(|(function, n)| format!("{} {n}", function.trim_end_matches("Function")))
            .collect();
        let _ = writeln!(
            out,
            "| {} | {} | {} | {:.2} | {} | {} | {:.0} |",
            count.channel,
            count.ingest,
            count.events,
            count.per_notification(),
            by_operation.join(", "),
            invocations.join(", "),
            count.functions.log_bytes as f64 / count.events as f64
        );
    }
    out
}

pub fn init_rows(inits: &BTreeMap<&'static str, Vec<Duration>>, name: &'static str) -> Vec<Duration> {
    inits.get(name).cloned().unwrap_or_default()
}
