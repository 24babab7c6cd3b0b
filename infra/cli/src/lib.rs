//! The operator CLI's logic, also used by the end-to-end tests to find a stack's resources and
//! to create tenants exactly as an operator would.

pub mod error;
pub mod stack;
pub mod tenant;

pub use error::CliError;
