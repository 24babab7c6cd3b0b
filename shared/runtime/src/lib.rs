//! What every notifier Lambda needs besides its own logic: structured logs, configuration read
//! once at start, and SQS batch handling with per-record failure reporting.

pub mod config;
pub mod sqs;
pub mod telemetry;
pub mod unimplemented;

pub use config::{ConfigError, optional_env, required_env};
