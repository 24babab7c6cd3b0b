//! Message templates for email, SMS and push, rendered with minijinja in a sandbox: no loader
//! (so no file access), no custom functions, bounded work (fuel) and bounded output. `{{ id }}`,
//! `{{ type }}`, `{{ data.order_id }}` and the event's other fields are in scope; a reference to
//! something the event lacks is an error, not a silent blank. HTML output is escaped.

use std::collections::BTreeMap;

use minijinja::{AutoEscape, Environment, UndefinedBehavior};
use serde_json::Value;

use crate::subscription::Channel;
use crate::validation::FieldError;

/// Longest template source per field, and longest rendered output.
pub const MAX_TEMPLATE_CHARS: usize = 16 * 1024;
pub const MAX_RENDERED_CHARS: usize = 64 * 1024;
/// Bounds the work one render may do (loops over large data, deep recursion).
const FUEL: u64 = 100_000;

/// The template fields of a channel: (required, optional).
pub fn template_fields(channel: Channel) -> (&'static [&'static str], &'static [&'static str]) {
    match channel {
        Channel::Email => (&["subject", "text"], &["html"]),
        Channel::Sms => (&["text"], &[]),
        Channel::Push => (&["title", "body"], &[]),
        Channel::Webhook => (&[], &[]),
    }
}

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_fuel(Some(FUEL));
    env.set_auto_escape_callback(|name| {
        if name == "html" {
            AutoEscape::Html
        } else {
            AutoEscape::None
        }
    });
    env
}

/// Checks a subscription's template: an object with the channel's fields, each a template that
/// parses. Every problem is reported with its reason.
pub fn check_template(channel: Channel, template: Option<&Value>) -> Vec<FieldError> {
    let (required, optional) = template_fields(channel);
    let Some(template) = template else {
        return vec![FieldError::new(
            "template",
            format!("is required for {} ({})", channel.as_str(), required.join(", ")),
        )];
    };
    let Some(object) = template.as_object() else {
        return vec![FieldError::new("template", "must be an object")];
    };
    let env = environment();
    let mut errors = Vec::new();
    for (name, source) in object {
        let field = format!("template.{name}");
        if !required.contains(&name.as_str()) && !optional.contains(&name.as_str()) {
            errors.push(FieldError::new(
                field,
                format!("unknown field for a {} template", channel.as_str()),
            ));
            continue;
        }
        let Some(source) = source.as_str() else {
            errors.push(FieldError::new(field, "must be a string"));
            continue;
        };
        if source.chars().count() > MAX_TEMPLATE_CHARS {
            errors.push(FieldError::new(
                field,
                format!("must be at most {MAX_TEMPLATE_CHARS} characters"),
            ));
        } else if let Err(error) = env.template_from_named_str(name, source) {
            errors.push(FieldError::new(
                field,
                format!("does not parse: {}", describe(&error)),
            ));
        }
    }
    for name in required {
        if !object.contains_key(*name) {
            errors.push(FieldError::new(format!("template.{name}"), "is required"));
        }
    }
    errors
}

/// Renders every field of a (checked) template against an event; the error names the field.
pub fn render(template: &Value, event: &Value) -> Result<BTreeMap<String, String>, String> {
    let env = environment();
    let object = template.as_object().ok_or("template is not an object")?;
    let mut rendered = BTreeMap::new();
    for (name, source) in object {
        let source = source
            .as_str()
            .ok_or_else(|| format!("template {name} is not a string"))?;
        let output = env
            .template_from_named_str(name, source)
            .and_then(|compiled| compiled.render(event))
            .map_err(|error| format!("template {name} did not render: {}", describe(&error)))?;
        if output.chars().count() > MAX_RENDERED_CHARS {
            return Err(format!(
                "template {name} rendered more than {MAX_RENDERED_CHARS} characters"
            ));
        }
        rendered.insert(name.clone(), output);
    }
    Ok(rendered)
}

/// minijinja's message with its line, without the source excerpt of its Display form.
fn describe(error: &minijinja::Error) -> String {
    let mut text = error
        .detail()
        .map_or_else(|| error.kind().to_string(), str::to_owned);
    if let Some(line) = error.line() {
        text.push_str(&format!(" (line {line})"));
    }
    text
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn event() -> Value {
        json!({
            "id": "evt_1", "type": "order.paid", "received_at": "2026-12-03T10:00:00Z",
            "data": {"order_id": "ord_1", "customer": {"name": "<Ann & Bob>"}, "items": [1, 2, 3]}
        })
    }

    fn fields(errors: Vec<FieldError>) -> Vec<String> {
        errors.into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn renders_event_fields() {
        let template = json!({"subject": "Order {{ data.order_id }} ({{ type }})", "text": "id={{ id }} n={{ data['items'] | length }}"});
        let rendered = render(&template, &event()).unwrap();
        assert_eq!(rendered["subject"], "Order ord_1 (order.paid)");
        assert_eq!(rendered["text"], "id=evt_1 n=3");
    }

    #[test]
    fn html_is_escaped_and_text_is_not() {
        let template =
            json!({"html": "<p>Hi {{ data.customer.name }}</p>", "text": "Hi {{ data.customer.name }}"});
        let rendered = render(&template, &event()).unwrap();
        assert_eq!(rendered["html"], "<p>Hi &lt;Ann &amp; Bob&gt;</p>");
        assert_eq!(rendered["text"], "Hi <Ann & Bob>");
    }

    #[test]
    fn missing_values_fail_with_the_field_named() {
        let error = render(&json!({"text": "{{ data.nope.deeper }}"}), &event()).unwrap_err();
        assert!(error.starts_with("template text did not render"), "{error}");
    }

    #[test]
    fn runaway_templates_are_stopped() {
        let error = render(
            &json!({"text": "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}"}),
            &event(),
        );
        assert!(error.is_err());
    }

    #[test]
    fn templates_are_checked_per_channel() {
        assert!(
            check_template(
                Channel::Email,
                Some(&json!({"subject": "s", "text": "t", "html": "<b>{{ id }}</b>"}))
            )
            .is_empty()
        );
        assert!(check_template(Channel::Sms, Some(&json!({"text": "Order {{ data.order_id }}"}))).is_empty());
        assert!(check_template(Channel::Push, Some(&json!({"title": "t", "body": "b"}))).is_empty());
        assert_eq!(
            fields(check_template(Channel::Email, Some(&json!({"subject": "s"})))),
            ["template.text"]
        );
        assert_eq!(fields(check_template(Channel::Sms, None)), ["template"]);
        assert_eq!(
            fields(check_template(
                Channel::Sms,
                Some(&json!({"text": "ok", "title": "x"}))
            )),
            ["template.title"]
        );
        assert_eq!(
            fields(check_template(
                Channel::Push,
                Some(&json!({"title": 5, "body": "b"}))
            )),
            ["template.title"]
        );
    }

    #[test]
    fn a_template_that_does_not_parse_is_refused_with_the_reason() {
        let errors = check_template(Channel::Sms, Some(&json!({"text": "Hello {{ data.name "})));
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].field, "template.text");
        assert!(
            errors[0].message.starts_with("does not parse: "),
            "{}",
            errors[0].message
        );
    }

    #[test]
    fn no_file_access() {
        let errors = render(&json!({"text": "{% include 'etc/passwd' %}"}), &event()).unwrap_err();
        assert!(errors.contains("did not render"), "{errors}");
    }
}
