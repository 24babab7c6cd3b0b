//! The HTTP client that calls customer endpoints, built once per execution environment:
//! rustls, pooled connections, a hard timeout, no redirects, and a DNS resolver that refuses
//! hosts resolving to internal addresses (so a name cannot smuggle a request into our network).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use notifier_domain::retry::FailureKind;
use notifier_domain::ssrf::forbidden_reason;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::header::{CONTENT_TYPE, HeaderValue, RETRY_AFTER};

/// What a receiver did with one attempt.
#[derive(Debug, Clone, PartialEq)]
pub struct PostOutcome {
    pub status_code: Option<u16>,
    /// `None` when the attempt succeeded (2xx).
    pub error: Option<String>,
    pub kind: FailureKind,
    pub retry_after: Option<Duration>,
}

/// The signed request of one attempt.
pub struct SignedRequest<'a> {
    pub url: &'a str,
    pub webhook_id: &'a str,
    pub timestamp: i64,
    pub signature: &'a str,
    pub body: &'a str,
}

#[derive(Clone)]
pub struct WebhookClient {
    http: reqwest::Client,
}

struct GuardedResolver {
    allow_local: bool,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_local = self.allow_local;
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let addresses: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let forbidden = addresses
                .iter()
                .find_map(|a| forbidden_reason(a.ip()).map(|reason| (a.ip(), reason)));
            if let (false, Some((address, reason))) = (allow_local, forbidden) {
                let message = format!("{host} resolves to {address}, which is {reason}; refusing to connect");
                return Err(message.into());
            }
            Ok(Box::new(addresses.into_iter()) as Addrs)
        })
    }
}

impl WebhookClient {
    /// `tls` is the shared rustls configuration (`notifier_aws::tls`).
    pub fn new(
        timeout: Duration,
        allow_local: bool,
        tls: rustls::ClientConfig,
    ) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .redirect(reqwest::redirect::Policy::none())
            .pool_idle_timeout(Duration::from_secs(60))
            .user_agent(concat!("notifier-webhooks/", env!("CARGO_PKG_VERSION")))
            .dns_resolver(Arc::new(GuardedResolver { allow_local }))
            .build()?;
        Ok(Self { http })
    }

    pub async fn post(&self, request: &SignedRequest<'_>) -> PostOutcome {
        let sent = self
            .http
            .post(request.url)
            .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
            .header("webhook-id", request.webhook_id)
            .header("webhook-timestamp", request.timestamp.to_string())
            .header("webhook-signature", request.signature)
            .body(request.body.to_owned())
            .send()
            .await;
        let response = match sent {
            Ok(response) => response,
            Err(error) => {
                let kind = if error.is_timeout() {
                    FailureKind::Throttled
                } else {
                    FailureKind::Ordinary
                };
                return PostOutcome {
                    status_code: None,
                    error: Some(describe(&error)),
                    kind,
                    retry_after: None,
                };
            }
        };
        let status = response.status();
        if status.is_success() {
            return PostOutcome {
                status_code: Some(status.as_u16()),
                error: None,
                kind: FailureKind::Ordinary,
                retry_after: None,
            };
        }
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let kind = if status.as_u16() == 429 {
            FailureKind::Throttled
        } else {
            FailureKind::Ordinary
        };
        let snippet = body_snippet(response).await;
        let error = if snippet.is_empty() {
            format!("HTTP {}", status.as_u16())
        } else {
            format!("HTTP {}: {snippet}", status.as_u16())
        };
        PostOutcome {
            status_code: Some(status.as_u16()),
            error: Some(error),
            kind,
            retry_after,
        }
    }
}

/// The start of an error response's body: enough to diagnose, never the whole page.
async fn body_snippet(mut response: reqwest::Response) -> String {
    let mut collected = Vec::new();
    while collected.len() < 256 {
        match response.chunk().await {
            Ok(Some(chunk)) => collected.extend_from_slice(&chunk),
            _ => break,
        }
    }
    collected.truncate(256);
    String::from_utf8_lossy(&collected)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The error with its causes ("error sending request: connection refused").
fn describe(error: &reqwest::Error) -> String {
    let mut text = if error.is_timeout() {
        "timed out".to_owned()
    } else {
        "request failed".to_owned()
    };
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
