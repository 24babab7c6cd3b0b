//! `POST /v1/events:batch`: up to 100 events in one request, each accepted or refused on its
//! own, with the single-event rules (validation, idempotency by the event's `id`, "202 means
//! stored and queued"). It exists for cost: the whole batch is one DynamoDB transaction and
//! one `SendMessageBatch` per ten events, instead of two requests per event.

use std::collections::HashMap;

use aws_lambda_events::apigw::{ApiGatewayProxyRequest, ApiGatewayProxyResponse};
use notifier_domain::event::published_event_from_value;
use notifier_domain::ids::TenantId;
use notifier_domain::messages::RoutingMessage;
use notifier_domain::ports::{InsertOutcome, StoredEvent};
use notifier_domain::validation::FieldError;
use serde_json::{Value, json};

use crate::http::{body_bytes, header, json_response, media_type, problem_response};
use crate::problem::Problem;
use crate::publish::{MAX_BODY_BYTES, Publisher, judge_taken_key, publish_problem};

/// Most events in one batch (DynamoDB's limit on items per transaction).
pub const MAX_BATCH_EVENTS: usize = 100;
/// Largest accepted batch body: 1 MiB (each event within it at most `MAX_BODY_BYTES`).
pub const MAX_BATCH_BODY_BYTES: usize = 1024 * 1024;

/// How one event of a batch fared.
enum Verdict {
    Accepted { id: String, duplicate: bool },
    Refused(Problem),
}

impl Verdict {
    fn to_json(&self, index: usize) -> Value {
        match self {
            Self::Accepted { id, duplicate } => json!({
                "index": index,
                "status": if *duplicate { 200 } else { 202 },
                "id": id,
                "duplicate": duplicate,
            }),
            Self::Refused(problem) => json!({"index": index, "status": problem.status, "problem": problem}),
        }
    }
}

impl Publisher {
    pub async fn publish_batch(
        &self,
        tenant: &TenantId,
        request: &ApiGatewayProxyRequest,
    ) -> ApiGatewayProxyResponse {
        match self.try_publish_batch(tenant, request).await {
            Ok(response) => response,
            Err(problem) => problem_response(&problem),
        }
    }

    async fn try_publish_batch(
        &self,
        tenant: &TenantId,
        request: &ApiGatewayProxyRequest,
    ) -> Result<ApiGatewayProxyResponse, Problem> {
        let entries = read_batch(request)?;
        let mut verdicts: Vec<Option<Verdict>> = entries.iter().map(|_| None).collect();
        let mut positions = Vec::new();
        let mut stored = Vec::new();
        let mut first_with_id: HashMap<String, usize> = HashMap::new();
        for (index, entry) in entries.iter().enumerate() {
            match self.prepare(tenant, entry, &first_with_id) {
                Ok(event) => {
                    first_with_id.insert(event.event.id.clone(), index);
                    positions.push(index);
                    stored.push(event);
                }
                Err(problem) => verdicts[index] = Some(Verdict::Refused(problem)),
            }
        }

        let outcomes = match self.events.insert_batch(tenant, &stored).await {
            Ok(outcomes) if outcomes.len() == stored.len() => outcomes,
            Ok(_) => {
                tracing::error!("the event store answered for fewer events than it was given");
                return Err(Problem::internal());
            }
            Err(error) => {
                tracing::error!(%error, "batch not stored");
                return Err(Problem::unavailable());
            }
        };
        let mut to_queue = Vec::new();
        for ((index, event), outcome) in positions.into_iter().zip(stored).zip(outcomes) {
            verdicts[index] = match outcome {
                InsertOutcome::Inserted => {
                    to_queue.push((index, event));
                    continue;
                }
                InsertOutcome::Exists {
                    fingerprint,
                    accepted_at_ms,
                } => Some(match judge_taken_key(&event, &fingerprint, accepted_at_ms) {
                    Ok(()) => Verdict::Accepted {
                        id: event.event.id,
                        duplicate: true,
                    },
                    Err(problem) => Verdict::Refused(problem),
                }),
            };
        }
        self.queue(tenant, to_queue, &mut verdicts).await;

        let results: Vec<Value> = verdicts
            .iter()
            .enumerate()
            .map(|(index, verdict)| match verdict {
                Some(verdict) => verdict.to_json(index),
                None => Verdict::Refused(Problem::internal()).to_json(index),
            })
            .collect();
        let count = |status: fn(&Value) -> bool| results.iter().filter(|r| status(r)).count();
        let accepted = count(|r| r["status"] == 202);
        let duplicates = count(|r| r["status"] == 200);
        tracing::info!(tenant = %tenant, events = results.len(), accepted, duplicates, "batch published");
        Ok(json_response(
            200,
            &json!({
                "accepted": accepted,
                "duplicates": duplicates,
                "refused": results.len() - accepted - duplicates,
                "results": results,
            }),
        ))
    }

    /// Validates one entry into the event to store, refusing an `id` used earlier in the batch.
    fn prepare(
        &self,
        tenant: &TenantId,
        entry: &Value,
        first_with_id: &HashMap<String, usize>,
    ) -> Result<StoredEvent, Problem> {
        let size = serde_json::to_vec(entry).map_or(0, |bytes| bytes.len());
        if size > MAX_BODY_BYTES {
            return Err(Problem::payload_too_large(MAX_BODY_BYTES));
        }
        let published = published_event_from_value(entry, false).map_err(publish_problem)?;
        let event = self.to_stored(tenant, published.client_id.as_deref(), &published);
        if let Some(first) = first_with_id.get(&event.event.id) {
            return Err(Problem::invalid(vec![FieldError::new(
                "id",
                format!("repeats the id of event {first} of this batch"),
            )]));
        }
        Ok(event)
    }

    /// Queues the stored events; one that cannot be queued is withdrawn and answered 503.
    async fn queue(
        &self,
        tenant: &TenantId,
        events: Vec<(usize, StoredEvent)>,
        verdicts: &mut [Option<Verdict>],
    ) {
        if events.is_empty() {
            return;
        }
        let messages: Vec<RoutingMessage> = events
            .iter()
            .map(|(_, event)| RoutingMessage::V1 {
                tenant_id: tenant.clone(),
                event: event.event.clone(),
            })
            .collect();
        let failed = match self.routing.enqueue_batch(&messages).await {
            Ok(failed) => failed,
            Err(error) => {
                tracing::error!(%error, "batch not queued");
                (0..messages.len()).collect()
            }
        };
        for (position, (index, event)) in events.into_iter().enumerate() {
            verdicts[index] = Some(if failed.contains(&position) {
                tracing::error!(event_id = event.event.id, "event not queued; withdrawing it");
                self.withdraw(tenant, &event.event.id, event.accepted_at_ms).await;
                Verdict::Refused(Problem::unavailable())
            } else {
                Verdict::Accepted {
                    id: event.event.id,
                    duplicate: false,
                }
            });
        }
    }
}

/// The batch's entries: a JSON object `{"events": [...]}` of 1 to 100 events.
fn read_batch(request: &ApiGatewayProxyRequest) -> Result<Vec<Value>, Problem> {
    if media_type(request).as_deref() != Some("application/json") {
        return Err(Problem::unsupported_media_type("application/json"));
    }
    if header(request, "idempotency-key").is_some() {
        return Err(Problem::invalid(vec![FieldError::new(
            "Idempotency-Key",
            "is not accepted on a batch: each event's `id` is its idempotency key",
        )]));
    }
    let body = body_bytes(request)?;
    if body.len() > MAX_BATCH_BODY_BYTES {
        return Err(Problem::payload_too_large(MAX_BATCH_BODY_BYTES));
    }
    let value: Value = serde_json::from_slice(&body)
        .map_err(|error| Problem::bad_request(format!("The body is not valid JSON: {error}.")))?;
    let Value::Object(mut object) = value else {
        return Err(Problem::bad_request("The body must be a JSON object."));
    };
    match object.remove("events") {
        Some(Value::Array(events)) if (1..=MAX_BATCH_EVENTS).contains(&events.len()) => Ok(events),
        _ => Err(Problem::invalid(vec![FieldError::new(
            "events",
            format!("must be an array of 1 to {MAX_BATCH_EVENTS} events"),
        )])),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::Ordering;

    use aws_lambda_events::encodings::Body;
    use aws_lambda_events::http::HeaderValue;

    use super::*;
    use crate::publish::tests::publisher;

    fn request(body: &Value) -> ApiGatewayProxyRequest {
        let mut request = ApiGatewayProxyRequest::default();
        request
            .headers
            .insert("content-type", HeaderValue::from_static("application/json"));
        request.body = Some(body.to_string());
        request
    }

    async fn publish(publisher: &Publisher, body: &Value) -> (i64, Value) {
        let response = publisher
            .publish_batch(&TenantId("ten_test".into()), &request(body))
            .await;
        let body = match &response.body {
            Some(Body::Text(text)) => serde_json::from_str(text).unwrap(),
            _ => Value::Null,
        };
        (response.status_code, body)
    }

    fn statuses(body: &Value) -> Vec<u64> {
        body["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["status"].as_u64().unwrap())
            .collect()
    }

    #[tokio::test]
    async fn each_event_is_judged_on_its_own_and_only_accepted_ones_are_queued() {
        let (publisher, _, routing) = publisher();
        let batch = json!({"events": [
            {"type": "order.paid", "data": {"n": 1}, "id": "k1"},
            {"type": "bad type!", "data": {}},
            {"type": "order.paid", "data": {"n": 2}},
            {"type": "order.paid", "data": {"n": 3}, "id": "k1"},
            "not an object"
        ]});
        let (status, body) = publish(&publisher, &batch).await;
        assert_eq!(status, 200);
        assert_eq!(statuses(&body), [202, 422, 202, 422, 400]);
        assert_eq!(
            (body["accepted"].clone(), body["refused"].clone()),
            (json!(2), json!(3))
        );
        assert_eq!(body["results"][1]["problem"]["errors"][0]["field"], "type");
        assert_eq!(body["results"][3]["problem"]["errors"][0]["field"], "id");
        let queued: Vec<String> = routing
            .messages
            .lock()
            .unwrap()
            .iter()
            .map(|RoutingMessage::V1 { event, .. }| event.id.clone())
            .collect();
        assert_eq!(
            queued,
            [
                body["results"][0]["id"].as_str().unwrap(),
                body["results"][2]["id"].as_str().unwrap()
            ]
        );
    }

    #[tokio::test]
    async fn a_repeated_batch_is_all_duplicates_and_a_changed_event_is_refused() {
        let (publisher, events, routing) = publisher();
        let batch = json!({"events": [
            {"type": "a.b", "data": {"n": 1}, "id": "k1"},
            {"type": "a.b", "data": {"n": 2}, "id": "k2"}
        ]});
        let (_, first) = publish(&publisher, &batch).await;
        for stored in events.events.lock().unwrap().values_mut() {
            stored.accepted_at_ms -= 60_000;
        }
        let (_, again) = publish(&publisher, &batch).await;
        assert_eq!(statuses(&again), [200, 200]);
        assert_eq!(again["results"][0]["id"], first["results"][0]["id"]);
        let changed = json!({"events": [{"type": "a.b", "data": {"n": 9}, "id": "k1"}]});
        let (_, refused) = publish(&publisher, &changed).await;
        assert_eq!(statuses(&refused), [422]);
        assert_eq!(routing.messages.lock().unwrap().len(), 2, "nothing queued twice");
    }

    #[tokio::test]
    async fn events_that_cannot_be_queued_are_withdrawn_and_answered_503() {
        let (publisher, events, routing) = publisher();
        routing.failing.store(true, Ordering::SeqCst);
        let batch = json!({"events": [{"type": "a.b", "data": {}, "id": "k1"}]});
        let (_, body) = publish(&publisher, &batch).await;
        assert_eq!(statuses(&body), [503]);
        assert!(events.events.lock().unwrap().is_empty(), "the key is free again");
    }

    #[tokio::test]
    async fn malformed_empty_oversized_and_keyed_batches_are_refused_whole() {
        let (publisher, _, _) = publisher();
        let too_many: Vec<Value> = (0..101)
            .map(|n| json!({"type": "a.b", "data": {"n": n}}))
            .collect();
        for (body, expected) in [
            (json!({"events": []}), 422),
            (json!({"events": too_many}), 422),
            (json!({"nope": 1}), 422),
            (json!([1, 2]), 400),
        ] {
            assert_eq!(publish(&publisher, &body).await.0, expected, "{body}");
        }
        let mut keyed = request(&json!({"events": [{"type": "a.b", "data": {}}]}));
        keyed
            .headers
            .insert("idempotency-key", HeaderValue::from_static("k"));
        let tenant = TenantId("ten_test".into());
        assert_eq!(publisher.publish_batch(&tenant, &keyed).await.status_code, 422);
        let mut text = request(&json!({}));
        text.headers
            .insert("content-type", HeaderValue::from_static("text/plain"));
        assert_eq!(publisher.publish_batch(&tenant, &text).await.status_code, 415);
        let huge = json!({"events": [{"type": "a.b", "data": {"x": "y".repeat(MAX_BATCH_BODY_BYTES)}}]});
        assert_eq!(publish(&publisher, &huge).await.0, 413);
    }
}
