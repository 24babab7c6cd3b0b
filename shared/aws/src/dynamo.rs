//! Small helpers for reading and writing DynamoDB attribute maps.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use crate::AdapterError;

pub type Item = HashMap<String, AttributeValue>;

pub fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub fn get_s(item: &Item, table: &str, name: &str) -> Result<String, AdapterError> {
    match item.get(name) {
        Some(AttributeValue::S(value)) => Ok(value.clone()),
        _ => Err(AdapterError::Malformed {
            table: table.to_owned(),
            detail: format!("string attribute {name} missing"),
        }),
    }
}
