//! Field-level validation errors, collected rather than stopping at the first, so a caller
//! fixes everything in one round trip.

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Accumulates field errors while a request is checked.
#[derive(Debug, Default)]
pub struct Violations(Vec<FieldError>);

impl Violations {
    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError::new(field, message));
    }

    pub fn into_errors(self) -> Vec<FieldError> {
        self.0
    }

    pub fn into_result<T>(self, value: T) -> Result<T, Vec<FieldError>> {
        if self.0.is_empty() { Ok(value) } else { Err(self.0) }
    }
}

/// True for 1..=max printable characters (no control characters).
pub fn is_printable(value: &str, max: usize) -> bool {
    let count = value.chars().count();
    (1..=max).contains(&count) && !value.chars().any(char::is_control)
}
