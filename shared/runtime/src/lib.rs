//! What every notifier Lambda needs besides its own logic: structured logs, configuration read
//! once at start, SQS batch handling with per-record failure reporting, and the senders' shared
//! wiring.

pub mod config;
pub mod senders;
pub mod sqs;
pub mod telemetry;

pub use config::{ConfigError, optional_env, required_env};
