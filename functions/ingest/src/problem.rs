//! RFC 9457 problem details: the only shape an error leaves the API in. Bodies never carry
//! internal names, stack traces or AWS error text; those go to the log.

use notifier_domain::validation::FieldError;
use serde::Serialize;

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

    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new("malformed-request", "Bad Request", 400, detail)
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

    pub fn in_flight() -> Self {
        Self::new(
            "request-in-progress",
            "Conflict",
            409,
            "A request with this idempotency key is still being processed. Retry after a few seconds.",
        )
    }

    pub fn payload_too_large(limit: usize) -> Self {
        Self::new(
            "payload-too-large",
            "Payload Too Large",
            413,
            format!("The body exceeds the {limit}-byte limit."),
        )
    }

    pub fn unsupported_media_type(allowed: &str) -> Self {
        Self::new(
            "unsupported-media-type",
            "Unsupported Media Type",
            415,
            format!("Send the body as {allowed}."),
        )
    }

    pub fn invalid(errors: Vec<FieldError>) -> Self {
        let mut problem = Self::new(
            "validation",
            "Unprocessable Content",
            422,
            "The request has invalid or missing fields.",
        );
        problem.errors = errors;
        problem
    }

    pub fn idempotency_key_reused() -> Self {
        let mut problem = Self::new(
            "idempotency-key-reused",
            "Unprocessable Content",
            422,
            "This idempotency key was already used with a different body.",
        );
        problem.errors = vec![FieldError::new(
            "Idempotency-Key",
            "already used with a different body",
        )];
        problem
    }

    pub fn internal() -> Self {
        Self::new(
            "internal",
            "Internal Server Error",
            500,
            "The request could not be completed. It is safe to retry with the same idempotency key.",
        )
    }

    pub fn unavailable() -> Self {
        Self::new(
            "unavailable",
            "Service Unavailable",
            503,
            "The event could not be accepted right now and was not stored. Retry with the same idempotency key.",
        )
    }
}
