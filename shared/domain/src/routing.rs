//! Fan-out: the deliveries one event makes, one per enabled subscription that wants its type.

use crate::messages::RoutingEnvelope;
use crate::subscription::{Channel, Subscription};

/// One delivery ready for its channel's queue.
#[derive(Debug, Clone, PartialEq)]
pub struct QueuedDelivery {
    pub channel: Channel,
    /// A serialised `DeliveryMessage`.
    pub body: String,
}

pub fn fan_out(
    envelope: &RoutingEnvelope,
    event_type: &str,
    subscriptions: &[Subscription],
) -> Vec<QueuedDelivery> {
    subscriptions
        .iter()
        .filter(|subscription| subscription.wants(event_type))
        .map(|subscription| QueuedDelivery {
            channel: subscription.channel,
            body: envelope.delivery_body(&subscription.subscription_id),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::ids::TenantId;
    use crate::messages::{DeliveryMessage, Event, RoutingMessage, parse_message};

    fn subscription(id: &str, patterns: &[&str], channel: Channel, enabled: bool) -> Subscription {
        Subscription {
            subscription_id: id.into(),
            event_types: patterns.iter().map(|p| p.to_string()).collect(),
            channel,
            target: json!({}),
            template: None,
            description: None,
            enabled,
            secret: None,
            created_at: "t".into(),
            updated_at: "t".into(),
        }
    }

    #[test]
    fn one_message_per_enabled_matching_subscription() {
        let subscriptions = [
            subscription("sub_exact", &["order.paid"], Channel::Webhook, true),
            subscription("sub_prefix", &["order.*"], Channel::Email, true),
            subscription("sub_off", &["*"], Channel::Webhook, false),
            subscription("sub_other", &["user.*"], Channel::Sms, true),
        ];
        let event = Event {
            id: "evt_1".into(),
            event_type: "order.paid".into(),
            source: None,
            subject: None,
            time: None,
            received_at: "2026-12-03T10:00:00Z".into(),
            data: json!({}),
        };
        let text = serde_json::to_string(&RoutingMessage::V1 {
            tenant_id: TenantId("ten_a".into()),
            event,
        })
        .unwrap();
        let (envelope, head) = RoutingEnvelope::parse(Some(&text)).unwrap();
        let routed: Vec<_> = fan_out(&envelope, &head.event_type, &subscriptions)
            .into_iter()
            .map(|queued| {
                let DeliveryMessage::V1 {
                    subscription_id,
                    event,
                    tenant_id,
                } = parse_message(Some(&queued.body)).unwrap();
                assert_eq!((event.id.as_str(), tenant_id.0.as_str()), ("evt_1", "ten_a"));
                (subscription_id, queued.channel)
            })
            .collect();
        assert_eq!(
            routed,
            [
                ("sub_exact".into(), Channel::Webhook),
                ("sub_prefix".into(), Channel::Email)
            ]
        );
    }
}
