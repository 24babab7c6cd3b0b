//! What travels on the queues between the stages. Each queue carries one versioned, tagged
//! enum, so a stage can tell a message it does not understand from a corrupt one and a future
//! version can be rolled out beside the current one.

use serde::{Deserialize, Serialize};
use serde_json::Value;

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
    fn unknown_version_and_garbage_are_rejected_with_a_reason() {
        let err = parse_message::<RoutingMessage>(Some(r#"{"version":"9"}"#)).unwrap_err();
        assert!(err.to_string().contains("unknown variant"), "{err}");
        assert!(parse_message::<DeliveryMessage>(Some("not json")).is_err());
        assert!(parse_message::<DeliveryMessage>(None).is_err());
    }
}
