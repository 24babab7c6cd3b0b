//! The warm-ups against local TLS servers that speak just enough of the AWS JSON protocols:
//! each counts the connections it accepted and records the operations it was sent.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, SdkConfig};
use aws_sdk_dynamodb::config::Credentials;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;

use super::*;

#[derive(Clone, Copy, PartialEq)]
enum Answer {
    Success,
    AccessDenied,
    Never,
}

struct Server {
    url: String,
    certificate_pem: String,
    connections: Arc<AtomicUsize>,
    operations: Arc<Mutex<Vec<String>>>,
}

impl Server {
    async fn start_tls(answer: Answer) -> Self {
        let rcgen::CertifiedKey { cert, signing_key } =
            rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
        let key = rustls::pki_types::PrivatePkcs8KeyDer::from(signing_key.serialize_der());
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![cert.der().clone()], key.into())
            .unwrap();
        let acceptor = TlsAcceptor::from(Arc::new(config));
        Self::start(Some(acceptor), answer, cert.pem()).await
    }

    async fn start_plain() -> Self {
        Self::start(None, Answer::Success, String::new()).await
    }

    async fn start(acceptor: Option<TlsAcceptor>, answer: Answer, certificate_pem: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let scheme = if acceptor.is_some() { "https" } else { "http" };
        let connections = Arc::new(AtomicUsize::new(0));
        let operations = Arc::new(Mutex::new(Vec::new()));
        let (counted, recorded) = (connections.clone(), operations.clone());
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                counted.fetch_add(1, Ordering::SeqCst);
                let (acceptor, recorded) = (acceptor.clone(), recorded.clone());
                tokio::spawn(async move {
                    match acceptor {
                        Some(acceptor) => {
                            if let Ok(stream) = acceptor.accept(stream).await {
                                serve(stream, answer, recorded).await;
                            }
                        }
                        None => serve(stream, answer, recorded).await,
                    }
                });
            }
        });
        Self {
            url: format!("{scheme}://localhost:{port}"),
            certificate_pem,
            connections,
            operations,
        }
    }

    fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    fn operations(&self) -> Vec<String> {
        self.operations.lock().unwrap().clone()
    }
}

/// HTTP/1.1 with keep-alive: one JSON answer per request until the client hangs up.
async fn serve(
    stream: impl AsyncRead + AsyncWrite + Unpin,
    answer: Answer,
    operations: Arc<Mutex<Vec<String>>>,
) {
    let mut stream = BufReader::new(stream);
    loop {
        let (mut target, mut length) = (String::new(), 0usize);
        loop {
            let mut line = String::new();
            if stream.read_line(&mut line).await.unwrap_or(0) == 0 {
                return;
            }
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                match name.to_ascii_lowercase().as_str() {
                    "x-amz-target" => target = value.trim().to_owned(),
                    "content-length" => length = value.trim().parse().unwrap_or(0),
                    _ => {}
                }
            }
        }
        let mut body = vec![0; length];
        if stream.read_exact(&mut body).await.is_err() {
            return;
        }
        operations.lock().unwrap().push(target.clone());
        let (status, body) = match answer {
            Answer::Never => std::future::pending().await,
            Answer::AccessDenied => (
                "400 Bad Request",
                r#"{"__type":"AccessDeniedException","message":"not allowed"}"#,
            ),
            Answer::Success => ("200 OK", success_body(&target)),
        };
        let response = format!(
            "HTTP/1.1 {status}\r\ncontent-type: application/x-amz-json-1.0\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        );
        if stream.write_all(response.as_bytes()).await.is_err() {
            return;
        }
    }
}

fn success_body(target: &str) -> &'static str {
    match target {
        "DynamoDB_20120810.DescribeEndpoints" => {
            r#"{"Endpoints":[{"Address":"localhost","CachePeriodInMinutes":1440}]}"#
        }
        "AmazonSQS.GetQueueAttributes" => {
            r#"{"Attributes":{"QueueArn":"arn:aws:sqs:us-east-1:000000000000:routing"}}"#
        }
        _ => "{}",
    }
}

/// What a function's `main` loads, pointed at `endpoint` and trusting `roots_pem` (the AWS
/// roots when empty).
async fn sdk_config(endpoint: &str, roots_pem: &str) -> SdkConfig {
    let http_client = if roots_pem.is_empty() {
        crate::tls::sdk_http_client().unwrap()
    } else {
        crate::tls::sdk_http_client_trusting(roots_pem.to_owned()).unwrap()
    };
    aws_config::defaults(BehaviorVersion::latest())
        .region("us-east-1")
        .credentials_provider(Credentials::new("test", "test", None, None, "test"))
        .endpoint_url(endpoint)
        .http_client(http_client)
        .load()
        .await
}

fn sqs_client(sdk_config: &SdkConfig, endpoint: &str) -> aws_sdk_sqs::Client {
    let config = aws_sdk_sqs::config::Builder::from(sdk_config)
        .endpoint_url(endpoint)
        .build();
    aws_sdk_sqs::Client::from_conf(config)
}

#[tokio::test]
async fn warmed_connections_are_the_ones_the_first_calls_use() {
    let dynamodb_server = Server::start_tls(Answer::Success).await;
    let sqs_server = Server::start_tls(Answer::Success).await;
    let roots = [&dynamodb_server, &sqs_server]
        .map(|s| s.certificate_pem.as_str())
        .concat();
    let config = sdk_config(&dynamodb_server.url, &roots).await;
    let warm_ups: [&dyn WarmUp; 2] = [
        &DynamoDb::from_config(&config),
        &Sqs {
            client: sqs_client(&config, &sqs_server.url),
            queue_url: "https://queue/routing".into(),
        },
    ];

    assert_eq!(warm_up_within(&warm_ups, Duration::from_secs(5)).await, 2);
    assert_eq!(dynamodb_server.connections(), 1);
    assert_eq!(sqs_server.connections(), 1);

    // Other clients built from the same configuration, as the adapters are: no new connection.
    aws_sdk_dynamodb::Client::new(&config)
        .get_item()
        .table_name("events")
        .key("pk", aws_sdk_dynamodb::types::AttributeValue::S("x".into()))
        .send()
        .await
        .unwrap();
    sqs_client(&config, &sqs_server.url)
        .get_queue_attributes()
        .queue_url("https://queue/routing")
        .send()
        .await
        .unwrap();
    assert_eq!(dynamodb_server.connections(), 1);
    assert_eq!(sqs_server.connections(), 1);
    assert_eq!(
        dynamodb_server.operations(),
        ["DynamoDB_20120810.DescribeEndpoints", "DynamoDB_20120810.GetItem"]
    );
    assert_eq!(
        sqs_server.operations(),
        ["AmazonSQS.GetQueueAttributes", "AmazonSQS.GetQueueAttributes"]
    );
}

#[tokio::test]
async fn an_error_answer_still_leaves_the_connection_open() {
    let server = Server::start_tls(Answer::AccessDenied).await;
    let config = sdk_config(&server.url, &server.certificate_pem).await;
    let warm_ups: [&dyn WarmUp; 1] = [&DynamoDb::from_config(&config)];

    assert_eq!(warm_up_within(&warm_ups, Duration::from_secs(5)).await, 1);
    assert_eq!(server.connections(), 1);
}

#[tokio::test]
async fn a_silent_endpoint_delays_init_by_the_limit_at_most() {
    let server = Server::start_tls(Answer::Never).await;
    let config = sdk_config(&server.url, &server.certificate_pem).await;
    let warm_ups: [&dyn WarmUp; 1] = [&DynamoDb::from_config(&config)];

    let started = Instant::now();
    assert_eq!(warm_up_within(&warm_ups, Duration::from_millis(200)).await, 0);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(server.operations(), ["DynamoDB_20120810.DescribeEndpoints"]);
}

#[tokio::test]
async fn plain_http_endpoints_are_not_warmed() {
    let server = Server::start_plain().await;
    let config = sdk_config(&server.url, &server.certificate_pem).await;

    warm_up(&config, &[&DynamoDb::from_config(&config)]).await;
    assert_eq!(server.connections(), 0);
}

#[test]
fn only_tls_endpoints_count_as_tls() {
    let with_endpoint = |url: Option<&str>| {
        let builder = SdkConfig::builder();
        match url {
            Some(url) => builder.endpoint_url(url).build(),
            None => builder.build(),
        }
    };
    assert!(endpoints_use_tls(&with_endpoint(None)));
    assert!(endpoints_use_tls(&with_endpoint(Some(
        "https://dynamodb.eu-west-1.amazonaws.com"
    ))));
    assert!(endpoints_use_tls(&with_endpoint(Some(
        "HTTPS://LOCALHOST.LOCALSTACK.CLOUD:4566"
    ))));
    assert!(!endpoints_use_tls(&with_endpoint(Some("http://localhost:4566"))));
}
