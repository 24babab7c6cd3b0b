use notifier_domain::DomainError;
use thiserror::Error;

/// What an adapter call can fail with. The SDK's error text is kept for logs; callers outside
/// the adapters only ever see `DomainError`.
#[derive(Debug, Error)]
pub enum AdapterError {
    #[error("{operation} failed: {detail}")]
    Service { operation: &'static str, detail: String },
    #[error("record in {table} is malformed: {detail}")]
    Malformed { table: String, detail: String },
    #[error("not found")]
    NotFound,
}

impl AdapterError {
    /// Wraps an SDK error with the operation that failed, keeping the full error chain.
    pub fn service(operation: &'static str, error: impl std::error::Error) -> Self {
        let mut detail = error.to_string();
        let mut source = error.source();
        while let Some(cause) = source {
            detail.push_str(": ");
            detail.push_str(&cause.to_string());
            source = cause.source();
        }
        Self::Service { operation, detail }
    }
}

impl From<AdapterError> for DomainError {
    fn from(error: AdapterError) -> Self {
        match error {
            AdapterError::NotFound => DomainError::NotFound,
            other => DomainError::Storage(other.to_string()),
        }
    }
}
