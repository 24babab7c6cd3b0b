//! RFC 9457 problem details: the only shape an error leaves the API in. Bodies never carry
//! internal names, stack traces or AWS error text; those go to the log.

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Problem {
    #[serde(rename = "type")]
    pub problem_type: String,
    pub title: &'static str,
    pub status: u16,
    pub detail: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

impl Problem {
    fn new(slug: &str, title: &'static str, status: u16, detail: impl Into<String>) -> Self {
        Self {
            problem_type: format!("urn:notifier:problem:{slug}"),
            title,
            status,
            detail: detail.into(),
            errors: Vec::new(),
        }
    }

    pub fn unauthorized() -> Self {
        Self::new(
            "unauthorized",
            "Unauthorized",
            401,
            "Send a valid API key as `Authorization: Bearer <api_key>`.",
        )
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new("not-found", "Not Found", 404, detail)
    }

    pub fn method_not_allowed(method: &str, path: &str) -> Self {
        Self::new(
            "method-not-allowed",
            "Method Not Allowed",
            405,
            format!("{method} is not supported on {path}."),
        )
    }

    pub fn not_implemented(what: &str) -> Self {
        Self::new(
            "not-implemented",
            "Not Implemented",
            501,
            format!("{what} is not available in this version of the service."),
        )
    }

    pub fn internal() -> Self {
        Self::new(
            "internal",
            "Internal Server Error",
            500,
            "The request could not be completed. It is safe to retry with the same idempotency key.",
        )
    }
}
