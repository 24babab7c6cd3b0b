//! Identifiers: random, URL-safe, prefixed with what they name (`ten_`, `evt_`, `sub_`), so a
//! misplaced id is obvious in logs and support tickets.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Random bytes from the operating system. Panics only if the OS has no entropy source, which
/// on Lambda and Linux cannot happen after boot.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).expect("the operating system provides randomness");
    bytes
}

/// Lower-case base32 (RFC 4648 alphabet, no padding): case-insensitive and URL-safe.
pub fn base32_lower(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let mut buffer: u32 = 0;
    let mut bits = 0u32;
    for &byte in bytes {
        buffer = (buffer << 8) | u32::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(ALPHABET[((buffer >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(ALPHABET[((buffer << (5 - bits)) & 31) as usize] as char);
    }
    out
}

/// A new random id: `prefix` + `_` + 26 base32 characters (130 bits of randomness).
pub fn new_id(prefix: &str) -> String {
    format!(
        "{prefix}_{}",
        base32_lower(&random_bytes::<17>())[..26].to_owned()
    )
}

/// The tenant an API key belongs to; every record is scoped by it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TenantId(pub String);

impl TenantId {
    pub fn generate() -> Self {
        Self(new_id("ten"))
    }
}

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base32_matches_rfc4648_vectors_in_lower_case() {
        assert_eq!(base32_lower(b""), "");
        assert_eq!(base32_lower(b"f"), "my");
        assert_eq!(base32_lower(b"fo"), "mzxq");
        assert_eq!(base32_lower(b"foobar"), "mzxw6ytboi");
    }

    #[test]
    fn new_ids_are_prefixed_distinct_and_fixed_length() {
        let a = new_id("evt");
        let b = new_id("evt");
        assert!(a.starts_with("evt_"));
        assert_eq!(a.len(), 4 + 26);
        assert_ne!(a, b);
    }
}
