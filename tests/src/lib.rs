//! Harness for the end-to-end suite: finds the deployed stack (default `notifier`, or
//! `NOTIFIER_STACK`) through the ordinary AWS environment, and talks to its API the way a
//! customer would. A missing LocalStack or stack is a test failure, never a skip.

use std::time::Duration;

use aws_sdk_dynamodb::Client as DynamoClient;
use notifier_aws::tenants::DynamoTenantStore;
use notifier_cli::stack::{DEFAULT_STACK, StackOutputs};
use reqwest::{Method, RequestBuilder, Response};
use serde_json::Value;

pub struct Stack {
    pub name: String,
    pub outputs: StackOutputs,
    pub api_base: String,
    pub sdk_config: aws_config::SdkConfig,
    pub http: reqwest::Client,
}

/// A tenant created for one test, with its plaintext key.
pub struct TestTenant {
    pub tenant_id: String,
    pub api_key: String,
}

impl Stack {
    /// Loads the stack's outputs; panics with what to do when the stack is not there.
    pub async fn connect() -> Self {
        let name = std::env::var("NOTIFIER_STACK").unwrap_or_else(|_| DEFAULT_STACK.to_owned());
        let sdk_config = notifier_aws::load_sdk_config()
            .await
            .expect("AWS SDK configuration");
        let cloudformation = aws_sdk_cloudformation::Client::new(&sdk_config);
        let outputs = StackOutputs::load(&cloudformation, &name)
            .await
            .unwrap_or_else(|error| {
                panic!(
                    "the end-to-end suite needs a deployed stack (run `make test` or `make local`): {error}"
                )
            });
        let api_base = api_base(&outputs);
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("HTTP client builds");
        Self {
            name,
            outputs,
            api_base,
            sdk_config,
            http,
        }
    }

    pub fn output(&self, name: &str) -> String {
        self.outputs
            .get(name)
            .unwrap_or_else(|error| panic!("{error}"))
            .to_owned()
    }

    pub fn tenants(&self) -> DynamoTenantStore {
        DynamoTenantStore::new(
            DynamoClient::new(&self.sdk_config),
            self.output("TenantsTableName"),
        )
    }

    /// Creates a tenant through the same code path as `notifier-cli tenant create`.
    pub async fn create_tenant(&self, name: &str) -> TestTenant {
        let created = notifier_cli::tenant::create(&self.tenants(), name)
            .await
            .expect("tenant created");
        TestTenant {
            tenant_id: created["tenant_id"].as_str().expect("tenant_id").to_owned(),
            api_key: created["api_key"].as_str().expect("api_key").to_owned(),
        }
    }

    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.http.request(method, format!("{}{path}", self.api_base))
    }

    pub fn authed(&self, tenant: &TestTenant, method: Method, path: &str) -> RequestBuilder {
        self.request(method, path).bearer_auth(&tenant.api_key)
    }
}

/// On LocalStack (`AWS_ENDPOINT_URL` set) the API is served under `/_aws/execute-api`; on AWS
/// the stack's `ApiUrl` output is the base.
fn api_base(outputs: &StackOutputs) -> String {
    match std::env::var("AWS_ENDPOINT_URL") {
        Ok(endpoint) if !endpoint.is_empty() => format!(
            "{}/_aws/execute-api/{}/{}",
            endpoint.trim_end_matches('/'),
            outputs.get("ApiId").expect("ApiId output"),
            outputs.get("ApiStage").expect("ApiStage output")
        ),
        _ => outputs
            .get("ApiUrl")
            .expect("ApiUrl output")
            .trim_end_matches('/')
            .to_owned(),
    }
}

/// Sends a request to the API and reads its reply.
pub async fn call(request: RequestBuilder) -> Reply {
    reply(request.send().await.expect("API reachable")).await
}

/// A response's status, content type and JSON body, read once.
pub struct Reply {
    pub status: u16,
    pub content_type: String,
    pub body: Value,
}

pub async fn reply(response: Response) -> Reply {
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let text = response.text().await.expect("response body");
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    Reply {
        status,
        content_type,
        body,
    }
}

/// The `field` of each entry in a problem's `errors`, in order.
pub fn error_fields(reply: &Reply) -> Vec<String> {
    reply.body["errors"].as_array().map_or_else(Vec::new, |errors| {
        errors
            .iter()
            .map(|e| e["field"].as_str().unwrap_or_default().to_owned())
            .collect()
    })
}

/// Asserts an RFC 9457 problem with the given status.
pub fn assert_problem(reply: &Reply, status: u16) {
    assert_eq!(reply.status, status, "unexpected status; body: {}", reply.body);
    assert_eq!(
        reply.content_type, "application/problem+json",
        "body: {}",
        reply.body
    );
    assert_eq!(reply.body["status"], status, "body: {}", reply.body);
    for field in ["type", "title", "detail"] {
        assert!(
            reply.body[field].is_string(),
            "problem without {field}: {}",
            reply.body
        );
    }
}

pub mod receiver;

/// Verifies a Standard Webhooks signature independently of the product's own signing code.
pub fn verify_signature(secret: &str, webhook_id: &str, timestamp: &str, body: &str, header: &str) -> bool {
    use base64::Engine;
    use hmac::{Hmac, Mac};
    let engine = base64::engine::general_purpose::STANDARD;
    let key = engine
        .decode(secret.trim_start_matches("whsec_"))
        .expect("secret is base64");
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&key).expect("any key length");
    mac.update(format!("{webhook_id}.{timestamp}.{body}").as_bytes());
    let expected = format!("v1,{}", engine.encode(mac.finalize().into_bytes()));
    header.split(' ').any(|candidate| candidate == expected)
}

impl Stack {
    /// Publishes an event as `tenant`, optionally with an `Idempotency-Key`.
    pub async fn publish(&self, tenant: &TestTenant, body: &Value, key: Option<&str>) -> Reply {
        let mut request = self.authed(tenant, Method::POST, "/v1/events").json(body);
        if let Some(key) = key {
            request = request.header("idempotency-key", key);
        }
        reply(request.send().await.expect("API reachable")).await
    }

    /// Creates a webhook subscription to `url` for `event_types`; returns the 201 body.
    pub async fn subscribe_webhook(&self, tenant: &TestTenant, url: &str, event_types: &[&str]) -> Value {
        let body =
            serde_json::json!({"event_types": event_types, "channel": "webhook", "target": {"url": url}});
        let created = reply(
            self.authed(tenant, Method::POST, "/v1/subscriptions")
                .json(&body)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(created.status, 201, "subscription not created: {}", created.body);
        created.body
    }

    pub async fn get_event(&self, tenant: &TestTenant, event_id: &str) -> Reply {
        reply(
            self.authed(tenant, Method::GET, &format!("/v1/events/{event_id}"))
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    /// Polls `GET /v1/events/{id}` until `done` holds for its body, or fails after `timeout`.
    pub async fn wait_for_event(
        &self,
        tenant: &TestTenant,
        event_id: &str,
        timeout: Duration,
        done: impl Fn(&Value) -> bool,
    ) -> Value {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let event = self.get_event(tenant, event_id).await;
            assert_eq!(event.status, 200, "event lookup failed: {}", event.body);
            if done(&event.body) {
                return event.body;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "event {event_id} did not reach the expected state: {}",
                event.body
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
}

/// The statuses of an event body's deliveries.
pub fn delivery_statuses(event: &Value) -> Vec<String> {
    event["deliveries"]
        .as_array()
        .map_or_else(Vec::new, |deliveries| {
            deliveries
                .iter()
                .map(|d| d["status"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
}
