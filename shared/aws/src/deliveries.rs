//! Delivery records in DynamoDB: `pk = <tenant>#<event id>`, sort key `subscription_id`, so an
//! event's deliveries are one `Query`. A record is created by its delivery's first write (a
//! provider sender's claim, or any sender's first outcome) and every attempt updates it with
//! one conditional `UpdateItem`, never past a final state.

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder;
use aws_sdk_dynamodb::types::{ReturnValue, ReturnValuesOnConditionCheckFailure};
use notifier_domain::DomainError;
use notifier_domain::delivery::{AttemptOutcome, Delivery, DeliveryStatus};
use notifier_domain::ids::TenantId;
use notifier_domain::ports::{ClaimOutcome, DeliveryRef, DeliveryStore};
use notifier_domain::subscription::Channel;

use crate::dynamo::{Item, get_n, get_opt_n, get_opt_s, get_s, n, s};
use crate::events::event_key;
use crate::{AdapterError, now_rfc3339};

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

    /// An update of `delivery`'s record with the values every update uses bound.
    fn update(&self, delivery: &DeliveryRef) -> UpdateItemFluentBuilder {
        self.client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(event_key(&delivery.tenant, &delivery.event_id)))
            .key("subscription_id", s(&delivery.subscription_id))
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":now", s(now_rfc3339()))
            .expression_attribute_values(":channel", s(delivery.channel.as_str()))
            .expression_attribute_values(":expires", n(delivery.expires_at))
            .expression_attribute_values(":delivered", s(DeliveryStatus::Delivered.as_str()))
            .expression_attribute_values(":failed", s(DeliveryStatus::Failed.as_str()))
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
}

#[async_trait]
impl DeliveryStore for DynamoDeliveryStore {
    async fn claim(
        &self,
        delivery: &DeliveryRef,
        now_ms: u64,
        until_ms: u64,
    ) -> Result<ClaimOutcome, DomainError> {
        let result = self
            .update(delivery)
            .update_expression(
                "SET claim_until = :until, #status = if_not_exists(#status, :pending), \
                 attempts = if_not_exists(attempts, :zero), updated_at = if_not_exists(updated_at, :now), \
                 channel = if_not_exists(channel, :channel), expires_at = if_not_exists(expires_at, :expires)",
            )
            .condition_expression(
                "attribute_not_exists(pk) OR (NOT (#status IN (:delivered, :failed)) \
                 AND (attribute_not_exists(claim_until) OR claim_until <= :now_ms))",
            )
            .expression_attribute_values(":until", n(until_ms))
            .expression_attribute_values(":now_ms", n(now_ms))
            .expression_attribute_values(":pending", s(DeliveryStatus::Pending.as_str()))
            .expression_attribute_values(":zero", n(0))
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

    async fn record(
        &self,
        delivery: &DeliveryRef,
        outcome: &AttemptOutcome,
        attempted: bool,
    ) -> Result<(), DomainError> {
        let mut set = vec![
            "#status = :status",
            "attempts = if_not_exists(attempts, :zero) + :attempted",
            "updated_at = :now",
            "channel = if_not_exists(channel, :channel)",
            "expires_at = if_not_exists(expires_at, :expires)",
        ];
        let mut remove = vec!["claim_until"];
        let mut update = self
            .update(delivery)
            .expression_attribute_values(":status", s(outcome.status.as_str()))
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":attempted", n(u32::from(attempted)));
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
        let expression = format!("SET {} REMOVE {}", set.join(", "), remove.join(", "));
        let result = update
            .update_expression(expression)
            .condition_expression("attribute_not_exists(pk) OR NOT (#status IN (:delivered, :failed))")
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(SdkError::ServiceError(e)) if e.err().is_conditional_check_failed_exception() => {
                tracing::info!(
                    event_id = delivery.event_id,
                    subscription_id = delivery.subscription_id,
                    "delivery already final; left as is"
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
