//! The functions under measurement: where `sam build` put each `bootstrap`, and the
//! environment each needs, as `template.yaml` gives it, except that the queues a function
//! writes to are the benchmark's own sink queues (so the deployed consumers never see them).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use notifier_e2e::Stack;

/// Queues the benchmark owns: what one stage writes, the next stage's events are made of.
pub struct Sinks {
    pub routing: String,
    pub webhook: String,
    pub email: String,
    pub sms: String,
    pub push: String,
}

#[derive(Clone)]
pub struct Function {
    pub name: &'static str,
    pub bootstrap: PathBuf,
    pub env: BTreeMap<String, String>,
}

pub const SENDER_EMAIL: &str = "notifications@example.com";

/// The yardstick: a minimal `lambda_runtime` function built by `cargo lambda` like the rest.
pub fn hello(repo: &Path) -> Function {
    Function {
        name: "hello-world",
        bootstrap: repo.join("target/lambda/bench-hello/bootstrap"),
        env: BTreeMap::new(),
    }
}

/// The six functions, in pipeline order.
pub fn all(repo: &Path, stack: &Stack, sinks: &Sinks) -> Vec<Function> {
    let build = repo.join(".aws-sam/build");
    let tables = [
        ("TENANTS_TABLE", "TenantsTableName"),
        ("SUBSCRIPTIONS_TABLE", "SubscriptionsTableName"),
        ("EVENTS_TABLE", "EventsTableName"),
        ("DELIVERIES_TABLE", "DeliveriesTableName"),
    ];
    let mut common: BTreeMap<String, String> = tables
        .iter()
        .map(|(variable, output)| (variable.to_string(), stack.output(output)))
        .collect();
    common.insert("LOG_LEVEL".into(), "warn".into());
    common.insert("SUBSCRIPTION_CACHE_SECONDS".into(), "60".into());
    common.insert("AUTH_CACHE_SECONDS".into(), "60".into());
    let function = |name: &'static str, dir: &str, extra: &[(&str, &str)]| {
        let mut env = common.clone();
        env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        Function {
            name,
            bootstrap: build.join(dir).join("bootstrap"),
            env,
        }
    };
    vec![
        function(
            "ingest",
            "IngestFunction",
            &[
                ("ROUTING_QUEUE_URL", &sinks.routing),
                ("ALLOW_LOCAL_WEBHOOK_TARGETS", "true"),
            ],
        ),
        function(
            "router",
            "RouterFunction",
            &[
                ("ROUTING_QUEUE_URL", &sinks.routing),
                ("WEBHOOK_QUEUE_URL", &sinks.webhook),
                ("EMAIL_QUEUE_URL", &sinks.email),
                ("SMS_QUEUE_URL", &sinks.sms),
                ("PUSH_QUEUE_URL", &sinks.push),
            ],
        ),
        function(
            "webhook-sender",
            "WebhookSenderFunction",
            &[
                ("WEBHOOK_QUEUE_URL", &sinks.webhook),
                ("ALLOW_LOCAL_WEBHOOK_TARGETS", "true"),
            ],
        ),
        function(
            "email-sender",
            "EmailSenderFunction",
            &[("EMAIL_QUEUE_URL", &sinks.email), ("SENDER_EMAIL", SENDER_EMAIL)],
        ),
        function(
            "sms-sender",
            "SmsSenderFunction",
            &[("SMS_QUEUE_URL", &sinks.sms)],
        ),
        function(
            "push-sender",
            "PushSenderFunction",
            &[("PUSH_QUEUE_URL", &sinks.push)],
        ),
    ]
}
