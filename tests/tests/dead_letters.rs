//! A message the router cannot understand fails alone and ends in the routing dead-letter
//! queue after the receive limit, while good events beside it are routed.

use std::time::Duration;

use notifier_e2e::receiver::Receiver;
use notifier_e2e::{Stack, delivery_statuses};
use serde_json::json;

#[tokio::test]
async fn a_poison_routing_message_reaches_the_dead_letter_queue_and_blocks_nothing() {
    let stack = Stack::connect().await;
    let sqs = aws_sdk_sqs::Client::new(&stack.sdk_config);
    let marker = format!("poison-{}", std::process::id());
    sqs.send_message()
        .queue_url(stack.output("RoutingQueueUrl"))
        .message_body(format!(r#"{{"version":"1","garbage":"{marker}"}}"#))
        .send()
        .await
        .expect("poison message sent");

    let tenant = stack.create_tenant("e2e poison neighbour").await;
    let receiver = Receiver::start(&[], 200).await;
    stack.subscribe_webhook(&tenant, &receiver.url, &["*"]).await;
    let published = stack
        .publish(&tenant, &json!({"type": "still.flows", "data": {}}), None)
        .await;
    let event_id = published.body["id"].as_str().unwrap().to_owned();
    stack
        .wait_for_event(&tenant, &event_id, Duration::from_secs(45), |e| {
            delivery_statuses(e) == ["delivered"]
        })
        .await;

    let dead_letters = stack.output("RoutingDeadLetterQueueUrl");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    loop {
        let received = sqs
            .receive_message()
            .queue_url(&dead_letters)
            .max_number_of_messages(10)
            .wait_time_seconds(2)
            .visibility_timeout(1)
            .send()
            .await
            .expect("dead-letter queue readable");
        if received
            .messages()
            .iter()
            .any(|m| m.body().unwrap_or_default().contains(&marker))
        {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the poison message never reached the dead-letter queue"
        );
    }
}
