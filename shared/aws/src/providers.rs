//! The providers people-facing notifications go through: SES for email, SNS for SMS and for
//! mobile push. Each maps the service's errors onto retry (throttling, transient faults) or
//! give-up (the message or the address will never be accepted), with the provider's reason.

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_ses::types::{Body, Content, Destination, Message};
use aws_sdk_sns::types::MessageAttributeValue;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use notifier_domain::messages::Event;
use notifier_domain::provider::{Provider, SendError};
use notifier_domain::sms::fit_sms;
use notifier_domain::subscription::Channel;
use serde_json::json;

/// Error codes after which retrying cannot help.
const SES_PERMANENT: &[&str] = &[
    "MessageRejected",
    "MailFromDomainNotVerifiedException",
    "ConfigurationSetDoesNotExistException",
    "ConfigurationSetSendingPausedException",
    "AccountSendingPausedException",
    "InvalidParameterValue",
    "ValidationError",
];
const SNS_PERMANENT: &[&str] = &[
    "InvalidParameter",
    "InvalidParameterValue",
    "ParameterValueInvalid",
    "EndpointDisabled",
    "PlatformApplicationDisabled",
    "NotFound",
    "AuthorizationError",
    "OptedOut",
    "ValidationError",
];
const THROTTLING: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "Throttled",
    "TooManyRequestsException",
    "KMSThrottling",
    "LimitExceeded",
];

/// Classifies a provider error from its code and message.
pub fn classify(permanent: &[&str], code: Option<&str>, message: &str) -> SendError {
    let reason = match code {
        Some(code) if !message.is_empty() => format!("{code}: {message}"),
        Some(code) => code.to_owned(),
        None => message.to_owned(),
    };
    match code {
        Some(code) if THROTTLING.contains(&code) => SendError::Throttled(reason),
        Some(code) if permanent.contains(&code) => SendError::Permanent(reason),
        _ => SendError::Transient(reason),
    }
}

fn classify_sdk<E, R>(
    permanent: &[&str],
    error: aws_smithy_runtime_api::client::result::SdkError<E, R>,
) -> SendError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match error.as_service_error() {
        Some(service) => classify(permanent, service.code(), service.message().unwrap_or_default()),
        // Timeouts, connection failures, unreadable responses: worth another try.
        None => {
            SendError::Transient(aws_smithy_types::error::display::DisplayErrorContext(&error).to_string())
        }
    }
}

fn field<'a>(content: &'a BTreeMap<String, String>, name: &str) -> &'a str {
    content.get(name).map_or("", String::as_str)
}

pub struct SesEmail {
    pub client: aws_sdk_ses::Client,
    pub sender: String,
}

#[async_trait]
impl Provider for SesEmail {
    fn channel(&self) -> Channel {
        Channel::Email
    }

    async fn send(
        &self,
        recipient: &str,
        content: &BTreeMap<String, String>,
        _event: &Event,
    ) -> Result<(), SendError> {
        let text = |data: &str| Content::builder().data(data).charset("UTF-8").build();
        let permanent = |e: aws_sdk_ses::error::BuildError| SendError::Permanent(e.to_string());
        let mut body = Body::builder().text(text(field(content, "text")).map_err(permanent)?);
        if let Some(html) = content.get("html") {
            body = body.html(text(html).map_err(permanent)?);
        }
        let message = Message::builder()
            .subject(text(field(content, "subject")).map_err(permanent)?)
            .body(body.build())
            .build();
        self.client
            .send_email()
            .source(&self.sender)
            .destination(Destination::builder().to_addresses(recipient).build())
            .message(message)
            .send()
            .await
            .map_err(|e| classify_sdk(SES_PERMANENT, e))?;
        Ok(())
    }
}

pub struct SnsSms {
    pub client: aws_sdk_sns::Client,
}

#[async_trait]
impl Provider for SnsSms {
    fn channel(&self) -> Channel {
        Channel::Sms
    }

    async fn send(
        &self,
        recipient: &str,
        content: &BTreeMap<String, String>,
        _event: &Event,
    ) -> Result<(), SendError> {
        let transactional = MessageAttributeValue::builder()
            .data_type("String")
            .string_value("Transactional")
            .build()
            .map_err(|e| SendError::Permanent(e.to_string()))?;
        self.client
            .publish()
            .phone_number(recipient)
            .message(fit_sms(field(content, "text")))
            .message_attributes("AWS.SNS.SMS.SMSType", transactional)
            .send()
            .await
            .map_err(|e| classify_sdk(SNS_PERMANENT, e))?;
        Ok(())
    }
}

pub struct SnsPush {
    pub client: aws_sdk_sns::Client,
}

/// The per-platform message structure SNS expects (`MessageStructure=json`): each platform's
/// payload is itself a JSON string.
pub fn push_message(title: &str, body: &str, event: &Event) -> String {
    let apns = json!({"aps": {"alert": {"title": title, "body": body}}, "event_id": event.id, "type": event.event_type});
    let fcm = json!({
        "notification": {"title": title, "body": body},
        "data": {"event_id": event.id, "type": event.event_type},
    });
    json!({
        "default": body,
        "GCM": fcm.to_string(),
        "APNS": apns.to_string(),
        "APNS_SANDBOX": apns.to_string(),
    })
    .to_string()
}

#[async_trait]
impl Provider for SnsPush {
    fn channel(&self) -> Channel {
        Channel::Push
    }

    async fn send(
        &self,
        recipient: &str,
        content: &BTreeMap<String, String>,
        event: &Event,
    ) -> Result<(), SendError> {
        self.client
            .publish()
            .target_arn(recipient)
            .message_structure("json")
            .message(push_message(
                field(content, "title"),
                field(content, "body"),
                event,
            ))
            .send()
            .await
            .map_err(|e| classify_sdk(SNS_PERMANENT, e))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;

    #[test]
    fn provider_errors_are_classified() {
        let ses = |code| classify(SES_PERMANENT, Some(code), "why");
        assert_eq!(
            ses("MessageRejected"),
            SendError::Permanent("MessageRejected: why".into())
        );
        assert_eq!(ses("Throttling"), SendError::Throttled("Throttling: why".into()));
        assert_eq!(
            ses("InternalFailure"),
            SendError::Transient("InternalFailure: why".into())
        );
        let sns = |code| classify(SNS_PERMANENT, Some(code), "");
        assert_eq!(
            sns("EndpointDisabled"),
            SendError::Permanent("EndpointDisabled".into())
        );
        assert_eq!(
            sns("InvalidParameter"),
            SendError::Permanent("InvalidParameter".into())
        );
        assert_eq!(sns("KMSThrottling"), SendError::Throttled("KMSThrottling".into()));
        assert_eq!(sns("InternalError"), SendError::Transient("InternalError".into()));
        assert_eq!(
            classify(SNS_PERMANENT, None, "timed out"),
            SendError::Transient("timed out".into())
        );
    }

    #[test]
    fn push_messages_carry_a_payload_per_platform() {
        let event = Event {
            id: "evt_1".into(),
            event_type: "order.shipped".into(),
            source: None,
            subject: None,
            time: None,
            received_at: "2026-12-03T10:00:00Z".into(),
            data: json!({}),
        };
        let message: Value =
            serde_json::from_str(&push_message("Shipped", "Your \"order\" is on its way", &event)).unwrap();
        assert_eq!(message["default"], "Your \"order\" is on its way");
        let fcm: Value = serde_json::from_str(message["GCM"].as_str().unwrap()).unwrap();
        assert_eq!(
            fcm["notification"],
            json!({"title": "Shipped", "body": "Your \"order\" is on its way"})
        );
        assert_eq!(fcm["data"]["event_id"], "evt_1");
        let apns: Value = serde_json::from_str(message["APNS"].as_str().unwrap()).unwrap();
        assert_eq!(apns["aps"]["alert"]["title"], "Shipped");
        assert_eq!(message["APNS_SANDBOX"], message["APNS"]);
    }
}
