//! What a webhook carries, and its Standard Webhooks 1.0 signature:
//! `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`, keyed with the base64-decoded part
//! of a `whsec_` secret.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::ids::random_bytes;
use crate::messages::Event;

const SECRET_PREFIX: &str = "whsec_";

/// A new secret: `whsec_` + base64 of 32 random bytes.
pub fn new_secret() -> String {
    format!("{SECRET_PREFIX}{}", STANDARD.encode(random_bytes::<32>()))
}

/// The HMAC key inside a secret; at least 24 bytes.
pub fn decode_secret(secret: &str) -> Result<Vec<u8>, String> {
    let encoded = secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret);
    let key = STANDARD
        .decode(encoded)
        .map_err(|e| format!("secret is not valid base64: {e}"))?;
    if key.len() < 24 {
        return Err("secret is shorter than 24 bytes".into());
    }
    Ok(key)
}

/// The body every receiver gets (the contract's webhook payload), serialised straight from
/// the event without copying its data.
pub fn webhook_body(event: &Event) -> String {
    #[derive(serde::Serialize)]
    struct WebhookBody<'a> {
        id: &'a str,
        #[serde(rename = "type")]
        event_type: &'a str,
        timestamp: &'a str,
        data: &'a serde_json::Value,
    }
    let body = WebhookBody {
        id: &event.id,
        event_type: &event.event_type,
        timestamp: event.time.as_deref().unwrap_or(&event.received_at),
        data: &event.data,
    };
    serde_json::to_string(&body).unwrap_or_default()
}

/// The `webhook-signature` header value for one attempt.
pub fn sign(key: &[u8], webhook_id: &str, timestamp: i64, body: &str) -> String {
    // HMAC accepts keys of any length; this cannot fail.
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(webhook_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The test vector published with the Standard Webhooks specification.
    #[test]
    fn signature_matches_the_standard_webhooks_test_vector() {
        let key = decode_secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        assert_eq!(
            sign(
                &key,
                "msg_p5jXN8AQM9LWM0D4loKWxJek",
                1_614_265_330,
                r#"{"test": 2432232314}"#
            ),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn any_change_changes_the_signature() {
        let key = decode_secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let base = sign(&key, "msg_1", 1, "{}");
        assert_ne!(base, sign(&key, "msg_2", 1, "{}"));
        assert_ne!(base, sign(&key, "msg_1", 2, "{}"));
        assert_ne!(base, sign(&key, "msg_1", 1, "{ }"));
    }

    #[test]
    fn secrets_round_trip_and_weak_ones_are_rejected() {
        let secret = new_secret();
        assert!(secret.starts_with("whsec_"));
        assert_eq!(decode_secret(&secret).unwrap().len(), 32);
        assert_ne!(secret, new_secret());
        assert!(decode_secret("whsec_not base64!").is_err());
        assert!(decode_secret("whsec_c2hvcnQ=").is_err());
    }
}
