//! The notifier's domain: what a tenant, an API key, an event, a subscription and a delivery
//! are, and the rules between them. Adapters (DynamoDB, SQS, HTTP) live elsewhere and implement
//! the port traits declared here; nothing in this crate knows about AWS or Lambda.

pub mod cache;
pub mod clock;
pub mod delivery;
pub mod error;
pub mod event;
pub mod idempotency;
pub mod ids;
#[cfg(any(test, feature = "memory"))]
pub mod memory;
pub mod messages;
pub mod ports;
pub mod provider;
pub mod recipient;
pub mod retry;
pub mod routing;
pub mod signing;
pub mod sms;
pub mod ssrf;
pub mod subscription;
pub mod template;
pub mod tenant;
pub mod validation;

pub use error::DomainError;
