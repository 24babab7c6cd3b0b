//! Small helpers for reading and writing DynamoDB attribute maps.

use std::collections::HashMap;
use std::fmt::Display;
use std::str::FromStr;

use aws_sdk_dynamodb::types::AttributeValue;

use crate::AdapterError;

pub type Item = HashMap<String, AttributeValue>;

pub fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub fn n(value: impl Display) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

pub fn get_s(item: &Item, table: &str, name: &str) -> Result<String, AdapterError> {
    match item.get(name) {
        Some(AttributeValue::S(value)) => Ok(value.clone()),
        _ => Err(malformed(table, name, "string")),
    }
}

pub fn get_opt_s(item: &Item, name: &str) -> Option<String> {
    match item.get(name) {
        Some(AttributeValue::S(value)) => Some(value.clone()),
        _ => None,
    }
}

pub fn get_n<T: FromStr>(item: &Item, table: &str, name: &str) -> Result<T, AdapterError> {
    match item.get(name) {
        Some(AttributeValue::N(value)) => value.parse().map_err(|_| malformed(table, name, "number")),
        _ => Err(malformed(table, name, "number")),
    }
}

pub fn get_opt_n<T: FromStr>(item: &Item, name: &str) -> Option<T> {
    match item.get(name) {
        Some(AttributeValue::N(value)) => value.parse().ok(),
        _ => None,
    }
}

fn malformed(table: &str, name: &str, kind: &str) -> AdapterError {
    AdapterError::Malformed {
        table: table.to_owned(),
        detail: format!("{kind} attribute {name} missing or invalid"),
    }
}
