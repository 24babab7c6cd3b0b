use thiserror::Error;

/// Everything the CLI reports to an operator; each message says what to do next.
#[derive(Debug, Error)]
pub enum CliError {
    #[error("stack {0:?} was not found; deploy it first (`make local`) or name another with --stack")]
    StackNotFound(String),
    #[error("stack {stack:?} has no output {output:?}; is it a notifier stack, fully deployed?")]
    MissingOutput { stack: String, output: String },
    #[error("tenant {0:?} does not exist (see `notifier-cli tenant list`)")]
    TenantNotFound(String),
    #[error("could not reach AWS ({operation}): {detail}")]
    Aws { operation: &'static str, detail: String },
}

impl From<notifier_aws::AdapterError> for CliError {
    fn from(error: notifier_aws::AdapterError) -> Self {
        CliError::Aws {
            operation: "DynamoDB",
            detail: error.to_string(),
        }
    }
}
