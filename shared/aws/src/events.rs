//! Events in DynamoDB: one item per event under `pk = <tenant>#<event id>`. Inserting is a
//! single conditional `PutItem`; when the id is taken, the stored item comes back with the
//! failed condition, so judging a repeated request costs no extra read.

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure;
use notifier_domain::DomainError;
use notifier_domain::ids::TenantId;
use notifier_domain::messages::Event;
use notifier_domain::ports::{EventStore, InsertOutcome, StoredEvent};

use crate::AdapterError;
use crate::dynamo::{Item, get_n, get_s, n, s};

#[derive(Clone)]
pub struct DynamoEventStore {
    client: Client,
    table: String,
}

pub fn event_key(tenant: &TenantId, event_id: &str) -> String {
    format!("{tenant}#{event_id}")
}

impl DynamoEventStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    fn read_item(&self, item: &Item) -> Result<StoredEvent, AdapterError> {
        let event: Event = serde_json::from_str(&get_s(item, &self.table, "event")?).map_err(|e| {
            AdapterError::Malformed {
                table: self.table.clone(),
                detail: format!("event attribute: {e}"),
            }
        })?;
        Ok(StoredEvent {
            event,
            fingerprint: get_s(item, &self.table, "fingerprint")?,
            accepted_at_ms: get_n(item, &self.table, "accepted_at_ms")?,
            expires_at: get_n(item, &self.table, "expires_at")?,
        })
    }
}

#[async_trait]
impl EventStore for DynamoEventStore {
    async fn insert_new(
        &self,
        tenant: &TenantId,
        stored: &StoredEvent,
    ) -> Result<InsertOutcome, DomainError> {
        let event_json = serde_json::to_string(&stored.event)
            .map_err(|e| DomainError::Storage(format!("event did not serialise: {e}")))?;
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(event_key(tenant, &stored.event.id)))
            .item("event", s(event_json))
            .item("fingerprint", s(&stored.fingerprint))
            .item("accepted_at_ms", n(stored.accepted_at_ms))
            .item("expires_at", n(stored.expires_at))
            .condition_expression("attribute_not_exists(pk)")
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(_) => Ok(InsertOutcome::Inserted),
            Err(SdkError::ServiceError(failure)) if failure.err().is_conditional_check_failed_exception() => {
                let PutItemError::ConditionalCheckFailedException(conflict) = failure.into_err() else {
                    unreachable!("checked above")
                };
                let existing = match conflict.item {
                    Some(item) => self.read_item(&item)?,
                    // An emulator that does not return the old item: read it.
                    None => self
                        .get(tenant, &stored.event.id)
                        .await?
                        .ok_or(DomainError::NotFound)?,
                };
                Ok(InsertOutcome::Exists {
                    fingerprint: existing.fingerprint,
                    accepted_at_ms: existing.accepted_at_ms,
                })
            }
            Err(error) => Err(AdapterError::service("PutItem (event)", error).into()),
        }
    }

    async fn withdraw(
        &self,
        tenant: &TenantId,
        event_id: &str,
        accepted_at_ms: u64,
    ) -> Result<(), DomainError> {
        // Only the request that stored the event may withdraw it.
        self.client
            .delete_item()
            .table_name(&self.table)
            .key("pk", s(event_key(tenant, event_id)))
            .condition_expression("accepted_at_ms = :mine")
            .expression_attribute_values(":mine", n(accepted_at_ms))
            .send()
            .await
            .map_err(|e| AdapterError::service("DeleteItem (event)", e))?;
        Ok(())
    }

    async fn get(&self, tenant: &TenantId, event_id: &str) -> Result<Option<StoredEvent>, DomainError> {
        let item = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(event_key(tenant, event_id)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| AdapterError::service("GetItem (event)", e))?
            .item;
        Ok(item.map(|item| self.read_item(&item)).transpose()?)
    }
}
