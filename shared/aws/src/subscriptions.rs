//! Subscriptions in DynamoDB, keyed by (tenant_id, subscription_id): a tenant's whole list is
//! one `Query`, never a scan. The subscription itself is stored as one JSON document.

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::SdkError;
use notifier_domain::DomainError;
use notifier_domain::ids::TenantId;
use notifier_domain::ports::SubscriptionStore;
use notifier_domain::subscription::Subscription;

use crate::AdapterError;
use crate::dynamo::{Item, get_s, s};

#[derive(Clone)]
pub struct DynamoSubscriptionStore {
    client: Client,
    table: String,
}

impl DynamoSubscriptionStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    fn read_item(&self, item: &Item) -> Result<Subscription, AdapterError> {
        serde_json::from_str(&get_s(item, &self.table, "doc")?).map_err(|e| AdapterError::Malformed {
            table: self.table.clone(),
            detail: format!("subscription document: {e}"),
        })
    }

    async fn put(
        &self,
        tenant: &TenantId,
        subscription: &Subscription,
        condition: &str,
    ) -> Result<bool, DomainError> {
        let doc = serde_json::to_string(subscription)
            .map_err(|e| DomainError::Storage(format!("subscription did not serialise: {e}")))?;
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("tenant_id", s(&tenant.0))
            .item("subscription_id", s(&subscription.subscription_id))
            .item("doc", s(doc))
            .condition_expression(condition)
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(SdkError::ServiceError(e)) if e.err().is_conditional_check_failed_exception() => Ok(false),
            Err(error) => Err(AdapterError::service("PutItem (subscription)", error).into()),
        }
    }
}

#[async_trait]
impl SubscriptionStore for DynamoSubscriptionStore {
    async fn insert(&self, tenant: &TenantId, subscription: &Subscription) -> Result<(), DomainError> {
        match self
            .put(tenant, subscription, "attribute_not_exists(subscription_id)")
            .await?
        {
            true => Ok(()),
            false => Err(DomainError::Storage("subscription id collision".into())),
        }
    }

    async fn list(&self, tenant: &TenantId) -> Result<Vec<Subscription>, DomainError> {
        let mut pages = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("tenant_id = :tenant")
            .expression_attribute_values(":tenant", s(&tenant.0))
            .into_paginator()
            .items()
            .send();
        let mut subscriptions = Vec::new();
        while let Some(item) = pages.next().await {
            let item = item.map_err(|e| AdapterError::service("Query (subscriptions)", e))?;
            subscriptions.push(self.read_item(&item)?);
        }
        subscriptions.sort_by(|a, b| {
            a.created_at
                .cmp(&b.created_at)
                .then(a.subscription_id.cmp(&b.subscription_id))
        });
        Ok(subscriptions)
    }

    async fn get(
        &self,
        tenant: &TenantId,
        subscription_id: &str,
    ) -> Result<Option<Subscription>, DomainError> {
        let item = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("tenant_id", s(&tenant.0))
            .key("subscription_id", s(subscription_id))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| AdapterError::service("GetItem (subscription)", e))?
            .item;
        Ok(item.map(|item| self.read_item(&item)).transpose()?)
    }

    async fn replace(&self, tenant: &TenantId, subscription: &Subscription) -> Result<bool, DomainError> {
        self.put(tenant, subscription, "attribute_exists(subscription_id)")
            .await
    }

    async fn delete(&self, tenant: &TenantId, subscription_id: &str) -> Result<bool, DomainError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key("tenant_id", s(&tenant.0))
            .key("subscription_id", s(subscription_id))
            .condition_expression("attribute_exists(subscription_id)")
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(SdkError::ServiceError(e)) if e.err().is_conditional_check_failed_exception() => Ok(false),
            Err(error) => Err(AdapterError::service("DeleteItem (subscription)", error).into()),
        }
    }
}
