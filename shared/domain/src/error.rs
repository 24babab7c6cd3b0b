use thiserror::Error;

/// Everything that can go wrong in the domain, independent of where it is stored.
#[derive(Debug, Error)]
pub enum DomainError {
    /// A backing store (DynamoDB, SQS, ...) failed; the detail is for logs, never for callers.
    #[error("storage failure: {0}")]
    Storage(String),
    #[error("not found")]
    NotFound,
    #[error("invalid message: {0}")]
    InvalidMessage(String),
}
