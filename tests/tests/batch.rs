//! `POST /v1/events:batch` end to end: each event of a batch accepted or refused on its own,
//! the accepted ones delivered, and a keyed event repeated in a later batch answered as a
//! duplicate without a second delivery.

use std::time::Duration;

use notifier_e2e::receiver::Receiver;
use notifier_e2e::{Stack, TestTenant, assert_problem, call, delivery_statuses};
use reqwest::Method;
use serde_json::{Value, json};

const DELIVERY_TIMEOUT: Duration = Duration::from_secs(45);

async fn publish_batch(stack: &Stack, tenant: &TestTenant, events: Value) -> notifier_e2e::Reply {
    call(
        stack
            .authed(tenant, Method::POST, "/v1/events:batch")
            .json(&json!({ "events": events })),
    )
    .await
}

fn statuses(body: &Value) -> Vec<u64> {
    body["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| r["status"].as_u64().expect("status"))
        .collect()
}

#[tokio::test]
async fn a_batch_is_judged_event_by_event_and_its_accepted_events_are_delivered() {
    let stack = Stack::connect().await;
    let tenant = stack.create_tenant("e2e batch").await;
    let receiver = Receiver::start(&[], 200).await;
    stack
        .subscribe_webhook(&tenant, &receiver.url, &["order.*"])
        .await;
    let events = json!([
        {"type": "order.paid", "data": {"order_id": "ord_1"}, "id": "batch-ord_1-paid"},
        {"type": "not a type!", "data": {}},
        {"type": "order.shipped", "data": {"order_id": "ord_2"}}
    ]);

    let first = publish_batch(&stack, &tenant, events.clone()).await;
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(statuses(&first.body), [202, 422, 202], "{}", first.body);
    assert_eq!(first.body["accepted"], 2);
    assert_eq!(first.body["refused"], 1);
    assert_eq!(first.body["results"][1]["problem"]["errors"][0]["field"], "type");
    let keyed_id = first.body["results"][0]["id"].as_str().unwrap().to_owned();
    let other_id = first.body["results"][2]["id"].as_str().unwrap().to_owned();

    let received = receiver.wait_for(2, DELIVERY_TIMEOUT).await;
    let mut webhook_ids: Vec<&str> = received
        .iter()
        .map(|r| r.headers["webhook-id"].as_str())
        .collect();
    webhook_ids.sort_unstable();
    let mut expected = [keyed_id.as_str(), other_id.as_str()];
    expected.sort_unstable();
    assert_eq!(webhook_ids, expected);
    for id in [&keyed_id, &other_id] {
        stack
            .wait_for_event(&tenant, id, DELIVERY_TIMEOUT, |e| {
                delivery_statuses(e) == ["delivered"]
            })
            .await;
    }

    // Past the in-flight lease, the keyed event is a duplicate; only the new one is delivered.
    tokio::time::sleep(Duration::from_secs(6)).await;
    let again = publish_batch(
        &stack,
        &tenant,
        json!([events[0].clone(), {"type": "order.refunded", "data": {"order_id": "ord_1"}}]),
    )
    .await;
    assert_eq!(statuses(&again.body), [200, 202], "{}", again.body);
    assert_eq!(again.body["results"][0]["id"], keyed_id.as_str());
    assert_eq!(again.body["results"][0]["duplicate"], true);
    let received = receiver.wait_for(3, DELIVERY_TIMEOUT).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        receiver.received().len(),
        3,
        "the duplicate is not delivered again: {received:?}"
    );
}

#[tokio::test]
async fn malformed_batches_are_refused_whole_with_a_problem() {
    let stack = Stack::connect().await;
    let tenant = stack.create_tenant("e2e batch errors").await;
    let empty = publish_batch(&stack, &tenant, json!([])).await;
    assert_problem(&empty, 422);
    let too_many: Vec<Value> = (0..101)
        .map(|n| json!({"type": "a.b", "data": {"n": n}}))
        .collect();
    assert_problem(&publish_batch(&stack, &tenant, Value::Array(too_many)).await, 422);
    let not_json = call(
        stack
            .authed(&tenant, Method::POST, "/v1/events:batch")
            .header("content-type", "application/json")
            .body("{not json"),
    )
    .await;
    assert_problem(&not_json, 400);
    let wrong_method = call(stack.authed(&tenant, Method::GET, "/v1/events:batch")).await;
    assert_problem(&wrong_method, 405);
}
