//! `/v1/subscriptions`: create, list, read, change, delete, and rotate a webhook's secret.
//! Every operation is scoped to the calling tenant; another tenant's id is simply not found.

use std::sync::Arc;

use aws_lambda_events::apigw::{ApiGatewayProxyRequest, ApiGatewayProxyResponse};
use notifier_domain::ids::{TenantId, new_id};
use notifier_domain::ports::SubscriptionStore;
use notifier_domain::signing::new_secret;
use notifier_domain::subscription::{Channel, Subscription, SubscriptionRules, check_target, read_fields};
use serde_json::{Value, json};

use crate::http::{empty_response, json_object, json_response};
use crate::problem::Problem;

pub struct SubscriptionApi {
    pub store: Arc<dyn SubscriptionStore>,
    pub rules: SubscriptionRules,
}

pub type Outcome = Result<ApiGatewayProxyResponse, Problem>;

/// A subscription as `GET` shows it: everything but the secret.
fn public_view(subscription: &Subscription) -> Value {
    let mut view = serde_json::to_value(subscription).unwrap_or_default();
    if let Some(object) = view.as_object_mut() {
        object.remove("secret");
        object.insert("id".into(), json!(subscription.subscription_id));
        object.remove("subscription_id");
    }
    view
}

fn storage_failure(error: notifier_domain::DomainError) -> Problem {
    tracing::error!(%error, "subscription storage failed");
    Problem::internal()
}

fn not_found(subscription_id: &str) -> Problem {
    Problem::not_found(format!("No subscription {subscription_id}."))
}

impl SubscriptionApi {
    pub async fn create(&self, tenant: &TenantId, request: &ApiGatewayProxyRequest) -> Outcome {
        let body = json_object(request)?;
        let (fields, mut errors) = read_fields(&body, true);
        if let (Some(channel), Some(target)) = (fields.channel, &fields.target) {
            let template = fields.template.as_ref().and_then(Option::as_ref);
            errors.extend(
                check_target(channel, target, template, &self.rules)
                    .err()
                    .unwrap_or_default(),
            );
        }
        let (Some(event_types), Some(channel), Some(target), true) = (
            fields.event_types,
            fields.channel,
            fields.target,
            errors.is_empty(),
        ) else {
            return Err(Problem::invalid(errors));
        };
        let template = fields.template.flatten();
        let now = notifier_aws::now_rfc3339();
        let subscription = Subscription {
            subscription_id: new_id("sub"),
            event_types,
            channel,
            target,
            template,
            description: fields.description.flatten(),
            enabled: fields.enabled.unwrap_or(true),
            secret: (channel == Channel::Webhook).then(new_secret),
            created_at: now.clone(),
            updated_at: now,
        };
        self.store
            .insert(tenant, &subscription)
            .await
            .map_err(storage_failure)?;
        let mut view = public_view(&subscription);
        if let Some(secret) = &subscription.secret {
            view["secret"] = json!(secret);
        }
        Ok(json_response(201, &view))
    }

    pub async fn list(&self, tenant: &TenantId) -> Outcome {
        let subscriptions = self.store.list(tenant).await.map_err(storage_failure)?;
        let data: Vec<Value> = subscriptions.iter().map(public_view).collect();
        Ok(json_response(200, &json!({ "data": data })))
    }

    pub async fn get(&self, tenant: &TenantId, subscription_id: &str) -> Outcome {
        let subscription = self.existing(tenant, subscription_id).await?;
        Ok(json_response(200, &public_view(&subscription)))
    }

    pub async fn update(
        &self,
        tenant: &TenantId,
        subscription_id: &str,
        request: &ApiGatewayProxyRequest,
    ) -> Outcome {
        let body = json_object(request)?;
        let mut subscription = self.existing(tenant, subscription_id).await?;
        let (fields, mut errors) = read_fields(&body, false);
        if let Some(event_types) = fields.event_types {
            subscription.event_types = event_types;
        }
        if let Some(target) = fields.target {
            subscription.target = target;
        }
        if let Some(template) = fields.template {
            subscription.template = template;
        }
        if let Some(description) = fields.description {
            subscription.description = description;
        }
        if let Some(enabled) = fields.enabled {
            subscription.enabled = enabled;
        }
        let template = subscription.template.as_ref();
        let target_errors = check_target(subscription.channel, &subscription.target, template, &self.rules);
        errors.extend(target_errors.err().unwrap_or_default());
        if !errors.is_empty() {
            return Err(Problem::invalid(errors));
        }
        self.save(tenant, &mut subscription).await?;
        Ok(json_response(200, &public_view(&subscription)))
    }

    pub async fn delete(&self, tenant: &TenantId, subscription_id: &str) -> Outcome {
        match self
            .store
            .delete(tenant, subscription_id)
            .await
            .map_err(storage_failure)?
        {
            true => Ok(empty_response(204)),
            false => Err(not_found(subscription_id)),
        }
    }

    pub async fn rotate_secret(&self, tenant: &TenantId, subscription_id: &str) -> Outcome {
        let mut subscription = self.existing(tenant, subscription_id).await?;
        if subscription.channel != Channel::Webhook {
            return Err(Problem::invalid(vec![
                notifier_domain::validation::FieldError::new(
                    "channel",
                    "only webhook subscriptions have a signing secret",
                ),
            ]));
        }
        let secret = new_secret();
        subscription.secret = Some(secret.clone());
        self.save(tenant, &mut subscription).await?;
        Ok(json_response(200, &json!({ "secret": secret })))
    }

    /// Stores a changed subscription; it may have been deleted meanwhile.
    async fn save(&self, tenant: &TenantId, subscription: &mut Subscription) -> Result<(), Problem> {
        subscription.updated_at = notifier_aws::now_rfc3339();
        match self
            .store
            .replace(tenant, subscription)
            .await
            .map_err(storage_failure)?
        {
            true => Ok(()),
            false => Err(not_found(&subscription.subscription_id)),
        }
    }

    async fn existing(&self, tenant: &TenantId, subscription_id: &str) -> Result<Subscription, Problem> {
        self.store
            .get(tenant, subscription_id)
            .await
            .map_err(storage_failure)?
            .ok_or_else(|| not_found(subscription_id))
    }
}
