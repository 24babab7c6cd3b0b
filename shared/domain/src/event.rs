//! What a publisher sends: the plain JSON shape or CloudEvents 1.0 structured JSON, validated
//! into one `PublishedEvent`.

use serde_json::{Map, Value};

use crate::validation::{FieldError, Violations, is_printable};

/// A validated publish request, before it is stored.
#[derive(Debug, Clone, PartialEq)]
pub struct PublishedEvent {
    pub event_type: String,
    pub data: Value,
    pub client_id: Option<String>,
    pub source: Option<String>,
    pub subject: Option<String>,
    pub time: Option<String>,
}

/// Why a body was refused: not a JSON object at all (400) or invalid fields (422).
#[derive(Debug, Clone, PartialEq)]
pub enum PublishError {
    Malformed(String),
    Invalid(Vec<FieldError>),
}

pub fn is_valid_event_type(value: &str) -> bool {
    (1..=128).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// Parses and validates a publish body. `cloudevents` is true for
/// `application/cloudevents+json`, where `specversion` is required and must be "1.0".
pub fn parse_published_event(body: &[u8], cloudevents: bool) -> Result<PublishedEvent, PublishError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| PublishError::Malformed(format!("body is not valid JSON: {e}")))?;
    published_event_from_value(&value, cloudevents)
}

/// Validates one already parsed event (a publish body, or one entry of a batch).
pub fn published_event_from_value(value: &Value, cloudevents: bool) -> Result<PublishedEvent, PublishError> {
    let Value::Object(object) = value else {
        return Err(PublishError::Malformed("body must be a JSON object".into()));
    };
    validate(object, cloudevents || object.contains_key("specversion")).map_err(PublishError::Invalid)
}

fn validate(object: &Map<String, Value>, cloudevents: bool) -> Result<PublishedEvent, Vec<FieldError>> {
    let mut violations = Violations::default();
    if cloudevents {
        match object.get("specversion") {
            Some(Value::String(version)) if version == "1.0" => {}
            Some(_) => violations.add("specversion", "only CloudEvents specversion \"1.0\" is supported"),
            None => violations.add("specversion", "required for CloudEvents"),
        }
        if let Some(content_type) = object.get("datacontenttype")
            && content_type
                .as_str()
                .is_none_or(|t| !t.starts_with("application/json"))
        {
            violations.add("datacontenttype", "only application/json data is supported");
        }
    }

    let event_type = match object.get("type") {
        Some(Value::String(t)) if is_valid_event_type(t) => t.clone(),
        Some(Value::String(_)) => {
            violations.add("type", "must match ^[A-Za-z0-9_.-]{1,128}$");
            String::new()
        }
        Some(_) => {
            violations.add("type", "must be a string");
            String::new()
        }
        None => {
            violations.add("type", "is required");
            String::new()
        }
    };
    let data = match object.get("data") {
        Some(data @ Value::Object(_)) => data.clone(),
        Some(_) => {
            violations.add("data", "must be a JSON object");
            Value::Null
        }
        None => {
            violations.add("data", "is required");
            Value::Null
        }
    };
    let client_id = optional_text(object, "id", 128, &mut violations);
    if cloudevents && client_id.is_none() && !object.contains_key("id") {
        violations.add("id", "required for CloudEvents");
    }
    let source = optional_text(object, "source", 256, &mut violations);
    if cloudevents && source.is_none() && !object.contains_key("source") {
        violations.add("source", "required for CloudEvents");
    }
    let subject = optional_text(object, "subject", 256, &mut violations);
    let time = optional_text(object, "time", 64, &mut violations);
    if let Some(time) = &time
        && !is_rfc3339(time)
    {
        violations.add("time", "must be an RFC 3339 timestamp, e.g. 2026-12-03T10:00:00Z");
    }
    violations.into_result(PublishedEvent {
        event_type,
        data,
        client_id,
        source,
        subject,
        time,
    })
}

fn optional_text(
    object: &Map<String, Value>,
    field: &str,
    max: usize,
    violations: &mut Violations,
) -> Option<String> {
    match object.get(field) {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) if is_printable(text, max) => Some(text.clone()),
        Some(_) => {
            violations.add(
                field,
                format!("must be a string of 1 to {max} printable characters"),
            );
            None
        }
    }
}

/// RFC 3339 `date-time`: `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)`, checked by shape and ranges.
pub fn is_rfc3339(text: &str) -> bool {
    let bytes = text.as_bytes();
    if bytes.len() < 20 {
        return false;
    }
    let digits = |range: std::ops::Range<usize>| -> Option<u32> {
        let part = text.get(range)?;
        part.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    let (Some(_year), Some(month), Some(day), Some(hour), Some(minute), Some(second)) = (
        digits(0..4),
        digits(5..7),
        digits(8..10),
        digits(11..13),
        digits(14..16),
        digits(17..19),
    ) else {
        return false;
    };
    if bytes[4] != b'-'
        || bytes[7] != b'-'
        || !matches!(bytes[10], b'T' | b't')
        || bytes[13] != b':'
        || bytes[16] != b':'
    {
        return false;
    }
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return false;
    }
    let mut rest = &text[19..];
    if let Some(fraction) = rest.strip_prefix('.') {
        let digits_len = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if digits_len == 0 {
            return false;
        }
        rest = &fraction[digits_len..];
    }
    match rest.as_bytes() {
        [b'Z' | b'z'] => true,
        [b'+' | b'-', h1, h2, b':', m1, m2] => {
            [h1, h2, m1, m2].iter().all(|b| b.is_ascii_digit())
                && (*h1 - b'0') * 10 + (*h2 - b'0') < 24
                && (*m1 - b'0') * 10 + (*m2 - b'0') < 60
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn parse(value: Value) -> Result<PublishedEvent, PublishError> {
        parse_published_event(value.to_string().as_bytes(), false)
    }

    fn invalid_fields(result: Result<PublishedEvent, PublishError>) -> Vec<String> {
        match result {
            Err(PublishError::Invalid(errors)) => errors.into_iter().map(|e| e.field).collect(),
            other => panic!("expected field errors, got {other:?}"),
        }
    }

    #[test]
    fn a_minimal_event_is_accepted() {
        let event = parse(json!({"type": "order.paid", "data": {"order_id": "o1"}})).unwrap();
        assert_eq!(event.event_type, "order.paid");
        assert_eq!(event.data, json!({"order_id": "o1"}));
        assert_eq!(event.client_id, None);
    }

    #[test]
    fn optional_fields_are_kept() {
        let event = parse(json!({
            "type": "order.paid", "data": {}, "id": "ord_123-paid", "source": "shop",
            "subject": "ord_123", "time": "2026-12-03T10:00:00Z"
        }))
        .unwrap();
        assert_eq!(event.client_id.as_deref(), Some("ord_123-paid"));
        assert_eq!(event.source.as_deref(), Some("shop"));
        assert_eq!(event.subject.as_deref(), Some("ord_123"));
        assert_eq!(event.time.as_deref(), Some("2026-12-03T10:00:00Z"));
    }

    #[test]
    fn non_json_and_non_objects_are_malformed() {
        assert!(matches!(
            parse_published_event(b"{not json", false),
            Err(PublishError::Malformed(_))
        ));
        assert!(matches!(
            parse_published_event(b"[1,2]", false),
            Err(PublishError::Malformed(_))
        ));
        assert!(matches!(
            parse_published_event(b"\"text\"", false),
            Err(PublishError::Malformed(_))
        ));
    }

    #[test]
    fn every_invalid_field_is_reported_at_once() {
        let fields = invalid_fields(parse(
            json!({"type": "bad type!", "data": [1], "id": "", "time": "yesterday"}),
        ));
        assert_eq!(fields, ["type", "data", "id", "time"]);
        assert_eq!(invalid_fields(parse(json!({}))), ["type", "data"]);
        assert_eq!(invalid_fields(parse(json!({"type": 5, "data": {}}))), ["type"]);
        assert_eq!(
            invalid_fields(parse(json!({"type": "a".repeat(129), "data": {}}))),
            ["type"]
        );
        assert_eq!(
            invalid_fields(parse(json!({"type": "a", "data": {}, "id": "x".repeat(129)}))),
            ["id"]
        );
    }

    #[test]
    fn cloudevents_structured_json_is_accepted_and_checked() {
        let body = json!({
            "specversion": "1.0", "type": "user.registered", "source": "/accounts", "id": "A-1",
            "datacontenttype": "application/json", "data": {"user": "u1"}
        });
        let event = parse_published_event(body.to_string().as_bytes(), true).unwrap();
        assert_eq!(event.event_type, "user.registered");
        assert_eq!(event.client_id.as_deref(), Some("A-1"));
        let missing = json!({"type": "user.registered", "data": {}});
        let result = parse_published_event(missing.to_string().as_bytes(), true);
        assert_eq!(invalid_fields(result), ["specversion", "id", "source"]);
        let wrong = json!({"specversion": "0.3", "type": "a", "source": "s", "id": "1", "data": {}});
        assert_eq!(invalid_fields(parse(wrong)), ["specversion"]);
    }

    #[test]
    fn rfc3339_timestamps() {
        for ok in [
            "2026-12-03T10:00:00Z",
            "2026-12-03T10:00:00.123+01:00",
            "2026-12-03t10:00:00z",
        ] {
            assert!(is_rfc3339(ok), "{ok}");
        }
        for bad in [
            "2026-12-03",
            "2026-13-03T10:00:00Z",
            "2026-12-03T10:00:00",
            "2026-12-03T25:00:00Z",
            "2026-12-03T10:00:00.Z",
        ] {
            assert!(!is_rfc3339(bad), "{bad}");
        }
    }

    #[test]
    fn event_type_names() {
        assert!(is_valid_event_type("order.paid"));
        assert!(is_valid_event_type("A_b-9.c"));
        assert!(!is_valid_event_type(""));
        assert!(!is_valid_event_type("order paid"));
        assert!(!is_valid_event_type("order.*"));
    }
}
