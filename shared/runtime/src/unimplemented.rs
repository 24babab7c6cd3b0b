//! A stage whose logic a later version brings still has to behave honestly today: it starts,
//! parses each record, and fails it with a clear reason, so the message stays on its queue (and
//! ends in the dead-letter queue) instead of being acknowledged as delivered.

use aws_lambda_events::event::sqs::SqsMessage;
use notifier_domain::DomainError;
use notifier_domain::messages::parse_message;
use serde::de::DeserializeOwned;
use thiserror::Error;

use crate::sqs::run_sqs_consumer;

#[derive(Debug, Error)]
pub enum UnimplementedStageError {
    #[error(transparent)]
    Message(#[from] DomainError),
    #[error("{0} is not implemented in this version; the message stays queued")]
    NotImplemented(&'static str),
}

pub fn refuse_record<M: DeserializeOwned>(
    stage: &'static str,
    record: &SqsMessage,
) -> Result<(), UnimplementedStageError> {
    parse_message::<M>(record.body.as_deref())?;
    Err(UnimplementedStageError::NotImplemented(stage))
}

pub async fn run_unimplemented_stage<M: DeserializeOwned>(
    stage: &'static str,
) -> Result<(), lambda_runtime::Error> {
    run_sqs_consumer(|record| async move { refuse_record::<M>(stage, &record) }).await
}

#[cfg(test)]
mod tests {
    use notifier_domain::messages::RoutingMessage;

    use super::*;

    #[test]
    fn valid_messages_are_refused_as_not_implemented_and_bad_ones_as_invalid() {
        let mut record = SqsMessage::default();
        record.body = Some(r#"{"version":"1","tenant_id":"ten_a","event":{"id":"evt_1","type":"a.b","received_at":"2026-12-03T10:00:00Z","data":{}}}"#.into());
        let err = refuse_record::<RoutingMessage>("routing", &record).unwrap_err();
        assert!(
            matches!(err, UnimplementedStageError::NotImplemented("routing")),
            "{err}"
        );
        record.body = Some("{}".into());
        let err = refuse_record::<RoutingMessage>("routing", &record).unwrap_err();
        assert!(matches!(err, UnimplementedStageError::Message(_)), "{err}");
    }
}
