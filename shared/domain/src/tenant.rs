//! Tenants and their API keys. A key is shown once, at creation or rotation; only its SHA-256
//! is stored, so a leaked table does not leak credentials.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::DomainError;
use crate::ids::{TenantId, base32_lower, random_bytes};

/// Prefix of every API key, so secret scanners and humans recognise one.
const API_KEY_PREFIX: &str = "nk_";

/// A plaintext API key. Deliberately not `Debug`/`Display`: it must not reach a log line.
pub struct ApiKey(String);

impl ApiKey {
    /// 32 random bytes (256 bits) encoded as base32.
    pub fn generate() -> Self {
        Self(format!("{API_KEY_PREFIX}{}", base32_lower(&random_bytes::<32>())))
    }

    pub fn from_presented(value: &str) -> Self {
        Self(value.to_owned())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn hash(&self) -> ApiKeyHash {
        ApiKeyHash(hex::encode(Sha256::digest(self.0.as_bytes())))
    }
}

/// Hex SHA-256 of an API key: what the tenant store keeps and looks keys up by.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ApiKeyHash(pub String);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tenant {
    pub tenant_id: TenantId,
    pub name: String,
    pub created_at: String,
}

/// Port: the one question the API asks on every request.
#[async_trait]
pub trait TenantAuthenticator: Send + Sync {
    /// The tenant whose current key hashes to `hash`, if any.
    async fn tenant_for_key(&self, hash: &ApiKeyHash) -> Result<Option<TenantId>, DomainError>;
}

/// Extracts the key from an `Authorization` header value (`Bearer <key>`, scheme
/// case-insensitive). Anything else is treated as no key at all.
pub fn bearer_key(header_value: &str) -> Option<ApiKey> {
    let (scheme, key) = header_value.trim().split_once(' ')?;
    let key = key.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !key.is_empty()).then(|| ApiKey::from_presented(key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_are_prefixed_unique_and_hash_stably() {
        let a = ApiKey::generate();
        let b = ApiKey::generate();
        assert!(a.expose().starts_with("nk_"));
        assert_eq!(a.expose().len(), 3 + 52);
        assert_ne!(a.expose(), b.expose());
        assert_eq!(a.hash(), ApiKey::from_presented(a.expose()).hash());
        assert_ne!(a.hash(), b.hash());
    }

    #[test]
    fn key_hash_is_hex_sha256() {
        assert_eq!(
            ApiKey::from_presented("abc").hash().0,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn bearer_header_parsing() {
        assert_eq!(bearer_key("Bearer nk_x").unwrap().expose(), "nk_x");
        assert_eq!(bearer_key("bearer   nk_y ").unwrap().expose(), "nk_y");
        assert!(bearer_key("Basic abc").is_none());
        assert!(bearer_key("Bearer ").is_none());
        assert!(bearer_key("nk_x").is_none());
    }
}
