//! What travels on the queues between the stages. Each queue carries one versioned, tagged
//! enum, so a stage can tell a message it does not understand from a corrupt one and a future
//! version can be rolled out beside the current one.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;

use crate::DomainError;
use crate::ids::TenantId;

/// An accepted event, as stored and as routed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub id: String,
    #[serde(rename = "type")]
    pub event_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
    pub received_at: String,
    pub data: Value,
}

/// Ingest → router: one accepted event to fan out to the tenant's subscriptions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "version")]
pub enum RoutingMessage {
    #[serde(rename = "1")]
    V1 { tenant_id: TenantId, event: Event },
}

/// Router → one channel sender: deliver one event to one subscription.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "version")]
pub enum DeliveryMessage {
    #[serde(rename = "1")]
    V1 {
        tenant_id: TenantId,
        subscription_id: String,
        event: Event,
    },
}

/// A routing message as the router reads it: the event stays raw JSON (only its id and type
/// are looked at), so fanning it out to N subscriptions copies its text N times instead of
/// parsing and re-serialising it N times.
#[derive(Debug, Deserialize)]
pub struct RoutingEnvelope {
    version: String,
    pub tenant_id: TenantId,
    pub event: Box<RawValue>,
}

/// The parts of an event routing needs.
#[derive(Debug, Deserialize)]
pub struct EventHead {
    pub id: String,
    #[serde(rename = "type")]
    pub event_type: String,
}

impl RoutingEnvelope {
    /// Parses a routing message body (any version this build understands).
    pub fn parse(body: Option<&str>) -> Result<(Self, EventHead), DomainError> {
        let envelope: Self = parse_message(body)?;
        if envelope.version != "1" {
            return Err(DomainError::InvalidMessage(format!(
                "unknown variant `{}`, expected `1`",
                envelope.version
            )));
        }
        let head = serde_json::from_str(envelope.event.get())
            .map_err(|e| DomainError::InvalidMessage(format!("event: {e}")))?;
        Ok((envelope, head))
    }

    /// The body of the `DeliveryMessage` of this event to one subscription.
    pub fn delivery_body(&self, subscription_id: &str) -> String {
        let tenant = serde_json::to_string(&self.tenant_id).unwrap_or_default();
        let subscription = serde_json::to_string(subscription_id).unwrap_or_default();
        let event = self.event.get();
        let mut body = String::with_capacity(event.len() + tenant.len() + subscription.len() + 64);
        body.push_str(r#"{"version":"1","tenant_id":"#);
        body.push_str(&tenant);
        body.push_str(r#","subscription_id":"#);
        body.push_str(&subscription);
        body.push_str(r#","event":"#);
        body.push_str(event);
        body.push('}');
        body
    }
}

/// Parses a queue message body, naming what was wrong with it.
pub fn parse_message<T: for<'de> Deserialize<'de>>(body: Option<&str>) -> Result<T, DomainError> {
    let body = body.ok_or_else(|| DomainError::InvalidMessage("empty message body".into()))?;
    serde_json::from_str(body).map_err(|e| DomainError::InvalidMessage(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample_event() -> Event {
        Event {
            id: "evt_1".into(),
            event_type: "order.paid".into(),
            source: None,
            subject: Some("ord_1".into()),
            time: None,
            received_at: "2026-12-03T10:00:00Z".into(),
            data: json!({"order_id": "ord_1"}),
        }
    }

    #[test]
    fn routing_message_round_trips_with_version_tag() {
        let message = RoutingMessage::V1 {
            tenant_id: TenantId("ten_a".into()),
            event: sample_event(),
        };
        let text = serde_json::to_string(&message).unwrap();
        assert!(text.contains(r#""version":"1""#), "{text}");
        assert_eq!(parse_message::<RoutingMessage>(Some(&text)).unwrap(), message);
    }

    #[test]
    fn a_delivery_body_built_from_the_raw_event_is_the_typed_message() {
        let routing = RoutingMessage::V1 {
            tenant_id: TenantId("ten_\"a".into()),
            event: sample_event(),
        };
        let text = serde_json::to_string(&routing).unwrap();
        let (envelope, head) = RoutingEnvelope::parse(Some(&text)).unwrap();
        assert_eq!(
            (head.id.as_str(), head.event_type.as_str()),
            ("evt_1", "order.paid")
        );
        let body = envelope.delivery_body("sub_\\1");
        let expected = DeliveryMessage::V1 {
            tenant_id: TenantId("ten_\"a".into()),
            subscription_id: "sub_\\1".into(),
            event: sample_event(),
        };
        assert_eq!(parse_message::<DeliveryMessage>(Some(&body)).unwrap(), expected);
        let unknown = text.replace(r#""version":"1""#, r#""version":"2""#);
        let error = RoutingEnvelope::parse(Some(&unknown)).unwrap_err();
        assert!(error.to_string().contains("unknown variant `2`"), "{error}");
    }

    #[test]
    fn unknown_version_and_garbage_are_rejected_with_a_reason() {
        let err = parse_message::<RoutingMessage>(Some(r#"{"version":"9"}"#)).unwrap_err();
        assert!(err.to_string().contains("unknown variant"), "{err}");
        assert!(parse_message::<DeliveryMessage>(Some("not json")).is_err());
        assert!(parse_message::<DeliveryMessage>(None).is_err());
    }
}
