//! Events in DynamoDB: one item per event under `pk = <tenant>#<event id>`. Inserting is a
//! single conditional `PutItem`; when the id is taken, the stored item comes back with the
//! failed condition, so judging a repeated request costs no extra read. A batch is one
//! `TransactWriteItems` of conditional puts (up to 100): one request instead of one per event,
//! at twice the write units per item (DynamoDB's price for transactions).

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::timeout::TimeoutConfig;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{Put, ReturnValuesOnConditionCheckFailure, TransactWriteItem};
use notifier_domain::DomainError;
use notifier_domain::ids::TenantId;
use notifier_domain::messages::Event;
use notifier_domain::ports::{EventStore, InsertOutcome, StoredEvent};

use crate::AdapterError;
use crate::dynamo::{Item, get_n, get_s, n, s};

/// DynamoDB's limit on items per transaction.
const TRANSACTION_LIMIT: usize = 100;
/// Transactions tried for a batch before giving up on the events still not written (a
/// transaction is retried without the events that turned out to exist already).
const TRANSACTION_ROUNDS: usize = 3;

#[derive(Clone)]
pub struct DynamoEventStore {
    client: Client,
    table: String,
    /// A batch transaction's own time limit, when it needs more than the client's.
    transaction_timeout: Option<Duration>,
}

pub fn event_key(tenant: &TenantId, event_id: &str) -> String {
    format!("{tenant}#{event_id}")
}

impl DynamoEventStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
            transaction_timeout: None,
        }
    }

    /// Gives batch transactions (up to 100 writes) `timeout` instead of the client's limits.
    pub fn with_transaction_timeout(mut self, timeout: Duration) -> Self {
        self.transaction_timeout = Some(timeout);
        self
    }

    fn item(&self, tenant: &TenantId, stored: &StoredEvent) -> Result<Item, DomainError> {
        let event_json = serde_json::to_string(&stored.event)
            .map_err(|e| DomainError::Storage(format!("event did not serialise: {e}")))?;
        Ok(Item::from([
            ("pk".to_owned(), s(event_key(tenant, &stored.event.id))),
            ("event".to_owned(), s(event_json)),
            ("fingerprint".to_owned(), s(&stored.fingerprint)),
            ("accepted_at_ms".to_owned(), n(stored.accepted_at_ms)),
            ("expires_at".to_owned(), n(stored.expires_at)),
        ]))
    }

    /// What a taken id holds, from the item returned with the failed condition or, from an
    /// emulator that returns none, read.
    async fn existing(
        &self,
        tenant: &TenantId,
        event_id: &str,
        item: Option<&Item>,
    ) -> Result<InsertOutcome, DomainError> {
        let existing = match item {
            Some(item) => self.read_item(item)?,
            None => self.get(tenant, event_id).await?.ok_or(DomainError::NotFound)?,
        };
        Ok(InsertOutcome::Exists {
            fingerprint: existing.fingerprint,
            accepted_at_ms: existing.accepted_at_ms,
        })
    }

    /// One transaction over `chunk` (indexes into `events`): fills in the outcome of each event
    /// it settles and answers with those to try again.
    async fn transact(
        &self,
        tenant: &TenantId,
        events: &[StoredEvent],
        chunk: &[usize],
        outcomes: &mut [Option<InsertOutcome>],
    ) -> Result<Vec<usize>, DomainError> {
        let items = chunk
            .iter()
            .map(|&index| {
                let put = Put::builder()
                    .table_name(&self.table)
                    .set_item(Some(self.item(tenant, &events[index])?))
                    .condition_expression("attribute_not_exists(pk)")
                    .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
                    .build()
                    .map_err(|e| AdapterError::service("build event put", e))?;
                Ok(TransactWriteItem::builder().put(put).build())
            })
            .collect::<Result<Vec<_>, DomainError>>()?;
        let mut request = self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .customize();
        if let Some(timeout) = self.transaction_timeout {
            let limits = TimeoutConfig::builder()
                .operation_attempt_timeout(timeout)
                .operation_timeout(timeout)
                .build();
            request =
                request.config_override(aws_sdk_dynamodb::config::Builder::default().timeout_config(limits));
        }
        let result = request.send().await;
        match result {
            Ok(_) => {
                for &index in chunk {
                    outcomes[index] = Some(InsertOutcome::Inserted);
                }
                Ok(Vec::new())
            }
            Err(SdkError::ServiceError(failure)) if failure.err().is_transaction_canceled_exception() => {
                let TransactWriteItemsError::TransactionCanceledException(cancelled) = failure.into_err()
                else {
                    unreachable!("checked above")
                };
                let reasons = cancelled.cancellation_reasons();
                let mut again = Vec::new();
                for (position, &index) in chunk.iter().enumerate() {
                    let reason = reasons.get(position);
                    if reason.and_then(|r| r.code()) == Some("ConditionalCheckFailed") {
                        let item = reason.and_then(|r| r.item());
                        outcomes[index] = Some(self.existing(tenant, &events[index].event.id, item).await?);
                    } else {
                        // Rolled back for another item's sake (code "None"), or a conflict.
                        again.push(index);
                    }
                }
                Ok(again)
            }
            Err(error) => Err(AdapterError::service("TransactWriteItems (events)", error).into()),
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
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(self.item(tenant, stored)?))
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
                self.existing(tenant, &stored.event.id, conflict.item.as_ref())
                    .await
            }
            Err(error) => Err(AdapterError::service("PutItem (event)", error).into()),
        }
    }

    async fn insert_batch(
        &self,
        tenant: &TenantId,
        events: &[StoredEvent],
    ) -> Result<Vec<InsertOutcome>, DomainError> {
        let mut outcomes: Vec<Option<InsertOutcome>> = events.iter().map(|_| None).collect();
        let mut pending: Vec<usize> = (0..events.len()).collect();
        for _ in 0..TRANSACTION_ROUNDS {
            if let [only] = pending[..] {
                // One event needs no transaction (which would cost twice the write units).
                outcomes[only] = Some(self.insert_new(tenant, &events[only]).await?);
                pending.clear();
            }
            let mut again = Vec::new();
            for chunk in pending.chunks(TRANSACTION_LIMIT) {
                again.extend(self.transact(tenant, events, chunk, &mut outcomes).await?);
            }
            pending = again;
            if pending.is_empty() {
                break;
            }
        }
        outcomes
            .into_iter()
            .map(|outcome| {
                outcome.ok_or_else(|| DomainError::Storage("event transactions kept being cancelled".into()))
            })
            .collect()
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
