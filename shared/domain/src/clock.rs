//! The wall clock, as the records and messages use it (Unix time).

use std::time::{SystemTime, UNIX_EPOCH};

pub fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or_default()
}

pub fn unix_seconds() -> u64 {
    unix_ms() / 1000
}
