//! Idempotent publishing. The idempotency key is the `Idempotency-Key` header, else the body's
//! `id`. The event id is derived from (tenant, key), so one conditional write both stores the
//! event and claims the key; a second request with the same key meets the stored event and is
//! judged by comparing payload fingerprints.

use serde_json::json;
use sha2::{Digest, Sha256};

use crate::event::PublishedEvent;
use crate::ids::{TenantId, base32_lower, new_id};

/// How long after acceptance a repeat of the same request is treated as possibly concurrent
/// with the first (409, retry later) rather than as a duplicate (200). Ingest bounds its own
/// enqueue step below this, so no first request is still running once it has passed.
pub const IN_FLIGHT_LEASE_MS: u64 = 5_000;

/// The key a request is deduplicated by, if it has one.
pub fn idempotency_key<'a>(header: Option<&'a str>, client_id: Option<&'a str>) -> Option<&'a str> {
    header.or(client_id)
}

/// `Idempotency-Key` header values: 1 to 255 printable characters.
pub fn is_valid_idempotency_key(value: &str) -> bool {
    crate::validation::is_printable(value, 255)
}

/// The event id for a request: derived from the key when there is one (so the same key always
/// names the same event), random otherwise.
pub fn event_id_for(tenant: &TenantId, key: Option<&str>) -> String {
    match key {
        Some(key) => {
            let digest = Sha256::new()
                .chain_update(tenant.0.as_bytes())
                .chain_update([0])
                .chain_update(key.as_bytes());
            format!("evt_{}", &base32_lower(&digest.finalize())[..26])
        }
        None => new_id("evt"),
    }
}

/// Fingerprint of what was published, independent of JSON key order and whitespace.
pub fn payload_fingerprint(event: &PublishedEvent) -> String {
    // serde_json's map is ordered by key, so this serialisation is canonical for our purposes.
    let canonical = json!({
        "type": event.event_type, "data": event.data, "id": event.client_id,
        "source": event.source, "subject": event.subject, "time": event.time,
    });
    hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
}

/// What a request whose key is already taken gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RepeatOutcome {
    /// Same payload, first request done: 200 with the original id, nothing new delivered.
    Duplicate,
    /// Same payload, first request possibly still running: 409, retry later.
    InFlight,
    /// Different payload under the same key: 422.
    KeyReused,
}

pub fn judge_repeat(
    stored_fingerprint: &str,
    accepted_at_ms: u64,
    fingerprint: &str,
    now_ms: u64,
) -> RepeatOutcome {
    if stored_fingerprint != fingerprint {
        RepeatOutcome::KeyReused
    } else if now_ms < accepted_at_ms.saturating_add(IN_FLIGHT_LEASE_MS) {
        RepeatOutcome::InFlight
    } else {
        RepeatOutcome::Duplicate
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::event::parse_published_event;

    fn event(body: serde_json::Value) -> PublishedEvent {
        parse_published_event(body.to_string().as_bytes(), false).unwrap()
    }

    #[test]
    fn header_wins_over_body_id() {
        assert_eq!(idempotency_key(Some("h"), Some("b")), Some("h"));
        assert_eq!(idempotency_key(None, Some("b")), Some("b"));
        assert_eq!(idempotency_key(None, None), None);
    }

    #[test]
    fn event_ids_are_stable_per_tenant_and_key() {
        let a = TenantId("ten_a".into());
        let b = TenantId("ten_b".into());
        assert_eq!(event_id_for(&a, Some("k1")), event_id_for(&a, Some("k1")));
        assert_ne!(event_id_for(&a, Some("k1")), event_id_for(&a, Some("k2")));
        assert_ne!(event_id_for(&a, Some("k1")), event_id_for(&b, Some("k1")));
        assert_ne!(event_id_for(&a, None), event_id_for(&a, None));
        assert!(event_id_for(&a, Some("k1")).starts_with("evt_"));
        assert_eq!(event_id_for(&a, Some("k1")).len(), 30);
    }

    #[test]
    fn fingerprint_ignores_key_order_and_whitespace_but_not_content() {
        let one = event(json!({"type": "a.b", "data": {"x": 1, "y": 2}}));
        let reordered = parse_published_event(br#"{ "data": {"y":2,"x":1}, "type":"a.b" }"#, false).unwrap();
        let different = event(json!({"type": "a.b", "data": {"x": 1, "y": 3}}));
        assert_eq!(payload_fingerprint(&one), payload_fingerprint(&reordered));
        assert_ne!(payload_fingerprint(&one), payload_fingerprint(&different));
    }

    #[test]
    fn repeats_are_judged_by_payload_then_time() {
        let at = 1_000_000;
        assert_eq!(judge_repeat("h1", at, "h2", at + 10), RepeatOutcome::KeyReused);
        assert_eq!(
            judge_repeat("h1", at, "h2", at + 999_999),
            RepeatOutcome::KeyReused
        );
        assert_eq!(judge_repeat("h1", at, "h1", at + 10), RepeatOutcome::InFlight);
        assert_eq!(
            judge_repeat("h1", at, "h1", at + IN_FLIGHT_LEASE_MS),
            RepeatOutcome::Duplicate
        );
    }

    #[test]
    fn idempotency_key_header_values() {
        assert!(is_valid_idempotency_key("order-123"));
        assert!(!is_valid_idempotency_key(""));
        assert!(!is_valid_idempotency_key(&"k".repeat(256)));
        assert!(!is_valid_idempotency_key("a\u{7}b"));
    }
}
