//! Configuration comes from environment variables set by the SAM template, read once in
//! `main`: a function with bad configuration fails at start, not in the middle of a request.

use std::str::FromStr;

use thiserror::Error;

#[derive(Debug, Error, PartialEq)]
pub enum ConfigError {
    #[error("environment variable {0} is required but not set")]
    Missing(String),
    #[error("environment variable {name} has an invalid value {value:?}: {reason}")]
    Invalid {
        name: String,
        value: String,
        reason: String,
    },
}

pub fn required_env(name: &str) -> Result<String, ConfigError> {
    match std::env::var(name) {
        Ok(value) if !value.trim().is_empty() => Ok(value),
        _ => Err(ConfigError::Missing(name.to_owned())),
    }
}

/// An optional, typed setting: `default` when unset, an error when set but unparsable.
pub fn optional_env<T>(name: &str, default: T) -> Result<T, ConfigError>
where
    T: FromStr,
    T::Err: std::fmt::Display,
{
    parse_setting(name, std::env::var(name).ok(), default)
}

fn parse_setting<T>(name: &str, raw: Option<String>, default: T) -> Result<T, ConfigError>
where
    T: FromStr,
    T::Err: std::fmt::Display,
{
    match raw {
        Some(value) if !value.trim().is_empty() => {
            value.trim().parse().map_err(|e: T::Err| ConfigError::Invalid {
                name: name.to_owned(),
                value,
                reason: e.to_string(),
            })
        }
        _ => Ok(default),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Each test uses its own variable name: tests run in parallel threads of one process.
    #[test]
    fn missing_required_variable_is_named_in_the_error() {
        let err = required_env("NOTIFIER_TEST_SURELY_UNSET").unwrap_err();
        assert_eq!(
            err.to_string(),
            "environment variable NOTIFIER_TEST_SURELY_UNSET is required but not set"
        );
    }

    #[test]
    fn optional_setting_defaults_parses_and_rejects() {
        assert_eq!(parse_setting("N", None, 7u32), Ok(7));
        assert_eq!(parse_setting("N", Some(" ".into()), 7u32), Ok(7));
        assert_eq!(parse_setting("N", Some("42".into()), 7u32), Ok(42));
        let err = parse_setting("N", Some("forty".into()), 7u32).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("environment variable N has an invalid value \"forty\""),
            "{err}"
        );
    }
}
