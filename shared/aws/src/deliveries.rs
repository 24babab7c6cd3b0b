//! Delivery records in DynamoDB: `pk = <tenant>#<event id>`, sort key `subscription_id`, so an
//! event's deliveries are one `Query`. Records are created `pending` in one transaction when the
//! event is routed, and every attempt updates its record, never past a final state.

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{Put, ReturnValue, ReturnValuesOnConditionCheckFailure, TransactWriteItem};
use notifier_domain::DomainError;
use notifier_domain::delivery::{AttemptOutcome, Delivery, DeliveryStatus};
use notifier_domain::ids::TenantId;
use notifier_domain::ports::{ClaimOutcome, DeliveryStore, NewDelivery};
use notifier_domain::subscription::Channel;

use crate::dynamo::{Item, get_n, get_opt_n, get_opt_s, get_s, n, s};
use crate::events::event_key;
use crate::{AdapterError, now_rfc3339};

/// DynamoDB's limit on items per transaction.
const TRANSACTION_LIMIT: usize = 100;

#[derive(Clone)]
pub struct DynamoDeliveryStore {
    client: Client,
    table: String,
}

impl DynamoDeliveryStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    fn pending_put(
        &self,
        pk: &str,
        delivery: &NewDelivery,
        now: &str,
        expires_at: u64,
    ) -> Result<Put, AdapterError> {
        Put::builder()
            .table_name(&self.table)
            .item("pk", s(pk))
            .item("subscription_id", s(&delivery.subscription_id))
            .item("channel", s(delivery.channel.as_str()))
            .item("status", s(DeliveryStatus::Pending.as_str()))
            .item("attempts", n(0))
            .item("updated_at", s(now))
            .item("expires_at", n(expires_at))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(|e| AdapterError::service("build delivery put", e))
    }

    fn read_item(&self, item: &Item) -> Result<Delivery, AdapterError> {
        let malformed = |detail: &str| AdapterError::Malformed {
            table: self.table.clone(),
            detail: detail.into(),
        };
        Ok(Delivery {
            subscription_id: get_s(item, &self.table, "subscription_id")?,
            channel: Channel::parse(&get_s(item, &self.table, "channel")?)
                .ok_or_else(|| malformed("channel"))?,
            status: DeliveryStatus::parse(&get_s(item, &self.table, "status")?)
                .ok_or_else(|| malformed("status"))?,
            attempts: get_n(item, &self.table, "attempts")?,
            last_status_code: get_opt_n(item, "last_status_code"),
            last_error: get_opt_s(item, "last_error"),
            updated_at: get_s(item, &self.table, "updated_at")?,
        })
    }

    /// One conditional put per record: the fallback when a transaction met records that a
    /// previous routing attempt already created.
    async fn create_missing(&self, puts: Vec<Put>) -> Result<(), DomainError> {
        for put in puts {
            let result = self
                .client
                .put_item()
                .table_name(put.table_name())
                .set_item(Some(put.item().clone()))
                .condition_expression("attribute_not_exists(pk)")
                .send()
                .await;
            match result {
                Ok(_) => {}
                Err(SdkError::ServiceError(e)) if e.err().is_conditional_check_failed_exception() => {}
                Err(error) => return Err(AdapterError::service("PutItem (delivery)", error).into()),
            }
        }
        Ok(())
    }
}

#[async_trait]
impl DeliveryStore for DynamoDeliveryStore {
    async fn claim(
        &self,
        tenant: &TenantId,
        event_id: &str,
        subscription_id: &str,
        now_ms: u64,
        until_ms: u64,
    ) -> Result<ClaimOutcome, DomainError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(event_key(tenant, event_id)))
            .key("subscription_id", s(subscription_id))
            .update_expression("SET claim_until = :until")
            .condition_expression(
                "attribute_exists(pk) AND NOT (#status IN (:delivered, :failed)) \
                 AND (attribute_not_exists(claim_until) OR claim_until <= :now)",
            )
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":until", n(until_ms))
            .expression_attribute_values(":now", n(now_ms))
            .expression_attribute_values(":delivered", s(DeliveryStatus::Delivered.as_str()))
            .expression_attribute_values(":failed", s(DeliveryStatus::Failed.as_str()))
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(output) => {
                let attempts = output
                    .attributes
                    .as_ref()
                    .and_then(|item| get_opt_n(item, "attempts"))
                    .unwrap_or(0);
                Ok(ClaimOutcome::Claimed { attempts })
            }
            Err(SdkError::ServiceError(failure)) if failure.err().is_conditional_check_failed_exception() => {
                let UpdateItemError::ConditionalCheckFailedException(conflict) = failure.into_err() else {
                    unreachable!("checked above")
                };
                let status = conflict.item.as_ref().and_then(|item| get_opt_s(item, "status"));
                match status.as_deref().and_then(DeliveryStatus::parse) {
                    Some(status) if !status.is_final() => Ok(ClaimOutcome::Busy),
                    _ => Ok(ClaimOutcome::Final),
                }
            }
            Err(error) => Err(AdapterError::service("UpdateItem (claim delivery)", error).into()),
        }
    }

    async fn create_pending(
        &self,
        tenant: &TenantId,
        event_id: &str,
        deliveries: &[NewDelivery],
        expires_at: u64,
    ) -> Result<(), DomainError> {
        let pk = event_key(tenant, event_id);
        let now = now_rfc3339();
        for chunk in deliveries.chunks(TRANSACTION_LIMIT) {
            let puts = chunk
                .iter()
                .map(|delivery| self.pending_put(&pk, delivery, &now, expires_at))
                .collect::<Result<Vec<_>, _>>()?;
            if puts.len() == 1 {
                // A single record needs no transaction (which would cost twice the writes).
                self.create_missing(puts).await?;
                continue;
            }
            let items = puts
                .iter()
                .cloned()
                .map(|put| TransactWriteItem::builder().put(put).build())
                .collect();
            let result = self
                .client
                .transact_write_items()
                .set_transact_items(Some(items))
                .send()
                .await;
            match result {
                Ok(_) => {}
                Err(SdkError::ServiceError(e)) if e.err().is_transaction_canceled_exception() => {
                    self.create_missing(puts).await?;
                }
                Err(error) => {
                    return Err(AdapterError::service("TransactWriteItems (deliveries)", error).into());
                }
            }
        }
        Ok(())
    }

    async fn get(
        &self,
        tenant: &TenantId,
        event_id: &str,
        subscription_id: &str,
    ) -> Result<Option<Delivery>, DomainError> {
        let item = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(event_key(tenant, event_id)))
            .key("subscription_id", s(subscription_id))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| AdapterError::service("GetItem (delivery)", e))?
            .item;
        Ok(item.map(|item| self.read_item(&item)).transpose()?)
    }

    async fn record(
        &self,
        tenant: &TenantId,
        event_id: &str,
        subscription_id: &str,
        attempts: u32,
        outcome: &AttemptOutcome,
    ) -> Result<(), DomainError> {
        let mut set = vec!["#status = :status", "attempts = :attempts", "updated_at = :now"];
        let mut remove = vec!["claim_until"];
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(event_key(tenant, event_id)))
            .key("subscription_id", s(subscription_id))
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":status", s(outcome.status.as_str()))
            .expression_attribute_values(":attempts", n(attempts))
            .expression_attribute_values(":now", s(now_rfc3339()))
            .expression_attribute_values(":delivered", s(DeliveryStatus::Delivered.as_str()))
            .expression_attribute_values(":failed", s(DeliveryStatus::Failed.as_str()));
        match outcome.status_code {
            Some(code) => {
                set.push("last_status_code = :code");
                update = update.expression_attribute_values(":code", n(code));
            }
            None => remove.push("last_status_code"),
        }
        match &outcome.error {
            Some(error) => {
                set.push("last_error = :error");
                update = update.expression_attribute_values(":error", s(error));
            }
            None => remove.push("last_error"),
        }
        let mut expression = format!("SET {}", set.join(", "));
        expression.push_str(&format!(" REMOVE {}", remove.join(", ")));
        let result = update
            .update_expression(expression)
            .condition_expression("attribute_exists(pk) AND NOT (#status IN (:delivered, :failed))")
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(SdkError::ServiceError(e)) if e.err().is_conditional_check_failed_exception() => {
                tracing::warn!(
                    event_id,
                    subscription_id,
                    "delivery record missing or already final; left as is"
                );
                Ok(())
            }
            Err(error) => Err(AdapterError::service("UpdateItem (delivery)", error).into()),
        }
    }

    async fn list(&self, tenant: &TenantId, event_id: &str) -> Result<Vec<Delivery>, DomainError> {
        let mut pages = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", s(event_key(tenant, event_id)))
            .consistent_read(true)
            .into_paginator()
            .items()
            .send();
        let mut deliveries = Vec::new();
        while let Some(item) = pages.next().await {
            let item = item.map_err(|e| AdapterError::service("Query (deliveries)", e))?;
            deliveries.push(self.read_item(&item)?);
        }
        Ok(deliveries)
    }
}
