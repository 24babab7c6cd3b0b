//! `GET /v1/events/{id}`: the event as accepted, and where each of its deliveries stands.

use std::sync::Arc;

use aws_lambda_events::apigw::ApiGatewayProxyResponse;
use notifier_domain::ids::TenantId;
use notifier_domain::ports::{DeliveryStore, EventStore};
use serde_json::{Value, json};

use crate::http::{json_response, problem_response};
use crate::problem::Problem;

pub struct EventReader {
    pub events: Arc<dyn EventStore>,
    pub deliveries: Arc<dyn DeliveryStore>,
}

impl EventReader {
    pub async fn get(&self, tenant: &TenantId, event_id: &str) -> ApiGatewayProxyResponse {
        let stored = match self.events.get(tenant, event_id).await {
            Ok(Some(stored)) => stored,
            Ok(None) => return problem_response(&Problem::not_found(format!("No event {event_id}."))),
            Err(error) => {
                tracing::error!(%error, event_id, "event lookup failed");
                return problem_response(&Problem::internal());
            }
        };
        let deliveries = match self.deliveries.list(tenant, event_id).await {
            Ok(deliveries) => deliveries,
            Err(error) => {
                tracing::error!(%error, event_id, "delivery lookup failed");
                return problem_response(&Problem::internal());
            }
        };
        let event = stored.event;
        let mut body = json!({
            "id": event.id,
            "type": event.event_type,
            "received_at": event.received_at,
            "data": event.data,
            "deliveries": deliveries,
        });
        for (field, value) in [
            ("source", event.source),
            ("subject", event.subject),
            ("time", event.time),
        ] {
            if let Some(value) = value {
                body[field] = Value::String(value);
            }
        }
        json_response(200, &body)
    }
}
