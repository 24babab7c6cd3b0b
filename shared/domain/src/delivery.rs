//! A delivery: one event to one subscription, with the state an API caller sees
//! (`pending` → `retrying`* → `delivered` | `failed`) and what each attempt leaves behind.

use serde::{Deserialize, Serialize};

use crate::subscription::Channel;

/// Longest `last_error` kept: enough to diagnose, too short to store a whole error page.
pub const MAX_ERROR_CHARS: usize = 512;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryStatus {
    Pending,
    Retrying,
    Delivered,
    Failed,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Retrying => "retrying",
            Self::Delivered => "delivered",
            Self::Failed => "failed",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "pending" => Some(Self::Pending),
            "retrying" => Some(Self::Retrying),
            "delivered" => Some(Self::Delivered),
            "failed" => Some(Self::Failed),
            _ => None,
        }
    }

    /// Nothing more will happen to a delivery in a final state.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Delivered | Self::Failed)
    }
}

/// A delivery as `GET /v1/events/{id}` shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Delivery {
    pub subscription_id: String,
    pub channel: Channel,
    pub status: DeliveryStatus,
    pub attempts: u32,
    pub last_status_code: Option<u16>,
    pub last_error: Option<String>,
    pub updated_at: String,
}

/// What one attempt leaves on the delivery record.
#[derive(Debug, Clone, PartialEq)]
pub struct AttemptOutcome {
    pub status: DeliveryStatus,
    pub status_code: Option<u16>,
    pub error: Option<String>,
}

impl AttemptOutcome {
    pub fn delivered(status_code: Option<u16>) -> Self {
        Self {
            status: DeliveryStatus::Delivered,
            status_code,
            error: None,
        }
    }

    /// Given up for good, with the reason (truncated to `MAX_ERROR_CHARS`).
    pub fn failed(reason: &str) -> Self {
        Self {
            status: DeliveryStatus::Failed,
            status_code: None,
            error: Some(truncate_error(reason)),
        }
    }
}

/// Cuts an error message to `MAX_ERROR_CHARS` characters, on a character boundary.
pub fn truncate_error(message: &str) -> String {
    match message.char_indices().nth(MAX_ERROR_CHARS) {
        Some((cut, _)) => format!("{}…", &message[..cut]),
        None => message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_and_know_when_they_are_final() {
        for status in [
            DeliveryStatus::Pending,
            DeliveryStatus::Retrying,
            DeliveryStatus::Delivered,
            DeliveryStatus::Failed,
        ] {
            assert_eq!(DeliveryStatus::parse(status.as_str()), Some(status));
        }
        assert!(DeliveryStatus::Delivered.is_final());
        assert!(DeliveryStatus::Failed.is_final());
        assert!(!DeliveryStatus::Retrying.is_final());
        assert_eq!(DeliveryStatus::parse("done"), None);
    }

    #[test]
    fn errors_are_truncated_on_character_boundaries() {
        assert_eq!(truncate_error("short"), "short");
        let long = "é".repeat(MAX_ERROR_CHARS + 10);
        let cut = truncate_error(&long);
        assert_eq!(cut.chars().count(), MAX_ERROR_CHARS + 1);
        assert!(cut.ends_with('…'));
    }
}
