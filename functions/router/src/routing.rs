//! Routing one event: find the tenant's subscriptions that want it, record one pending delivery
//! per subscription, and queue each on its channel. Safe to repeat: records that exist are kept,
//! and senders ignore deliveries already final.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lambda_events::event::sqs::SqsMessage;
use notifier_domain::DomainError;
use notifier_domain::cache::TtlCache;
use notifier_domain::ids::TenantId;
use notifier_domain::messages::{DeliveryMessage, RoutingMessage, parse_message};
use notifier_domain::ports::{DeliveryDispatcher, DeliveryStore, NewDelivery, SubscriptionStore};
use notifier_domain::subscription::Subscription;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum RouteError {
    #[error(transparent)]
    Domain(#[from] DomainError),
    #[error("{0} of the event's deliveries could not be queued")]
    NotAllQueued(usize),
}

pub struct Router {
    pub subscriptions: Arc<dyn SubscriptionStore>,
    pub cache: TtlCache<TenantId, Arc<Vec<Subscription>>>,
    pub deliveries: Arc<dyn DeliveryStore>,
    pub dispatcher: Arc<dyn DeliveryDispatcher>,
    pub retention: Duration,
}

impl Router {
    pub async fn route_record(&self, record: SqsMessage) -> Result<(), RouteError> {
        let RoutingMessage::V1 { tenant_id, event } = parse_message(record.body.as_deref())?;
        let subscriptions = self.subscriptions_of(&tenant_id).await?;
        let matching: Vec<&Subscription> = subscriptions
            .iter()
            .filter(|s| s.wants(&event.event_type))
            .collect();
        tracing::info!(tenant = %tenant_id, event_id = event.id, deliveries = matching.len(), "routing");
        if matching.is_empty() {
            return Ok(());
        }
        let new: Vec<NewDelivery> = matching
            .iter()
            .map(|s| NewDelivery {
                subscription_id: s.subscription_id.clone(),
                channel: s.channel,
            })
            .collect();
        let expires_at = unix_now() + self.retention.as_secs();
        self.deliveries
            .create_pending(&tenant_id, &event.id, &new, expires_at)
            .await?;
        let messages: Vec<_> = matching
            .iter()
            .map(|s| {
                let message = DeliveryMessage::V1 {
                    tenant_id: tenant_id.clone(),
                    subscription_id: s.subscription_id.clone(),
                    event: event.clone(),
                };
                (s.channel, message)
            })
            .collect();
        let failed = self.dispatcher.dispatch(&messages).await?;
        if failed.is_empty() {
            Ok(())
        } else {
            Err(RouteError::NotAllQueued(failed.len()))
        }
    }

    async fn subscriptions_of(&self, tenant: &TenantId) -> Result<Arc<Vec<Subscription>>, DomainError> {
        if let Some(cached) = self.cache.get(tenant) {
            return Ok(cached);
        }
        let fresh = Arc::new(self.subscriptions.list(tenant).await?);
        self.cache.insert(tenant.clone(), fresh.clone());
        Ok(fresh)
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}
