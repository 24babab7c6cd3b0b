//! A small Lambda Runtime API emulator: just enough of the 2018-06-01 API for a `bootstrap` to
//! start, fetch invocations one at a time and report their results, with the timings the
//! benchmark needs (when `next` was first asked for, how long each invocation took).

use std::sync::Arc;
use std::time::{Duration, Instant};

use notifier_e2e::receiver::{Received as Request, read_request};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Mutex, mpsc, watch};

use crate::BenchError;

const PREFIX: &str = "/2018-06-01/runtime";

/// What a function answered for one invocation.
#[derive(Debug)]
pub struct InvocationResult {
    /// From handing the event over (the reply to `next`) to receiving the result.
    pub duration: Duration,
    pub outcome: Result<String, String>,
}

struct Shared {
    events: Mutex<mpsc::Receiver<String>>,
    /// When the event of the invocation in flight was handed over.
    handed_over: std::sync::Mutex<Option<Instant>>,
    results: mpsc::Sender<InvocationResult>,
    first_next: watch::Sender<Option<Instant>>,
    init_error: watch::Sender<Option<String>>,
}

pub struct Emulator {
    pub address: String,
    events: mpsc::Sender<String>,
    results: mpsc::Receiver<InvocationResult>,
    first_next: watch::Receiver<Option<Instant>>,
    init_error: watch::Receiver<Option<String>>,
}

impl Emulator {
    pub async fn start() -> Result<Self, BenchError> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?.to_string();
        let (events_tx, events_rx) = mpsc::channel(1);
        let (results_tx, results_rx) = mpsc::channel(1);
        let (first_next_tx, first_next_rx) = watch::channel(None);
        let (init_error_tx, init_error_rx) = watch::channel(None);
        let shared = Arc::new(Shared {
            events: Mutex::new(events_rx),
            handed_over: std::sync::Mutex::new(None),
            results: results_tx,
            first_next: first_next_tx,
            init_error: init_error_tx,
        });
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let _ = stream.set_nodelay(true);
                tokio::spawn(serve(stream, shared.clone()));
            }
        });
        Ok(Self {
            address,
            events: events_tx,
            results: results_rx,
            first_next: first_next_rx,
            init_error: init_error_rx,
        })
    }

    /// Waits for the function's first `next` request: the end of its init phase.
    pub async fn wait_for_init(&mut self, timeout: Duration) -> Result<Instant, BenchError> {
        let first_next = &mut self.first_next;
        let init_error = &mut self.init_error;
        let wait = async {
            loop {
                if let Some(at) = *first_next.borrow() {
                    return Ok(at);
                }
                if let Some(error) = init_error.borrow().clone() {
                    return Err(BenchError::Function(format!("init failed: {error}")));
                }
                tokio::select! {
                    _ = first_next.changed() => {}
                    _ = init_error.changed() => {}
                }
            }
        };
        tokio::time::timeout(timeout, wait)
            .await
            .map_err(|_| BenchError::Function("no `next` request: init did not finish".into()))?
    }

    /// Hands one event to the function and waits for its result.
    pub async fn invoke(&mut self, event: String, timeout: Duration) -> Result<InvocationResult, BenchError> {
        self.events
            .send(event)
            .await
            .map_err(|_| BenchError::Function("the emulator stopped".into()))?;
        tokio::time::timeout(timeout, self.results.recv())
            .await
            .map_err(|_| BenchError::Function(format!("no result within {timeout:?}")))?
            .ok_or_else(|| BenchError::Function("the emulator stopped".into()))
    }
}

async fn serve(mut stream: TcpStream, shared: Arc<Shared>) {
    while let Some(request) = read_request(&mut stream).await {
        let reply = route(&request, &shared).await;
        if request.path.ends_with("/invocation/next") {
            *shared.handed_over.lock().expect("emulator state") = Some(Instant::now());
        }
        if stream.write_all(&reply).await.is_err() {
            return;
        }
    }
}

async fn route(request: &Request, shared: &Shared) -> Vec<u8> {
    let path = request.path.strip_prefix(PREFIX).unwrap_or(&request.path);
    match (request.method.as_str(), path) {
        ("GET", "/invocation/next") => {
            shared.first_next.send_if_modified(|at| {
                let first = at.is_none();
                at.get_or_insert_with(Instant::now);
                first
            });
            let Some(event) = shared.events.lock().await.recv().await else {
                return response(500, "", &[], "emulator stopped");
            };
            let request_id = crate::unique_suffix();
            let deadline = (std::time::SystemTime::now() + Duration::from_secs(30))
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default()
                .as_millis()
                .to_string();
            let headers = [
                ("lambda-runtime-aws-request-id", request_id.as_str()),
                ("lambda-runtime-deadline-ms", deadline.as_str()),
                (
                    "lambda-runtime-invoked-function-arn",
                    "arn:aws:lambda:us-east-1:000000000000:function:bench",
                ),
                (
                    "lambda-runtime-trace-id",
                    "Root=1-00000000-000000000000000000000000",
                ),
            ];
            response(200, "application/json", &headers, &event)
        }
        ("POST", "/init/error") => {
            let _ = shared.init_error.send(Some(request.body.clone()));
            response(202, "", &[], "")
        }
        ("POST", path) if path.ends_with("/response") || path.ends_with("/error") => {
            let duration = shared
                .handed_over
                .lock()
                .expect("emulator state")
                .take()
                .map(|at| at.elapsed())
                .unwrap_or_default();
            let outcome = if path.ends_with("/response") {
                Ok(request.body.clone())
            } else {
                Err(request.body.clone())
            };
            let _ = shared.results.send(InvocationResult { duration, outcome }).await;
            response(202, "", &[], "")
        }
        _ => response(404, "", &[], "unknown runtime API path"),
    }
}

fn response(status: u16, content_type: &str, headers: &[(&str, &str)], body: &str) -> Vec<u8> {
    let mut head = format!("HTTP/1.1 {status} X\r\ncontent-length: {}\r\n", body.len());
    if !content_type.is_empty() {
        head.push_str(&format!("content-type: {content_type}\r\n"));
    }
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(body.as_bytes());
    bytes
}
