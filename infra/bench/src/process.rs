//! Starting a `bootstrap` the way Lambda does (its Runtime API address and function settings
//! in the environment, nothing else inherited) and measuring its init phase and invocations.

use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::process::{Child, Command};

use crate::BenchError;
use crate::emulator::Emulator;
use crate::functions::Function;

const INIT_TIMEOUT: Duration = Duration::from_secs(10);
const INVOKE_TIMEOUT: Duration = Duration::from_secs(30);

/// A running function process and the emulator it talks to.
pub struct Running {
    child: Child,
    emulator: Emulator,
    /// Process start until its first `next` request.
    pub init: Duration,
}

impl Running {
    pub async fn start(function: &Function, memory_mb: u32) -> Result<Self, BenchError> {
        let mut emulator = Emulator::start().await?;
        let mut command = Command::new(&function.bootstrap);
        command
            .env_clear()
            .envs(&function.env)
            .envs(lambda_environment(function.name, &emulator.address, memory_mb))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true);
        let started = Instant::now();
        let child = command.spawn().map_err(|error| {
            BenchError::Function(format!(
                "{} could not start ({}): {error}; run `make build` first",
                function.name,
                function.bootstrap.display()
            ))
        })?;
        let ready = emulator
            .wait_for_init(INIT_TIMEOUT)
            .await
            .map_err(|error| BenchError::Function(format!("{}: {error}", function.name)))?;
        Ok(Self {
            child,
            emulator,
            init: ready.duration_since(started),
        })
    }

    /// Invokes the function once; a function error is a benchmark failure.
    pub async fn invoke(&mut self, event: String) -> Result<(Duration, String), BenchError> {
        let result = self.emulator.invoke(event, INVOKE_TIMEOUT).await?;
        match result.outcome {
            Ok(body) => Ok((result.duration, body)),
            Err(error) => Err(BenchError::Function(format!("invocation failed: {error}"))),
        }
    }

    /// The process's peak resident set so far, in KiB (Linux `VmHWM`).
    pub fn peak_rss_kib(&self) -> Option<u64> {
        let pid = self.child.id()?;
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmHWM:"))
            .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
    }

    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

/// What Lambda puts in a function's environment, plus the AWS settings of this machine
/// (LocalStack's endpoint and test credentials when run by `make bench`).
fn lambda_environment(name: &str, runtime_api: &str, memory_mb: u32) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = [
        ("AWS_LAMBDA_RUNTIME_API", runtime_api.to_owned()),
        ("AWS_LAMBDA_FUNCTION_NAME", format!("bench-{name}")),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".to_owned()),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", memory_mb.to_string()),
        ("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/bench-{name}")),
        ("AWS_LAMBDA_LOG_STREAM_NAME", "bench".to_owned()),
        ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand".to_owned()),
        ("LAMBDA_TASK_ROOT", "/var/task".to_owned()),
        ("TZ", ":UTC".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    for variable in [
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_ENDPOINT_URL",
    ] {
        if let Ok(value) = std::env::var(variable) {
            env.push((variable.to_owned(), value));
        }
    }
    env
}
