//! Email (SES), SMS and push (SNS) delivery end to end: one event matched by one subscription
//! per channel, each recipient resolved from the event or fixed, each message rendered from
//! its template, checked through LocalStack's own records of what was sent.

use std::time::Duration;

use notifier_e2e::{Stack, TestTenant, assert_problem, call, delivery_statuses, error_fields, reply};
use reqwest::Method;
use serde_json::{Value, json};

const SENDER: &str = "notifications@example.com";
const TIMEOUT: Duration = Duration::from_secs(45);

/// A number no other test run uses at the same time (recipients must not collide).
fn unique() -> u64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    (now.as_nanos() % 10_000_000) as u64
}

async fn subscribe(stack: &Stack, tenant: &TestTenant, body: Value) -> Value {
    let created = call(
        stack
            .authed(tenant, Method::POST, "/v1/subscriptions")
            .json(&body),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert!(created.body.get("secret").is_none(), "only webhooks have secrets");
    created.body
}

/// A platform application and one device endpoint in SNS, as a mobile app would register.
async fn push_endpoint(stack: &Stack, token: &str) -> String {
    let sns = aws_sdk_sns::Client::new(&stack.sdk_config);
    let application = sns
        .create_platform_application()
        .name(format!("notifier-e2e-{token}"))
        .platform("GCM")
        .attributes("PlatformPrincipal", "e2e-sender-id")
        .attributes("PlatformCredential", "e2e-server-key")
        .send()
        .await
        .expect("platform application");
    sns.create_platform_endpoint()
        .platform_application_arn(application.platform_application_arn().unwrap())
        .token(token)
        .send()
        .await
        .expect("platform endpoint")
        .endpoint_arn()
        .unwrap()
        .to_owned()
}

async fn localstack_json(stack: &Stack, path: &str) -> Value {
    let endpoint = std::env::var("AWS_ENDPOINT_URL").expect("AWS_ENDPOINT_URL points at LocalStack");
    let response = stack
        .http
        .get(format!("{}{path}", endpoint.trim_end_matches('/')))
        .send()
        .await
        .unwrap();
    response.json().await.expect("JSON from LocalStack")
}

async fn deliveries_by_channel(stack: &Stack, tenant: &TestTenant, event_id: &str, count: usize) -> Value {
    let event = stack
        .wait_for_event(tenant, event_id, TIMEOUT, |e| {
            let statuses = delivery_statuses(e);
            statuses.len() == count && statuses.iter().all(|s| s == "delivered" || s == "failed")
        })
        .await;
    let mut by_channel = serde_json::Map::new();
    for delivery in event["deliveries"].as_array().unwrap() {
        by_channel.insert(delivery["channel"].as_str().unwrap().to_owned(), delivery.clone());
    }
    Value::Object(by_channel)
}

#[tokio::test]
async fn one_event_reaches_email_sms_and_push_rendered_for_each_recipient() {
    let stack = Stack::connect().await;
    let tenant = stack.create_tenant("e2e channels").await;
    let id = unique();
    let email = format!("customer-{id}@example.com");
    let phone = format!("+1555{id:07}");
    let endpoint_arn = push_endpoint(&stack, &format!("device-{id}")).await;

    subscribe(
        &stack,
        &tenant,
        json!({
            "event_types": ["order.*"], "channel": "email",
            "target": {"to_path": "/data/customer/email"},
            "template": {
                "subject": "Order {{ data.order_id }} shipped",
                "text": "Hi {{ data.customer.name }}, order {{ data.order_id }} ({{ type }}) is on its way.",
                "html": "<p>Hi {{ data.customer.name }}</p>"
            }
        }),
    )
    .await;
    let sms_subscription = subscribe(&stack, &tenant, json!({
        "event_types": ["order.shipped"], "channel": "sms",
        "target": {"phone": phone}, "template": {"text": "Order {{ data.order_id }} shipped. Ref {{ id }}"}
    })).await;
    subscribe(
        &stack,
        &tenant,
        json!({
            "event_types": ["*"], "channel": "push",
            "target": {"endpoint_arn_path": "/data/device/arn"},
            "template": {"title": "Shipped!", "body": "Order {{ data.order_id }} is on its way"}
        }),
    )
    .await;

    let data = json!({
        "order_id": "ord_42",
        "customer": {"name": "Ann <& Co>", "email": email},
        "device": {"arn": endpoint_arn}
    });
    let published = stack
        .publish(&tenant, &json!({"type": "order.shipped", "data": data}), None)
        .await;
    assert_eq!(published.status, 202, "{}", published.body);
    let event_id = published.body["id"].as_str().unwrap().to_owned();

    let deliveries = deliveries_by_channel(&stack, &tenant, &event_id, 3).await;
    for channel in ["email", "sms", "push"] {
        assert_eq!(
            deliveries[channel]["status"], "delivered",
            "{channel}: {}",
            deliveries[channel]
        );
        assert_eq!(deliveries[channel]["attempts"], 1);
    }

    let emails = localstack_json(&stack, &format!("/_aws/ses?email={SENDER}")).await;
    let sent: Vec<&Value> = emails["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["Destination"]["ToAddresses"] == json!([email]))
        .collect();
    assert_eq!(sent.len(), 1, "exactly one email to {email}: {emails}");
    assert_eq!(sent[0]["Source"], SENDER);
    assert_eq!(sent[0]["Subject"], "Order ord_42 shipped");
    assert_eq!(
        sent[0]["Body"]["text_part"],
        "Hi Ann <& Co>, order ord_42 (order.shipped) is on its way."
    );
    assert_eq!(sent[0]["Body"]["html_part"], "<p>Hi Ann &lt;&amp; Co&gt;</p>");

    let sms = localstack_json(
        &stack,
        &format!("/_aws/sns/sms-messages?phoneNumber={}", phone.replace('+', "%2B")),
    )
    .await;
    let texts = sms["sms_messages"][&phone].as_array().unwrap();
    assert_eq!(texts.len(), 1, "exactly one SMS to {phone}: {sms}");
    assert_eq!(
        texts[0]["Message"],
        format!("Order ord_42 shipped. Ref {event_id}")
    );
    assert_eq!(
        texts[0]["MessageAttributes"]["AWS.SNS.SMS.SMSType"]["StringValue"],
        "Transactional"
    );

    let pushes = localstack_json(
        &stack,
        &format!("/_aws/sns/platform-endpoint-messages?endpointArn={endpoint_arn}"),
    )
    .await;
    let pushed = pushes["platform_endpoint_messages"][&endpoint_arn]
        .as_array()
        .unwrap();
    assert_eq!(pushed.len(), 1, "exactly one push to {endpoint_arn}: {pushes}");
    assert_eq!(pushed[0]["MessageStructure"], "json");
    // An SQS redelivery of the SMS after it went out must not send it again.
    let event = stack.get_event(&tenant, &event_id).await.body;
    let redelivery = json!({
        "version": "1", "tenant_id": tenant.tenant_id, "subscription_id": sms_subscription["id"],
        "event": {"id": event_id, "type": event["type"], "received_at": event["received_at"], "data": event["data"]},
    });
    aws_sdk_sqs::Client::new(&stack.sdk_config)
        .send_message()
        .queue_url(stack.output("SmsQueueUrl"))
        .message_body(redelivery.to_string())
        .send()
        .await
        .expect("redelivery queued");
    tokio::time::sleep(Duration::from_secs(4)).await;
    let sms = localstack_json(
        &stack,
        &format!("/_aws/sns/sms-messages?phoneNumber={}", phone.replace('+', "%2B")),
    )
    .await;
    assert_eq!(
        sms["sms_messages"][&phone].as_array().unwrap().len(),
        1,
        "redelivery sent again: {sms}"
    );

    // SNS hands each device its own platform's payload from the structure: this is a GCM one.
    let stored: Value = serde_json::from_str(pushed[0]["Message"].as_str().unwrap()).unwrap();
    let fcm: Value =
        serde_json::from_str(stored.as_str().expect("the GCM payload, as a JSON string")).unwrap();
    assert_eq!(
        fcm["notification"],
        json!({"title": "Shipped!", "body": "Order ord_42 is on its way"})
    );
    assert_eq!(
        fcm["data"],
        json!({"event_id": event_id, "type": "order.shipped"})
    );
}

#[tokio::test]
async fn an_unresolvable_email_path_fails_that_delivery_only() {
    let stack = Stack::connect().await;
    let tenant = stack.create_tenant("e2e unresolvable").await;
    let endpoint_arn = push_endpoint(&stack, &format!("device-{}", unique())).await;
    subscribe(
        &stack,
        &tenant,
        json!({
            "event_types": ["*"], "channel": "email", "target": {"to_path": "/data/customer/email"},
            "template": {"subject": "s", "text": "t"}
        }),
    )
    .await;
    subscribe(
        &stack,
        &tenant,
        json!({
            "event_types": ["*"], "channel": "push", "target": {"endpoint_arn": endpoint_arn},
            "template": {"title": "Hello", "body": "{{ data.note }}"}
        }),
    )
    .await;

    let published = stack
        .publish(
            &tenant,
            &json!({"type": "note.added", "data": {"note": "no email here"}}),
            None,
        )
        .await;
    let event_id = published.body["id"].as_str().unwrap().to_owned();
    let deliveries = deliveries_by_channel(&stack, &tenant, &event_id, 2).await;
    assert_eq!(deliveries["email"]["status"], "failed");
    assert_eq!(
        deliveries["email"]["last_error"],
        "recipient path /data/customer/email does not exist in the event"
    );
    assert_eq!(deliveries["push"]["status"], "delivered");
}

#[tokio::test]
async fn bad_recipients_and_templates_are_refused_when_subscribing() {
    let stack = Stack::connect().await;
    let tenant = stack.create_tenant("e2e channel validation").await;
    let create = |body: Value| {
        stack
            .authed(&tenant, Method::POST, "/v1/subscriptions")
            .json(&body)
            .send()
    };

    let bad = reply(
        create(json!({
            "event_types": ["*"], "channel": "email", "target": {"to": "not-an-address"},
            "template": {"subject": "Hi {{ data.name", "text": "ok"}
        }))
        .await
        .unwrap(),
    )
    .await;
    assert_problem(&bad, 422);
    assert_eq!(error_fields(&bad), ["target.to", "template.subject"]);
    let reason = bad.body["errors"][1]["message"].as_str().unwrap();
    assert!(reason.starts_with("does not parse"), "{reason}");

    let sms = reply(create(json!({"event_types": ["*"], "channel": "sms", "target": {"phone": "555-0100"}, "template": {"text": "x"}})).await.unwrap()).await;
    assert_eq!(error_fields(&sms), ["target.phone"]);
    let push = reply(create(json!({"event_types": ["*"], "channel": "push", "target": {"endpoint_arn": "arn:aws:sns:us-east-1:000000000000:topic"}, "template": {"title": "t"}})).await.unwrap()).await;
    assert_eq!(error_fields(&push), ["target.endpoint_arn", "template.body"]);
}
