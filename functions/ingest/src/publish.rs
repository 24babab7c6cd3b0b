//! `POST /v1/events`: validate, claim the idempotency key and store the event in one
//! conditional write, then queue it for routing. A 202 is only ever returned once both have
//! happened; if queueing fails, the stored event is withdrawn and the caller told to retry.

use std::sync::Arc;
use std::time::Duration;

use aws_lambda_events::apigw::{ApiGatewayProxyRequest, ApiGatewayProxyResponse};
use notifier_domain::clock::unix_ms;
use notifier_domain::event::{PublishError, PublishedEvent, parse_published_event};
use notifier_domain::idempotency::{
    RepeatOutcome, event_id_for, idempotency_key, is_valid_idempotency_key, judge_repeat, payload_fingerprint,
};
use notifier_domain::ids::TenantId;
use notifier_domain::messages::{Event, RoutingMessage};
use notifier_domain::ports::{EventStore, InsertOutcome, RoutingQueue, StoredEvent};
use notifier_domain::validation::FieldError;
use serde_json::json;

use crate::http::{body_bytes, header, json_response, media_type, problem_response, with_header};
use crate::problem::Problem;

/// Largest accepted body: 256 KiB, documented in the API reference.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

pub struct Publisher {
    pub events: Arc<dyn EventStore>,
    pub routing: Arc<dyn RoutingQueue>,
    pub retention: Duration,
}

impl Publisher {
    pub async fn publish(
        &self,
        tenant: &TenantId,
        request: &ApiGatewayProxyRequest,
    ) -> ApiGatewayProxyResponse {
        match self.try_publish(tenant, request).await {
            Ok(response) => response,
            Err(problem) => {
                let response = problem_response(&problem);
                if problem.status == 409 {
                    with_header(response, "retry-after", "5")
                } else {
                    response
                }
            }
        }
    }

    async fn try_publish(
        &self,
        tenant: &TenantId,
        request: &ApiGatewayProxyRequest,
    ) -> Result<ApiGatewayProxyResponse, Problem> {
        let cloudevents = match media_type(request).as_deref() {
            Some("application/json") => false,
            Some("application/cloudevents+json") => true,
            _ => {
                return Err(Problem::unsupported_media_type(
                    "application/json or application/cloudevents+json",
                ));
            }
        };
        let body = body_bytes(request)?;
        if body.len() > MAX_BODY_BYTES {
            return Err(Problem::payload_too_large(MAX_BODY_BYTES));
        }
        let published = parse_published_event(&body, cloudevents).map_err(publish_problem)?;
        let header_key = header(request, "idempotency-key");
        if header_key.is_some_and(|key| !is_valid_idempotency_key(key)) {
            return Err(Problem::invalid(vec![FieldError::new(
                "Idempotency-Key",
                "must be 1 to 255 printable characters",
            )]));
        }
        let key = idempotency_key(header_key, published.client_id.as_deref());
        let stored = self.to_stored(tenant, key, &published);
        let event_id = stored.event.id.clone();

        match self.events.insert_new(tenant, &stored).await.map_err(|error| {
            tracing::error!(%error, "event not stored");
            Problem::unavailable()
        })? {
            InsertOutcome::Inserted => {}
            InsertOutcome::Exists {
                fingerprint,
                accepted_at_ms,
            } => {
                judge_taken_key(&stored, &fingerprint, accepted_at_ms)?;
                return Ok(json_response(200, &json!({"id": event_id, "duplicate": true})));
            }
        }

        let message = RoutingMessage::V1 {
            tenant_id: tenant.clone(),
            event: stored.event,
        };
        if let Err(error) = self.routing.enqueue(&message).await {
            tracing::error!(%error, event_id, "event not queued; withdrawing it");
            self.withdraw(tenant, &event_id, stored.accepted_at_ms).await;
            return Err(Problem::unavailable());
        }
        tracing::info!(tenant = %tenant, event_id, "event accepted");
        Ok(json_response(202, &json!({"id": event_id, "duplicate": false})))
    }

    /// Frees the key of an event that could not be queued (so the caller's retry can succeed).
    pub(crate) async fn withdraw(&self, tenant: &TenantId, event_id: &str, accepted_at_ms: u64) {
        if let Err(error) = self.events.withdraw(tenant, event_id, accepted_at_ms).await {
            tracing::error!(%error, event_id, "withdrawing an unqueued event failed");
        }
    }

    pub(crate) fn to_stored(
        &self,
        tenant: &TenantId,
        key: Option<&str>,
        published: &PublishedEvent,
    ) -> StoredEvent {
        let accepted_at_ms = unix_ms();
        StoredEvent {
            event: Event {
                id: event_id_for(tenant, key),
                event_type: published.event_type.clone(),
                source: published.source.clone(),
                subject: published.subject.clone(),
                time: published.time.clone(),
                received_at: notifier_aws::now_rfc3339(),
                data: published.data.clone(),
            },
            fingerprint: payload_fingerprint(published),
            accepted_at_ms,
            expires_at: accepted_at_ms / 1000 + self.retention.as_secs(),
        }
    }
}

/// The answer to an event that could not be read or is invalid.
pub(crate) fn publish_problem(error: PublishError) -> Problem {
    match error {
        PublishError::Malformed(detail) => Problem::bad_request(detail),
        PublishError::Invalid(errors) => Problem::invalid(errors),
    }
}

/// What a request whose idempotency key is taken gets: `Ok` for a duplicate (200 with the
/// original id), otherwise the problem (409 while the first may still run, 422 for another
/// body).
pub(crate) fn judge_taken_key(
    stored: &StoredEvent,
    fingerprint: &str,
    accepted_at_ms: u64,
) -> Result<(), Problem> {
    match judge_repeat(fingerprint, accepted_at_ms, &stored.fingerprint, unix_ms()) {
        RepeatOutcome::Duplicate => Ok(()),
        RepeatOutcome::InFlight => Err(Problem::in_flight()),
        RepeatOutcome::KeyReused => Err(Problem::idempotency_key_reused()),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::sync::atomic::Ordering;

    use aws_lambda_events::encodings::Body;
    use aws_lambda_events::http::HeaderValue;
    use notifier_domain::memory::{MemoryEventStore, MemoryRoutingQueue};
    use serde_json::Value;

    use super::*;

    /// A publisher over in-memory ports (shared with the batch tests).
    pub(crate) fn publisher() -> (Publisher, Arc<MemoryEventStore>, Arc<MemoryRoutingQueue>) {
        let events = Arc::new(MemoryEventStore::default());
        let routing = Arc::new(MemoryRoutingQueue::default());
        let publisher = Publisher {
            events: events.clone(),
            routing: routing.clone(),
            retention: Duration::from_secs(86_400),
        };
        (publisher, events, routing)
    }

    fn request(body: &str, content_type: &'static str, key: Option<&'static str>) -> ApiGatewayProxyRequest {
        let mut request = ApiGatewayProxyRequest::default();
        request
            .headers
            .insert("content-type", HeaderValue::from_static(content_type));
        if let Some(key) = key {
            request
                .headers
                .insert("idempotency-key", HeaderValue::from_static(key));
        }
        request.body = Some(body.to_owned());
        request
    }

    fn answer(response: &ApiGatewayProxyResponse) -> (i64, Value) {
        let body = match &response.body {
            Some(Body::Text(text)) => serde_json::from_str(text).unwrap(),
            _ => Value::Null,
        };
        (response.status_code, body)
    }

    /// Makes the stored event look accepted long ago (past the in-flight lease).
    fn age(events: &MemoryEventStore) {
        for stored in events.events.lock().unwrap().values_mut() {
            stored.accepted_at_ms -= 60_000;
        }
    }

    const TENANT: &str = "ten_test";
    const ORDER: &str = r#"{"type":"order.paid","data":{"order_id":"o1"},"id":"o1-paid"}"#;

    #[tokio::test]
    async fn an_accepted_event_is_stored_and_queued() {
        let (publisher, events, routing) = publisher();
        let (status, body) = answer(
            &publisher
                .publish(
                    &TenantId(TENANT.into()),
                    &request(ORDER, "application/json", None),
                )
                .await,
        );
        assert_eq!(status, 202);
        assert_eq!(body["duplicate"], false);
        let id = body["id"].as_str().unwrap();
        assert_eq!(events.events.lock().unwrap().len(), 1);
        let queued = routing.messages.lock().unwrap();
        let RoutingMessage::V1 { tenant_id, event } = &queued[0];
        assert_eq!(
            (tenant_id.0.as_str(), event.id.as_str(), event.event_type.as_str()),
            (TENANT, id, "order.paid")
        );
    }

    #[tokio::test]
    async fn repeats_are_in_flight_then_duplicates_and_never_queued_twice() {
        let (publisher, events, routing) = publisher();
        let tenant = TenantId(TENANT.into());
        let (_, first) = answer(
            &publisher
                .publish(&tenant, &request(ORDER, "application/json", None))
                .await,
        );
        let early = publisher
            .publish(&tenant, &request(ORDER, "application/json", None))
            .await;
        assert_eq!(answer(&early).0, 409);
        assert_eq!(early.headers.get("retry-after").unwrap(), "5");
        age(&events);
        let (status, again) = answer(
            &publisher
                .publish(&tenant, &request(ORDER, "application/json", None))
                .await,
        );
        assert_eq!(status, 200);
        assert_eq!(again, serde_json::json!({"id": first["id"], "duplicate": true}));
        assert_eq!(routing.messages.lock().unwrap().len(), 1);
    }

    #[tokio::test]
    async fn a_key_reused_with_another_body_is_refused() {
        let (publisher, events, _) = publisher();
        let tenant = TenantId(TENANT.into());
        publisher
            .publish(&tenant, &request(ORDER, "application/json", None))
            .await;
        age(&events);
        let other = r#"{"type":"order.paid","data":{"order_id":"o2"},"id":"o1-paid"}"#;
        let (status, body) = answer(
            &publisher
                .publish(&tenant, &request(other, "application/json", None))
                .await,
        );
        assert_eq!(status, 422);
        assert_eq!(body["errors"][0]["field"], "Idempotency-Key");
    }

    #[tokio::test]
    async fn the_header_key_wins_and_keys_are_per_tenant() {
        let (publisher, _, routing) = publisher();
        let a = answer(
            &publisher
                .publish(
                    &TenantId("ten_a".into()),
                    &request(ORDER, "application/json", Some("k1")),
                )
                .await,
        );
        let b = answer(
            &publisher
                .publish(
                    &TenantId("ten_b".into()),
                    &request(ORDER, "application/json", Some("k1")),
                )
                .await,
        );
        let c = answer(
            &publisher
                .publish(
                    &TenantId("ten_a".into()),
                    &request(ORDER, "application/json", Some("k2")),
                )
                .await,
        );
        assert_eq!((a.0, b.0, c.0), (202, 202, 202));
        assert_ne!(a.1["id"], b.1["id"]);
        assert_ne!(a.1["id"], c.1["id"]);
        assert_eq!(routing.messages.lock().unwrap().len(), 3);
    }

    #[tokio::test]
    async fn a_queue_failure_withdraws_the_event_and_frees_the_key() {
        let (publisher, events, routing) = publisher();
        let tenant = TenantId(TENANT.into());
        routing.failing.store(true, Ordering::SeqCst);
        let (status, body) = answer(
            &publisher
                .publish(&tenant, &request(ORDER, "application/json", None))
                .await,
        );
        assert_eq!(status, 503);
        assert_eq!(body["status"], 503);
        assert!(
            events.events.lock().unwrap().is_empty(),
            "an unqueued event must not stay stored"
        );
        routing.failing.store(false, Ordering::SeqCst);
        let (status, _) = answer(
            &publisher
                .publish(&tenant, &request(ORDER, "application/json", None))
                .await,
        );
        assert_eq!(status, 202, "a retry with the same key must be accepted");
    }

    #[tokio::test]
    async fn malformed_invalid_oversized_and_wrongly_typed_bodies_are_refused() {
        let (publisher, events, _) = publisher();
        let tenant = TenantId(TENANT.into());
        let status = |response: ApiGatewayProxyResponse| answer(&response).0;
        assert_eq!(
            status(
                publisher
                    .publish(&tenant, &request("{", "application/json", None))
                    .await
            ),
            400
        );
        assert_eq!(
            status(
                publisher
                    .publish(&tenant, &request(r#"{"type":"x"}"#, "application/json", None))
                    .await
            ),
            422
        );
        assert_eq!(
            status(
                publisher
                    .publish(&tenant, &request(ORDER, "text/plain", None))
                    .await
            ),
            415
        );
        let big = format!(
            r#"{{"type":"a","data":{{"x":"{}"}}}}"#,
            "x".repeat(MAX_BODY_BYTES)
        );
        assert_eq!(
            status(
                publisher
                    .publish(&tenant, &request(&big, "application/json", None))
                    .await
            ),
            413
        );
        assert_eq!(
            status(
                publisher
                    .publish(&tenant, &request(ORDER, "application/json; charset=utf-8", None))
                    .await
            ),
            202
        );
        assert_eq!(events.events.lock().unwrap().len(), 1);
    }
}
