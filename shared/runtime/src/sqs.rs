//! SQS batches with partial failures (`ReportBatchItemFailures`): only the ids of the records
//! that failed go back to SQS, which makes them visible again (and eventually moves them to the
//! dead-letter queue) while the rest are deleted. Records are handled one by one
//! (`run_sqs_consumer`) or as a whole batch that shares its AWS requests
//! (`run_sqs_batch_consumer`).

use std::fmt::Display;
use std::future::Future;

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use futures_util::future::join_all;
use lambda_runtime::{LambdaEvent, service_fn};
use thiserror::Error;

/// The Lambda loop of an SQS-triggered function: every batch goes through `process_batch`.
pub async fn run_sqs_consumer<F, Fut, E>(handle: F) -> Result<(), lambda_runtime::Error>
where
    F: Fn(SqsMessage) -> Fut,
    Fut: Future<Output = Result<(), E>>,
    E: Display,
{
    let handle = &handle;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        process_batch(event.payload, handle).await
    }))
    .await
}

/// The Lambda loop of an SQS-triggered function that handles each batch as a whole: `handle`
/// answers with the records that failed, by their index in the batch, and why.
pub async fn run_sqs_batch_consumer<F, Fut, E>(handle: F) -> Result<(), lambda_runtime::Error>
where
    F: Fn(Vec<SqsMessage>) -> Fut,
    Fut: Future<Output = Vec<(usize, E)>>,
    E: Display,
{
    let handle = &handle;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        let message_ids: Vec<_> = event
            .payload
            .records
            .iter()
            .map(|r| r.message_id.clone())
            .collect();
        let failures = handle(event.payload.records).await;
        report_failures(
            failures
                .into_iter()
                .map(|(index, error)| (message_ids.get(index).cloned().flatten(), error)),
        )
    }))
    .await
}

#[derive(Debug, Error)]
pub enum BatchError {
    /// A failed record without a message id cannot be reported on its own; failing the whole
    /// invocation makes SQS retry the batch instead of deleting that record.
    #[error("a record without a message id failed: {0}")]
    UnidentifiableFailure(String),
}

impl From<BatchError> for lambda_runtime::Diagnostic {
    fn from(error: BatchError) -> Self {
        lambda_runtime::Diagnostic {
            error_type: "BatchError".to_owned(),
            error_message: error.to_string(),
        }
    }
}

/// Runs `handle` on every record concurrently and reports the ones that failed.
pub async fn process_batch<F, Fut, E>(event: SqsEvent, handle: F) -> Result<SqsBatchResponse, BatchError>
where
    F: Fn(SqsMessage) -> Fut,
    Fut: Future<Output = Result<(), E>>,
    E: Display,
{
    let outcomes = join_all(event.records.into_iter().map(|record| {
        let message_id = record.message_id.clone();
        let outcome = handle(record);
        async move { (message_id, outcome.await) }
    }))
    .await;
    report_failures(
        outcomes
            .into_iter()
            .filter_map(|(message_id, outcome)| outcome.err().map(|error| (message_id, error))),
    )
}

/// The batch response naming the failed records.
fn report_failures<E: Display>(
    failures: impl IntoIterator<Item = (Option<String>, E)>,
) -> Result<SqsBatchResponse, BatchError> {
    let mut response = SqsBatchResponse::default();
    for (message_id, error) in failures {
        let Some(message_id) = message_id.filter(|id| !id.is_empty()) else {
            return Err(BatchError::UnidentifiableFailure(error.to_string()));
        };
        tracing::warn!(message_id = %message_id, error = %error, "record failed; SQS will retry it");
        let mut failure = BatchItemFailure::default();
        failure.item_identifier = message_id;
        response.batch_item_failures.push(failure);
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: Option<&str>, body: &str) -> SqsMessage {
        let mut message = SqsMessage::default();
        message.message_id = id.map(str::to_owned);
        message.body = Some(body.to_owned());
        message
    }

    fn batch(records: Vec<SqsMessage>) -> SqsEvent {
        let mut event = SqsEvent::default();
        event.records = records;
        event
    }

    async fn fail_on_bad(message: SqsMessage) -> Result<(), String> {
        match message.body.as_deref() {
            Some("bad") => Err("bad body".into()),
            _ => Ok(()),
        }
    }

    #[tokio::test]
    async fn only_failed_records_are_reported() {
        let event = batch(vec![
            record(Some("m1"), "ok"),
            record(Some("m2"), "bad"),
            record(Some("m3"), "ok"),
        ]);
        let response = process_batch(event, fail_on_bad).await.unwrap();
        let failed: Vec<_> = response
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.as_str())
            .collect();
        assert_eq!(failed, ["m2"]);
    }

    #[tokio::test]
    async fn failure_without_message_id_fails_the_whole_batch() {
        let event = batch(vec![record(Some("m1"), "ok"), record(None, "bad")]);
        assert!(matches!(
            process_batch(event, fail_on_bad).await,
            Err(BatchError::UnidentifiableFailure(_))
        ));
    }

    #[tokio::test]
    async fn an_all_good_batch_reports_nothing() {
        let event = batch(vec![record(Some("m1"), "ok")]);
        assert!(
            process_batch(event, fail_on_bad)
                .await
                .unwrap()
                .batch_item_failures
                .is_empty()
        );
    }
}
