//! The realistic traffic the functions are measured with: a tenant with one subscription per
//! channel, an `order.paid` event of about 1 KB, and the benchmark's sink queues through which
//! each stage's real output becomes the next stage's input.

use std::collections::HashMap;

use aws_lambda_events::apigw::ApiGatewayProxyRequest;
use aws_lambda_events::sqs::{SqsEvent, SqsMessage};
use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName};
use notifier_e2e::receiver::Receiver;
use notifier_e2e::{Stack, TestTenant, call};
use reqwest::Method;
use serde_json::{Value, json};

use crate::BenchError;
use crate::functions::Sinks;

pub struct Workload {
    pub tenant: TestTenant,
    pub receiver: Receiver,
    pub sqs: aws_sdk_sqs::Client,
    pub sinks: Sinks,
}

/// The body of every published event: an order with a few line items, about 1 KB.
pub fn order_paid(sequence: usize, push_endpoint: &str) -> Value {
    let items: Vec<Value> = (0..5)
        .map(|i| json!({"sku": format!("SKU-{i:05}"), "name": "Organic cotton t-shirt, size M", "quantity": 1 + i, "unit_price": 1999}))
        .collect();
    json!({
        "type": "order.paid",
        "subject": format!("ord_{sequence}"),
        "data": {
            "order_id": format!("ord_{sequence}"),
            "amount": 12_345,
            "currency": "EUR",
            "customer": {"id": "cus_8842", "name": "Ann Example", "email": "ann@example.com", "phone": "+15550100042"},
            "device": {"arn": push_endpoint},
            "items": items,
            "shipping": {"street": "1 Example Way", "city": "Berlin", "postcode": "10115", "country": "DE"}
        }
    })
}

/// A push platform application and one device endpoint in SNS, as a mobile app registers them.
pub async fn push_endpoint(stack: &Stack, name: &str) -> Result<String, BenchError> {
    let sns = aws_sdk_sns::Client::new(&stack.sdk_config);
    let application = sns
        .create_platform_application()
        .name(name)
        .platform("GCM")
        .attributes("PlatformPrincipal", "bench-sender-id")
        .attributes("PlatformCredential", "bench-server-key")
        .send()
        .await
        .map_err(BenchError::aws)?;
    let endpoint = sns
        .create_platform_endpoint()
        .platform_application_arn(application.platform_application_arn().unwrap_or_default())
        .token(format!("{name}-device"))
        .send()
        .await
        .map_err(BenchError::aws)?;
    Ok(endpoint.endpoint_arn().unwrap_or_default().to_owned())
}

/// One subscription per channel, created through the public API.
pub fn subscriptions(webhook_url: &str) -> [Value; 4] {
    [
        json!({"event_types": ["order.*"], "channel": "webhook", "target": {"url": webhook_url}}),
        json!({
            "event_types": ["order.paid"], "channel": "email",
            "target": {"to_path": "/data/customer/email"},
            "template": {
                "subject": "Payment received for {{ data.order_id }}",
                "text": "Hi {{ data.customer.name }}, we received {{ data.amount }} {{ data.currency }}.",
                "html": "<p>Hi {{ data.customer.name }}, we received {{ data.amount }} {{ data.currency }}.</p>"
            }
        }),
        json!({
            "event_types": ["order.paid"], "channel": "sms",
            "target": {"phone_path": "/data/customer/phone"},
            "template": {"text": "Payment for {{ data.order_id }} received. Ref {{ id }}"}
        }),
        json!({
            "event_types": ["*"], "channel": "push",
            "target": {"endpoint_arn_path": "/data/device/arn"},
            "template": {"title": "Paid", "body": "Order {{ data.order_id }} is paid"}
        }),
    ]
}

pub async fn subscribe(stack: &Stack, tenant: &TestTenant, body: &Value) -> Result<(), BenchError> {
    let created = call(stack.authed(tenant, Method::POST, "/v1/subscriptions").json(body)).await;
    if created.status != 201 {
        return Err(BenchError::Setup(format!(
            "subscription refused: {}",
            created.body
        )));
    }
    Ok(())
}

impl Workload {
    pub async fn prepare(stack: &Stack, run_id: &str) -> Result<Self, BenchError> {
        let tenant = stack.create_tenant(&format!("bench {run_id}")).await;
        let receiver = Receiver::start(&[], 200).await;
        for body in subscriptions(&receiver.url) {
            subscribe(stack, &tenant, &body).await?;
        }
        let sqs = aws_sdk_sqs::Client::new(&stack.sdk_config);
        let mut urls = Vec::new();
        for stage in ["routing", "webhook", "email", "sms", "push"] {
            let created = sqs
                .create_queue()
                .queue_name(format!("notifier-bench-{run_id}-{stage}"))
                .attributes(QueueAttributeName::VisibilityTimeout, "43200")
                .send()
                .await
                .map_err(BenchError::aws)?;
            urls.push(created.queue_url().unwrap_or_default().to_owned());
        }
        let [routing, webhook, email, sms, push] = <[String; 5]>::try_from(urls).expect("five queues");
        Ok(Self {
            tenant,
            receiver,
            sqs,
            sinks: Sinks {
                routing,
                webhook,
                email,
                sms,
                push,
            },
        })
    }

    /// `POST /v1/events` as API Gateway hands it to ingest.
    pub fn publish_request(&self, body: &Value, idempotency_key: &str) -> String {
        let mut request = ApiGatewayProxyRequest::default();
        request.resource = Some("/{proxy+}".into());
        request.path = Some("/v1/events".into());
        request.http_method = http::Method::POST;
        for (name, value) in [
            ("authorization", format!("Bearer {}", self.tenant.api_key)),
            ("content-type", "application/json".to_owned()),
            ("idempotency-key", idempotency_key.to_owned()),
            ("user-agent", "notifier-bench".to_owned()),
        ] {
            request.headers.insert(
                http::HeaderName::from_static(name),
                value.parse().expect("header value"),
            );
        }
        request.body = Some(body.to_string());
        serde_json::to_string(&request).expect("request serialises")
    }

    /// Takes up to `count` messages off a sink queue (they stay there, invisible for hours).
    pub async fn drain(&self, queue_url: &str, count: usize) -> Result<Vec<SqsMessage>, BenchError> {
        let mut taken = Vec::with_capacity(count);
        let mut empty_polls = 0;
        while taken.len() < count && empty_polls < 3 {
            let received = self
                .sqs
                .receive_message()
                .queue_url(queue_url)
                .max_number_of_messages(10)
                .wait_time_seconds(1)
                .message_system_attribute_names(MessageSystemAttributeName::All)
                .send()
                .await
                .map_err(BenchError::aws)?;
            let messages = received.messages();
            if messages.is_empty() {
                empty_polls += 1;
            }
            for message in messages {
                let mut record = SqsMessage::default();
                record.message_id = message.message_id().map(str::to_owned);
                record.receipt_handle = message.receipt_handle().map(str::to_owned);
                record.body = message.body().map(str::to_owned);
                record.md5_of_body = message.md5_of_body().map(str::to_owned);
                record.attributes = message
                    .attributes()
                    .map(|attributes| {
                        attributes
                            .iter()
                            .map(|(k, v)| (k.as_str().to_owned(), v.clone()))
                            .collect::<HashMap<_, _>>()
                    })
                    .unwrap_or_default();
                record.event_source = Some("aws:sqs".into());
                record.aws_region = Some("us-east-1".into());
                taken.push(record);
            }
        }
        if taken.len() < count {
            return Err(BenchError::Setup(format!(
                "expected {count} messages on {queue_url}, found {}",
                taken.len()
            )));
        }
        Ok(taken)
    }

    pub async fn delete_sinks(&self) {
        let Sinks {
            routing,
            webhook,
            email,
            sms,
            push,
        } = &self.sinks;
        for url in [routing, webhook, email, sms, push] {
            let _ = self.sqs.delete_queue().queue_url(url).send().await;
        }
    }
}

/// An SQS trigger event carrying one record, as Lambda's event source mapping sends it.
pub fn sqs_event(record: SqsMessage) -> String {
    let mut event = SqsEvent::default();
    event.records = vec![record];
    serde_json::to_string(&event).expect("event serialises")
}
