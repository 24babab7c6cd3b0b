//! Publish → route → signed webhook delivery, end to end on the deployed stack, with a real
//! HTTP receiver on loopback (the test stack allows local webhook targets).

use std::time::Duration;

use notifier_e2e::receiver::Receiver;
use notifier_e2e::{Stack, call, delivery_statuses, verify_signature};
use serde_json::{Value, json};

const DELIVERY_TIMEOUT: Duration = Duration::from_secs(45);

fn id_of(reply_body: &Value) -> String {
    reply_body["id"].as_str().expect("id in reply").to_owned()
}

#[tokio::test]
async fn a_published_event_reaches_the_subscriber_signed_and_in_contract_shape() {
    let stack = Stack::connect().await;
    let tenant = stack.create_tenant("e2e signed delivery").await;
    let receiver = Receiver::start(&[], 200).await;
    let subscription = stack
        .subscribe_webhook(&tenant, &receiver.url, &["order.*"])
        .await;
    let secret = subscription["secret"].as_str().expect("secret at creation");
    assert!(secret.starts_with("whsec_"));

    let data = json!({"order_id": "ord_123", "amount": 4200, "items": [{"sku": "A", "qty": 2}]});
    let published = stack
        .publish(&tenant, &json!({"type": "order.paid", "data": data, "subject": "ord_123", "time": "2026-12-03T10:00:00Z"}), None)
        .await;
    assert_eq!(published.status, 202, "{}", published.body);
    assert_eq!(published.body["duplicate"], false);
    let event_id = id_of(&published.body);

    let received = receiver.wait_for(1, DELIVERY_TIMEOUT).await;
    assert_eq!(received.len(), 1, "exactly one delivery expected");
    let request = &received[0];
    assert_eq!(request.headers["content-type"], "application/json");
    assert_eq!(request.headers["webhook-id"], event_id);
    let timestamp = &request.headers["webhook-timestamp"];
    let sent_at: i64 = timestamp.parse().expect("unix seconds");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!((now - sent_at).abs() < 120, "timestamp {sent_at} is not recent");
    assert!(
        verify_signature(
            secret,
            &event_id,
            timestamp,
            &request.body,
            &request.headers["webhook-signature"]
        ),
        "signature does not verify with the subscription's secret"
    );
    let body: Value = serde_json::from_str(&request.body).expect("JSON body");
    assert_eq!(
        body,
        json!({"id": event_id, "type": "order.paid", "timestamp": "2026-12-03T10:00:00Z", "data": data})
    );

    let event = stack
        .wait_for_event(&tenant, &event_id, DELIVERY_TIMEOUT, |e| {
            delivery_statuses(e) == ["delivered"]
        })
        .await;
    let delivery = &event["deliveries"][0];
    assert_eq!(delivery["subscription_id"], subscription["id"]);
    assert_eq!(delivery["channel"], "webhook");
    assert_eq!(delivery["attempts"], 1);
    assert_eq!(delivery["last_status_code"], 200);
    assert_eq!(delivery["last_error"], Value::Null);
    assert_eq!(event["type"], "order.paid");
    assert_eq!(event["data"], data);
    assert!(event["received_at"].is_string());
}

#[tokio::test]
async fn a_failing_receiver_is_retried_with_the_same_webhook_id_until_it_succeeds() {
    let stack = Stack::connect().await;
    let tenant = stack.create_tenant("e2e retry").await;
    let receiver = Receiver::start(&[500], 200).await;
    stack
        .subscribe_webhook(&tenant, &receiver.url, &["invoice.created"])
        .await;
    let published = stack
        .publish(
            &tenant,
            &json!({"type": "invoice.created", "data": {"n": 1}}),
            None,
        )
        .await;
    assert_eq!(published.status, 202, "{}", published.body);
    let event_id = id_of(&published.body);

    let received = receiver.wait_for(2, DELIVERY_TIMEOUT).await;
    assert_eq!(
        received.len(),
        2,
        "one failed and one successful attempt expected"
    );
    assert_eq!(received[0].headers["webhook-id"], event_id);
    assert_eq!(received[1].headers["webhook-id"], event_id);
    assert_eq!(
        received[0].body, received[1].body,
        "a retry carries the same body"
    );

    let event = stack
        .wait_for_event(&tenant, &event_id, DELIVERY_TIMEOUT, |e| {
            delivery_statuses(e) == ["delivered"]
        })
        .await;
    assert_eq!(event["deliveries"][0]["attempts"], 2);
    assert_eq!(event["deliveries"][0]["last_status_code"], 200);
}

#[tokio::test]
async fn a_receiver_that_keeps_failing_ends_failed_after_the_last_attempt() {
    let stack = Stack::connect().await;
    let tenant = stack.create_tenant("e2e exhausted").await;
    let receiver = Receiver::start(&[], 503).await;
    stack.subscribe_webhook(&tenant, &receiver.url, &["*"]).await;
    let published = stack
        .publish(&tenant, &json!({"type": "report.ready", "data": {}}), None)
        .await;
    let event_id = id_of(&published.body);

    // The test stack's schedule is 1,2,2 s: four attempts in all.
    let event = stack
        .wait_for_event(&tenant, &event_id, Duration::from_secs(90), |e| {
            delivery_statuses(e) == ["failed"]
        })
        .await;
    let delivery = &event["deliveries"][0];
    assert_eq!(delivery["attempts"], 4);
    assert_eq!(delivery["last_status_code"], 503);
    assert!(
        delivery["last_error"]
            .as_str()
            .unwrap_or_default()
            .starts_with("HTTP 503"),
        "{delivery}"
    );
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(receiver.received().len(), 4, "no attempt after the last one");
}

#[tokio::test]
async fn a_duplicate_publish_is_delivered_once_and_a_reused_key_is_refused() {
    let stack = Stack::connect().await;
    let tenant = stack.create_tenant("e2e idempotency").await;
    let receiver = Receiver::start(&[], 200).await;
    stack
        .subscribe_webhook(&tenant, &receiver.url, &["order.paid"])
        .await;
    let body = json!({"type": "order.paid", "data": {"order_id": "ord_9"}, "id": "ord_9-paid"});

    let first = stack.publish(&tenant, &body, None).await;
    assert_eq!(first.status, 202, "{}", first.body);
    let event_id = id_of(&first.body);

    // Straight away, the first request may still be in flight: 409, retry later.
    let early = stack.publish(&tenant, &body, None).await;
    assert_eq!(early.status, 409, "{}", early.body);

    stack
        .wait_for_event(&tenant, &event_id, DELIVERY_TIMEOUT, |e| {
            delivery_statuses(e) == ["delivered"]
        })
        .await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    let again = stack.publish(&tenant, &body, None).await;
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(again.body, json!({"id": event_id, "duplicate": true}));

    let changed = stack
        .publish(
            &tenant,
            &json!({"type": "order.paid", "data": {"order_id": "other"}, "id": "ord_9-paid"}),
            None,
        )
        .await;
    assert_eq!(changed.status, 422, "{}", changed.body);
    assert_eq!(changed.content_type, "application/problem+json");

    // The Idempotency-Key header names the same event as a body id would.
    let by_header = stack
        .publish(
            &tenant,
            &json!({"type": "order.paid", "data": {"order_id": "ord_10"}}),
            Some("key-10"),
        )
        .await;
    assert_eq!(by_header.status, 202);

    tokio::time::sleep(Duration::from_secs(3)).await;
    let for_first: Vec<_> = receiver
        .received()
        .into_iter()
        .filter(|r| r.headers["webhook-id"] == event_id)
        .collect();
    assert_eq!(for_first.len(), 1, "the duplicate must not be delivered again");
}

#[tokio::test]
async fn only_enabled_matching_subscriptions_receive_events() {
    let stack = Stack::connect().await;
    let tenant = stack.create_tenant("e2e routing").await;
    let wanted = Receiver::start(&[], 200).await;
    let disabled = Receiver::start(&[], 200).await;
    let deleted = Receiver::start(&[], 200).await;
    let other_type = Receiver::start(&[], 200).await;
    stack.subscribe_webhook(&tenant, &wanted.url, &["user.*"]).await;
    stack
        .subscribe_webhook(&tenant, &other_type.url, &["order.paid"])
        .await;
    let to_disable = stack.subscribe_webhook(&tenant, &disabled.url, &["*"]).await;
    let to_delete = stack
        .subscribe_webhook(&tenant, &deleted.url, &["user.registered"])
        .await;

    let patched = call(
        stack
            .authed(
                &tenant,
                reqwest::Method::PATCH,
                &format!("/v1/subscriptions/{}", to_disable["id"].as_str().unwrap()),
            )
            .json(&json!({"enabled": false})),
    )
    .await;
    assert_eq!(patched.status, 200, "{}", patched.body);
    assert_eq!(patched.body["enabled"], false);
    let removed = stack
        .authed(
            &tenant,
            reqwest::Method::DELETE,
            &format!("/v1/subscriptions/{}", to_delete["id"].as_str().unwrap()),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(removed.status(), 204);
    // The router caches a tenant's subscriptions for SubscriptionCacheSeconds (1 s in tests).
    tokio::time::sleep(Duration::from_millis(1500)).await;

    let published = stack
        .publish(
            &tenant,
            &json!({"type": "user.registered", "data": {"user": "u1"}}),
            None,
        )
        .await;
    let event_id = id_of(&published.body);
    let event = stack
        .wait_for_event(&tenant, &event_id, DELIVERY_TIMEOUT, |e| {
            delivery_statuses(e) == ["delivered"]
        })
        .await;
    assert_eq!(event["deliveries"].as_array().unwrap().len(), 1, "{event}");
    assert_eq!(wanted.received().len(), 1);

    let nobody = stack
        .publish(&tenant, &json!({"type": "nobody.listens", "data": {}}), None)
        .await;
    assert_eq!(nobody.status, 202);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let unrouted = stack.get_event(&tenant, &id_of(&nobody.body)).await;
    assert_eq!(
        unrouted.body["deliveries"],
        json!([]),
        "an event nobody subscribes to has no delivery"
    );
    for (name, receiver) in [
        ("disabled", &disabled),
        ("deleted", &deleted),
        ("other type", &other_type),
    ] {
        assert!(
            receiver.received().is_empty(),
            "the {name} subscription received something"
        );
    }
}
