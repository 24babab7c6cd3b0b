//! `POST /v1/events`: validate, claim the idempotency key and store the event in one
//! conditional write, then queue it for routing. A 202 is only ever returned once both have
//! happened; if queueing fails, the stored event is withdrawn and the caller told to retry.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lambda_events::apigw::{ApiGatewayProxyRequest, ApiGatewayProxyResponse};
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
        let published = parse_published_event(&body, cloudevents).map_err(|error| match error {
            PublishError::Malformed(detail) => Problem::bad_request(detail),
            PublishError::Invalid(errors) => Problem::invalid(errors),
        })?;
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
                return match judge_repeat(&fingerprint, accepted_at_ms, &stored.fingerprint, now_ms()) {
                    RepeatOutcome::Duplicate => {
                        Ok(json_response(200, &json!({"id": event_id, "duplicate": true})))
                    }
                    RepeatOutcome::InFlight => Err(Problem::in_flight()),
                    RepeatOutcome::KeyReused => Err(Problem::idempotency_key_reused()),
                };
            }
        }

        let message = RoutingMessage::V1 {
            tenant_id: tenant.clone(),
            event: stored.event,
        };
        if let Err(error) = self.routing.enqueue(&message).await {
            tracing::error!(%error, event_id, "event not queued; withdrawing it");
            if let Err(error) = self
                .events
                .withdraw(tenant, &event_id, stored.accepted_at_ms)
                .await
            {
                tracing::error!(%error, event_id, "withdrawing an unqueued event failed");
            }
            return Err(Problem::unavailable());
        }
        tracing::info!(tenant = %tenant, event_id, "event accepted");
        Ok(json_response(202, &json!({"id": event_id, "duplicate": false})))
    }

    fn to_stored(&self, tenant: &TenantId, key: Option<&str>, published: &PublishedEvent) -> StoredEvent {
        let accepted_at_ms = now_ms();
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

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or_default()
}
