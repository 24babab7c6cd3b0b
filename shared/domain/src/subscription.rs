//! Subscriptions: which events (by type pattern) go where (channel and target), validated on
//! creation and on every change, so routing and delivery only ever see sound ones.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::event::is_valid_event_type;
use crate::recipient::read_recipient;
use crate::ssrf::{WebhookUrlPolicy, check_webhook_url};
use crate::template::check_template;
use crate::validation::{FieldError, Violations, is_printable};

pub const MAX_EVENT_TYPES: usize = 50;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    Webhook,
    Email,
    Sms,
    Push,
}

impl Channel {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "webhook" => Some(Self::Webhook),
            "email" => Some(Self::Email),
            "sms" => Some(Self::Sms),
            "push" => Some(Self::Push),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Webhook => "webhook",
            Self::Email => "email",
            Self::Sms => "sms",
            Self::Push => "push",
        }
    }
}

/// A stored subscription. `secret` is the webhook signing secret; it leaves the API only at
/// creation and rotation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Subscription {
    pub subscription_id: String,
    pub event_types: Vec<String>,
    pub channel: Channel,
    pub target: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub enabled: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl Subscription {
    /// Whether an event of `event_type` goes to this subscription now.
    pub fn wants(&self, event_type: &str) -> bool {
        self.enabled
            && self
                .event_types
                .iter()
                .any(|pattern| pattern_matches(pattern, event_type))
    }

    /// The webhook URL, for webhook subscriptions.
    pub fn webhook_url(&self) -> Option<&str> {
        self.target.get("url").and_then(Value::as_str)
    }
}

/// `*` matches everything; `a.*` matches every type starting with `a.`; anything else matches
/// itself exactly.
pub fn pattern_matches(pattern: &str, event_type: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    match pattern.strip_suffix('*') {
        Some(prefix) => event_type.len() > prefix.len() && event_type.starts_with(prefix),
        None => pattern == event_type,
    }
}

pub fn is_valid_pattern(pattern: &str) -> bool {
    pattern == "*"
        || pattern.strip_suffix(".*").is_some_and(is_valid_event_type)
        || is_valid_event_type(pattern)
}

/// The mutable fields of a subscription, as a create or patch request carries them.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SubscriptionFields {
    pub event_types: Option<Vec<String>>,
    pub channel: Option<Channel>,
    pub target: Option<Value>,
    pub template: Option<Option<Value>>,
    pub description: Option<Option<String>>,
    pub enabled: Option<bool>,
}

/// What validation needs to know about the deployment.
#[derive(Debug, Clone, Copy)]
pub struct SubscriptionRules {
    pub webhook_urls: WebhookUrlPolicy,
}

/// Reads the fields of a create (`creating`) or patch request body, type-checking each. Returns
/// what could be read and every problem found, so later checks can add theirs to one answer.
pub fn read_fields(body: &Map<String, Value>, creating: bool) -> (SubscriptionFields, Vec<FieldError>) {
    let mut violations = Violations::default();
    let mut fields = SubscriptionFields::default();
    let allowed = [
        "event_types",
        "channel",
        "target",
        "template",
        "description",
        "enabled",
    ];
    for key in body.keys() {
        if !allowed.contains(&key.as_str()) {
            let hint = if key == "channel" || creating {
                ""
            } else {
                " (a subscription's channel cannot change)"
            };
            violations.add(key.clone(), format!("unknown field{hint}"));
        }
    }
    if !creating && body.contains_key("channel") {
        violations.add("channel", "cannot be changed; create a new subscription instead");
    }
    match body.get("event_types") {
        None if creating => violations.add("event_types", "is required"),
        None => {}
        Some(Value::Array(items)) => {
            let mut patterns = Vec::new();
            for (index, item) in items.iter().enumerate() {
                match item.as_str() {
                    Some(pattern) if is_valid_pattern(pattern) => {
                        if !patterns.iter().any(|p: &String| p == pattern) {
                            patterns.push(pattern.to_owned());
                        }
                    }
                    _ => violations.add(
                        format!("event_types[{index}]"),
                        "must be an event type, a prefix ending in \".*\", or \"*\"",
                    ),
                }
            }
            if items.is_empty() || items.len() > MAX_EVENT_TYPES {
                violations.add(
                    "event_types",
                    format!("must list 1 to {MAX_EVENT_TYPES} patterns"),
                );
            }
            fields.event_types = Some(patterns);
        }
        Some(_) => violations.add("event_types", "must be an array of strings"),
    }
    if creating {
        match body.get("channel").map(|c| c.as_str().and_then(Channel::parse)) {
            Some(Some(channel)) => fields.channel = Some(channel),
            Some(None) => violations.add("channel", "must be one of webhook, email, sms, push"),
            None => violations.add("channel", "is required"),
        }
    }
    match body.get("target") {
        None if creating => violations.add("target", "is required"),
        None => {}
        Some(target @ Value::Object(_)) => fields.target = Some(target.clone()),
        Some(_) => violations.add("target", "must be an object"),
    }
    match body.get("template") {
        None => {}
        Some(Value::Null) => fields.template = Some(None),
        Some(template @ Value::Object(_)) => fields.template = Some(Some(template.clone())),
        Some(_) => violations.add("template", "must be an object"),
    }
    match body.get("description") {
        None => {}
        Some(Value::Null) => fields.description = Some(None),
        Some(Value::String(text)) if text.is_empty() => fields.description = Some(None),
        Some(Value::String(text)) if is_printable(text, 1024) => {
            fields.description = Some(Some(text.clone()))
        }
        Some(_) => violations.add(
            "description",
            "must be a string of at most 1024 printable characters",
        ),
    }
    match body.get("enabled") {
        None => {}
        Some(Value::Bool(enabled)) => fields.enabled = Some(*enabled),
        Some(_) => violations.add("enabled", "must be true or false"),
    }
    (fields, violations.into_errors())
}

/// Checks a channel's target (and template) once the whole subscription is known.
pub fn check_target(
    channel: Channel,
    target: &Value,
    template: Option<&Value>,
    rules: &SubscriptionRules,
) -> Result<(), Vec<FieldError>> {
    let mut violations = Violations::default();
    match channel {
        Channel::Webhook => {
            match target.get("url").and_then(Value::as_str) {
                Some(url) => {
                    if let Err(reason) = check_webhook_url(url, rules.webhook_urls) {
                        violations.add("target.url", reason);
                    }
                }
                None => violations.add("target.url", "is required for webhooks"),
            }
            if let Some(extra) = target.as_object().and_then(|t| t.keys().find(|k| *k != "url")) {
                violations.add(format!("target.{extra}"), "unknown field for a webhook target");
            }
            if template.is_some() {
                violations.add("template", "webhooks carry the event itself and take no template");
            }
        }
        Channel::Email | Channel::Sms | Channel::Push => {
            let mut errors = read_recipient(channel, target).err().unwrap_or_default();
            errors.extend(check_template(channel, template));
            for error in errors {
                violations.add(error.field, error.message);
            }
        }
    }
    violations.into_result(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn rules(allow_local: bool) -> SubscriptionRules {
        SubscriptionRules {
            webhook_urls: WebhookUrlPolicy { allow_local },
        }
    }

    fn fields_of(body: Value, creating: bool) -> Result<SubscriptionFields, Vec<String>> {
        let (fields, errors) = read_fields(body.as_object().unwrap(), creating);
        if errors.is_empty() {
            Ok(fields)
        } else {
            Err(errors.into_iter().map(|f| f.field).collect())
        }
    }

    #[test]
    fn exact_prefix_and_wildcard_patterns() {
        assert!(pattern_matches("order.paid", "order.paid"));
        assert!(!pattern_matches("order.paid", "order.paid.late"));
        assert!(!pattern_matches("order.paid", "order.pai"));
        assert!(pattern_matches("user.*", "user.registered"));
        assert!(pattern_matches("user.*", "user.profile.updated"));
        assert!(!pattern_matches("user.*", "user"));
        assert!(!pattern_matches("user.*", "username.changed"));
        assert!(!pattern_matches("user.*", "users.x"));
        assert!(pattern_matches("*", "anything.at_all"));
    }

    #[test]
    fn pattern_syntax() {
        for ok in ["*", "a.*", "order.paid", "a-b_c.*"] {
            assert!(is_valid_pattern(ok), "{ok}");
        }
        for bad in ["", "a*", "*.paid", "a.**", "a b", ".*"] {
            assert!(!is_valid_pattern(bad), "{bad}");
        }
    }

    #[test]
    fn disabled_subscriptions_want_nothing() {
        let mut subscription = Subscription {
            subscription_id: "sub_1".into(),
            event_types: vec!["order.*".into()],
            channel: Channel::Webhook,
            target: json!({"url": "https://example.com/hook"}),
            template: None,
            description: None,
            enabled: true,
            secret: None,
            created_at: "t".into(),
            updated_at: "t".into(),
        };
        assert!(subscription.wants("order.paid"));
        assert!(!subscription.wants("user.created"));
        subscription.enabled = false;
        assert!(!subscription.wants("order.paid"));
    }

    #[test]
    fn create_requires_the_essentials_and_names_each_problem() {
        assert_eq!(
            fields_of(json!({}), true).unwrap_err(),
            ["event_types", "channel", "target"]
        );
        let errors = fields_of(
            json!({"event_types": ["ok", "bad pattern"], "channel": "fax", "target": 1}),
            true,
        );
        assert_eq!(errors.unwrap_err(), ["event_types[1]", "channel", "target"]);
        assert_eq!(
            fields_of(
                json!({"event_types": [], "channel": "webhook", "target": {}}),
                true
            )
            .unwrap_err(),
            ["event_types"]
        );
        assert_eq!(
            fields_of(
                json!({"event_types": ["a"], "channel": "webhook", "target": {}, "colour": 1}),
                true
            )
            .unwrap_err(),
            ["colour"]
        );
    }

    #[test]
    fn duplicate_patterns_are_folded() {
        let fields = fields_of(
            json!({"event_types": ["a", "a", "*"], "channel": "webhook", "target": {}}),
            true,
        );
        assert_eq!(fields.unwrap().event_types.unwrap(), ["a", "*"]);
    }

    #[test]
    fn patch_takes_any_subset_but_not_the_channel() {
        let fields = fields_of(json!({"enabled": false}), false).unwrap();
        assert_eq!(fields.enabled, Some(false));
        assert_eq!(fields.event_types, None);
        assert!(
            fields_of(json!({"channel": "email"}), false)
                .unwrap_err()
                .contains(&"channel".to_owned())
        );
        let cleared = fields_of(json!({"description": null}), false).unwrap();
        assert_eq!(cleared.description, Some(None));
    }

    #[test]
    fn webhook_targets_are_checked() {
        let check =
            |target: Value, allow_local| check_target(Channel::Webhook, &target, None, &rules(allow_local));
        assert!(check(json!({"url": "https://example.com/hooks"}), false).is_ok());
        assert!(check(json!({"url": "http://example.com/hooks"}), false).is_err());
        assert!(check(json!({"url": "https://127.0.0.1/x"}), false).is_err());
        assert!(check(json!({"url": "http://127.0.0.1:8080/x"}), true).is_ok());
        assert!(check(json!({}), false).is_err());
        assert!(check(json!({"url": "https://example.com", "secret": "x"}), false).is_err());
        let templated = check_target(
            Channel::Webhook,
            &json!({"url": "https://example.com"}),
            Some(&json!({})),
            &rules(false),
        );
        assert!(templated.is_err());
    }

    #[test]
    fn people_channels_need_a_recipient_and_a_template() {
        let sms = |target: Value, template: Option<Value>| {
            check_target(Channel::Sms, &target, template.as_ref(), &rules(false))
                .map_err(|e| e.into_iter().map(|f| f.field).collect::<Vec<_>>())
        };
        assert!(
            sms(
                json!({"phone": "+15555550100"}),
                Some(json!({"text": "Order {{ data.id }}"}))
            )
            .is_ok()
        );
        assert_eq!(
            sms(json!({"phone": "555"}), None).unwrap_err(),
            ["target.phone", "template"]
        );
        let unparsable = sms(
            json!({"phone_path": "/data/phone"}),
            Some(json!({"text": "{{ oops"})),
        );
        assert_eq!(unparsable.unwrap_err(), ["template.text"]);
    }
}
