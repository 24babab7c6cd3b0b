//! Who an email, SMS or push notification goes to: a literal address fixed in the
//! subscription, or a JSON Pointer (RFC 6901) into the event, resolved per event.

use serde_json::Value;

use crate::subscription::Channel;
use crate::validation::FieldError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recipient {
    Literal(String),
    Pointer(String),
}

/// The target keys of a channel: (literal, pointer).
fn target_keys(channel: Channel) -> Option<(&'static str, &'static str)> {
    match channel {
        Channel::Email => Some(("to", "to_path")),
        Channel::Sms => Some(("phone", "phone_path")),
        Channel::Push => Some(("endpoint_arn", "endpoint_arn_path")),
        Channel::Webhook => None,
    }
}

/// Checks an address for a channel; the error says what is wrong.
pub fn check_address(channel: Channel, address: &str) -> Result<(), String> {
    let valid = match channel {
        Channel::Email => is_email(address),
        Channel::Sms => is_e164(address),
        Channel::Push => is_endpoint_arn(address),
        Channel::Webhook => true,
    };
    if valid {
        return Ok(());
    }
    Err(match channel {
        Channel::Email => format!("{address:?} is not an email address"),
        Channel::Sms => format!("{address:?} is not an E.164 phone number (like +15555550100)"),
        _ => format!("{address:?} is not an SNS platform endpoint ARN"),
    })
}

/// Reads and checks a subscription's target for `channel`.
pub fn read_recipient(channel: Channel, target: &Value) -> Result<Recipient, Vec<FieldError>> {
    let Some((literal_key, pointer_key)) = target_keys(channel) else {
        return Err(vec![FieldError::new("channel", "webhooks have no recipient")]);
    };
    let Some(object) = target.as_object() else {
        return Err(vec![FieldError::new("target", "must be an object")]);
    };
    let mut errors: Vec<FieldError> = object
        .keys()
        .filter(|key| *key != literal_key && *key != pointer_key)
        .map(|key| {
            FieldError::new(
                format!("target.{key}"),
                format!("unknown field for a {} target", channel.as_str()),
            )
        })
        .collect();
    let recipient = match (object.get(literal_key), object.get(pointer_key)) {
        (Some(Value::String(address)), None) => match check_address(channel, address) {
            Ok(()) => Some(Recipient::Literal(address.clone())),
            Err(message) => {
                errors.push(FieldError::new(format!("target.{literal_key}"), message));
                None
            }
        },
        (None, Some(Value::String(pointer))) if is_json_pointer(pointer) => {
            Some(Recipient::Pointer(pointer.clone()))
        }
        (None, Some(_)) => {
            errors.push(FieldError::new(
                format!("target.{pointer_key}"),
                "must be a JSON Pointer into the event, like /data/customer/email",
            ));
            None
        }
        (Some(_), None) => {
            errors.push(FieldError::new(
                format!("target.{literal_key}"),
                "must be a string",
            ));
            None
        }
        _ => {
            errors.push(FieldError::new(
                "target",
                format!("needs exactly one of {literal_key} or {pointer_key}"),
            ));
            None
        }
    };
    match recipient {
        Some(recipient) if errors.is_empty() => Ok(recipient),
        _ => Err(errors),
    }
}

/// The address for one event; the error is what `last_error` will say.
pub fn resolve_recipient(channel: Channel, recipient: &Recipient, event: &Value) -> Result<String, String> {
    let address = match recipient {
        Recipient::Literal(address) => address.clone(),
        Recipient::Pointer(pointer) => match event.pointer(pointer) {
            Some(Value::String(address)) => address.trim().to_owned(),
            Some(other) => {
                return Err(format!(
                    "recipient at {pointer} is not a string but {}",
                    kind_of(other)
                ));
            }
            None => return Err(format!("recipient path {pointer} does not exist in the event")),
        },
    };
    check_address(channel, &address)
        .map(|()| address)
        .map_err(|reason| format!("recipient {reason}"))
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// RFC 6901 `/`-separated tokens where `~` only appears as `~0` or `~1`. The empty pointer
/// (the whole event) is valid JSON Pointer but never an address, so it is refused here.
pub fn is_json_pointer(text: &str) -> bool {
    if text.len() > 512 {
        return false;
    }
    text.starts_with('/') && {
        let mut chars = text.chars();
        let mut valid = true;
        while let Some(c) = chars.next() {
            if c == '~' && !matches!(chars.next(), Some('0' | '1')) {
                valid = false;
            }
        }
        valid
    }
}

/// A practical email check: one `@`, a plausible local part and a dotted domain, no spaces.
pub fn is_email(text: &str) -> bool {
    if text.len() > 254 || text.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return false;
    }
    let Some((local, domain)) = text.rsplit_once('@') else {
        return false;
    };
    let label_ok = |label: &str| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label.chars().all(|c| c.is_alphanumeric() || c == '-')
    };
    !local.is_empty()
        && local.len() <= 64
        && !local.contains('@')
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && domain.contains('.')
        && domain.split('.').all(label_ok)
}

/// E.164: `+`, a non-zero country digit, 7 to 15 digits in all.
pub fn is_e164(text: &str) -> bool {
    let Some(digits) = text.strip_prefix('+') else {
        return false;
    };
    (7..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) && !digits.starts_with('0')
}

/// `arn:<partition>:sns:<region>:<account>:endpoint/<platform>/<application>/<id>`.
pub fn is_endpoint_arn(text: &str) -> bool {
    let parts: Vec<&str> = text.splitn(6, ':').collect();
    let [arn, partition, service, region, account, resource] = parts.as_slice() else {
        return false;
    };
    let path: Vec<&str> = resource.split('/').collect();
    *arn == "arn"
        && partition.starts_with("aws")
        && *service == "sns"
        && !region.is_empty()
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && path.len() == 4
        && path[0] == "endpoint"
        && ["APNS", "APNS_SANDBOX", "GCM", "ADM", "BAIDU", "WNS", "MPNS"].contains(&path[1])
        && path[2..].iter().all(|part| !part.is_empty())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const ARN: &str =
        "arn:aws:sns:us-east-1:000000000000:endpoint/GCM/notifier-app/5a8b2c1e-0000-4000-8000-000000000001";

    #[test]
    fn email_addresses() {
        for ok in [
            "a@example.com",
            "first.last+tag@sub.example.co.uk",
            "ü@exämple.de",
        ] {
            assert!(is_email(ok), "{ok}");
        }
        for bad in [
            "",
            "a",
            "a@b",
            "@example.com",
            "a@.com",
            "a b@example.com",
            "a@@example.com",
            ".a@example.com",
            "a..b@example.com",
            "a@-x.com",
        ] {
            assert!(!is_email(bad), "{bad}");
        }
    }

    #[test]
    fn e164_numbers() {
        assert!(is_e164("+15555550100"));
        assert!(is_e164("+447911123456"));
        for bad in [
            "15555550100",
            "+0555550100",
            "+1 555 555",
            "+1555",
            "+1234567890123456",
            "+1555555010a",
        ] {
            assert!(!is_e164(bad), "{bad}");
        }
    }

    #[test]
    fn endpoint_arns() {
        assert!(is_endpoint_arn(ARN));
        assert!(is_endpoint_arn(
            "arn:aws-cn:sns:cn-north-1:123456789012:endpoint/APNS/app/id-1"
        ));
        for bad in [
            "arn:aws:sns:us-east-1:000000000000:my-topic",
            "arn:aws:sqs:us-east-1:000000000000:endpoint/GCM/app/id",
            "arn:aws:sns:us-east-1:123:endpoint/GCM/app/id",
            "arn:aws:sns:us-east-1:000000000000:endpoint/FAX/app/id",
            "arn:aws:sns:us-east-1:000000000000:endpoint/GCM/app",
        ] {
            assert!(!is_endpoint_arn(bad), "{bad}");
        }
    }

    #[test]
    fn pointers() {
        assert!(is_json_pointer("/data/customer/email"));
        assert!(is_json_pointer("/data/a~1b/c~0d"));
        assert!(!is_json_pointer("data/customer"));
        assert!(!is_json_pointer("/data/~2"));
        assert!(!is_json_pointer(""));
    }

    #[test]
    fn targets_are_read_per_channel() {
        assert_eq!(
            read_recipient(Channel::Email, &json!({"to": "a@example.com"})),
            Ok(Recipient::Literal("a@example.com".into()))
        );
        assert_eq!(
            read_recipient(Channel::Sms, &json!({"phone_path": "/data/phone"})),
            Ok(Recipient::Pointer("/data/phone".into()))
        );
        assert_eq!(
            read_recipient(Channel::Push, &json!({"endpoint_arn": ARN})),
            Ok(Recipient::Literal(ARN.into()))
        );
        let fields = |channel, target| {
            read_recipient(channel, &target)
                .unwrap_err()
                .into_iter()
                .map(|e| e.field)
                .collect::<Vec<_>>()
        };
        assert_eq!(fields(Channel::Email, json!({"to": "nope"})), ["target.to"]);
        assert_eq!(fields(Channel::Sms, json!({"phone": "555"})), ["target.phone"]);
        assert_eq!(
            fields(Channel::Email, json!({"to": "a@example.com", "to_path": "/x"})),
            ["target"]
        );
        assert_eq!(fields(Channel::Email, json!({})), ["target"]);
        assert_eq!(
            fields(Channel::Email, json!({"to_path": "data"})),
            ["target.to_path"]
        );
        assert_eq!(
            fields(Channel::Push, json!({"endpoint_arn": ARN, "x": 1})),
            ["target.x"]
        );
    }

    #[test]
    fn pointers_resolve_per_event_with_clear_errors() {
        let event =
            json!({"id": "evt_1", "data": {"customer": {"email": "c@example.com", "phone": 5, "bad": "x"}}});
        let pointer = |p: &str| Recipient::Pointer(p.into());
        assert_eq!(
            resolve_recipient(Channel::Email, &pointer("/data/customer/email"), &event),
            Ok("c@example.com".into())
        );
        let missing = resolve_recipient(Channel::Email, &pointer("/data/customer/nope"), &event).unwrap_err();
        assert_eq!(
            missing,
            "recipient path /data/customer/nope does not exist in the event"
        );
        let number = resolve_recipient(Channel::Sms, &pointer("/data/customer/phone"), &event).unwrap_err();
        assert_eq!(
            number,
            "recipient at /data/customer/phone is not a string but a number"
        );
        let invalid = resolve_recipient(Channel::Email, &pointer("/data/customer/bad"), &event).unwrap_err();
        assert!(
            invalid.starts_with("recipient \"x\" is not an email address"),
            "{invalid}"
        );
        let literal = Recipient::Literal("+15555550100".into());
        assert_eq!(
            resolve_recipient(Channel::Sms, &literal, &event),
            Ok("+15555550100".into())
        );
    }
}
