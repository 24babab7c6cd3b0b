//! `notifier-cli tenant ...`: what each subcommand prints is JSON, for scripts and humans.

use notifier_aws::AdapterError;
use notifier_aws::tenants::DynamoTenantStore;
use notifier_domain::ids::TenantId;
use serde_json::{Value, json};

use crate::CliError;

/// `tenant create <name>`: `{"tenant_id", "api_key"}`; the key is shown this once.
pub async fn create(store: &DynamoTenantStore, name: &str) -> Result<Value, CliError> {
    let (tenant, key) = store.create(name).await?;
    Ok(json!({ "tenant_id": tenant.tenant_id, "name": tenant.name, "api_key": key.expose() }))
}

/// `tenant list`: every tenant, without keys (only their hashes are stored).
pub async fn list(store: &DynamoTenantStore) -> Result<Value, CliError> {
    Ok(serde_json::to_value(store.list().await?).unwrap_or_default())
}

/// `tenant rotate-key <tenant_id>`: a new key; the old one stops working.
pub async fn rotate_key(store: &DynamoTenantStore, tenant_id: &str) -> Result<Value, CliError> {
    match store.rotate_key(&TenantId(tenant_id.to_owned())).await {
        Ok(key) => Ok(json!({ "tenant_id": tenant_id, "api_key": key.expose() })),
        Err(AdapterError::NotFound) => Err(CliError::TenantNotFound(tenant_id.to_owned())),
        Err(other) => Err(other.into()),
    }
}

pub fn validate_name(name: &str) -> Result<String, String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 128 || name.chars().any(char::is_control) {
        return Err("a tenant name is 1 to 128 printable characters".into());
    }
    Ok(name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenant_names_are_checked() {
        assert_eq!(validate_name(" Acme Shop ").unwrap(), "Acme Shop");
        assert!(validate_name("").is_err());
        assert!(validate_name("   ").is_err());
        assert!(validate_name("bad\nname").is_err());
        assert!(validate_name(&"x".repeat(129)).is_err());
    }
}
