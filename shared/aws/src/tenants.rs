//! Tenants in DynamoDB. One table, two kinds of item under the partition key `pk`:
//! `TENANT#<tenant_id>` (name, creation time, hash of the current key) and `KEY#<key hash>`
//! (the tenant it authenticates). Authentication is then one `GetItem`, and rotating a key is
//! one transaction that swaps the `KEY#` items, so the old key stops working at once.

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{Delete, Put, TransactWriteItem, Update};
use notifier_domain::DomainError;
use notifier_domain::ids::TenantId;
use notifier_domain::tenant::{ApiKey, ApiKeyHash, Tenant, TenantAuthenticator};

use crate::dynamo::{Item, get_s, s};
use crate::{AdapterError, now_rfc3339};

const TENANT_PREFIX: &str = "TENANT#";
const KEY_PREFIX: &str = "KEY#";

#[derive(Clone)]
pub struct DynamoTenantStore {
    client: Client,
    table: String,
}

impl DynamoTenantStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    /// Creates a tenant and its first API key; the plaintext key is returned once.
    pub async fn create(&self, name: &str) -> Result<(Tenant, ApiKey), AdapterError> {
        let tenant = Tenant {
            tenant_id: TenantId::generate(),
            name: name.to_owned(),
            created_at: now_rfc3339(),
        };
        let key = ApiKey::generate();
        let hash = key.hash();
        let tenant_item = Put::builder()
            .table_name(&self.table)
            .item("pk", s(format!("{TENANT_PREFIX}{}", tenant.tenant_id)))
            .item("tenant_id", s(&tenant.tenant_id.0))
            .item("name", s(&tenant.name))
            .item("created_at", s(&tenant.created_at))
            .item("key_hash", s(&hash.0))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(|e| AdapterError::service("build tenant put", e))?;
        self.client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().put(tenant_item).build())
            .transact_items(self.key_put(&hash, &tenant.tenant_id)?)
            .send()
            .await
            .map_err(|e| AdapterError::service("TransactWriteItems (create tenant)", e))?;
        Ok((tenant, key))
    }

    /// All tenants, oldest first. An operator command: a scan is acceptable here and nowhere
    /// on a request path.
    pub async fn list(&self) -> Result<Vec<Tenant>, AdapterError> {
        let mut tenants = Vec::new();
        let mut pages = self
            .client
            .scan()
            .table_name(&self.table)
            .filter_expression("begins_with(pk, :prefix)")
            .expression_attribute_values(":prefix", s(TENANT_PREFIX))
            .into_paginator()
            .items()
            .send();
        while let Some(item) = pages.next().await {
            let item = item.map_err(|e| AdapterError::service("Scan (list tenants)", e))?;
            tenants.push(self.read_tenant(&item)?);
        }
        tenants.sort_by(|a, b| {
            a.created_at
                .cmp(&b.created_at)
                .then(a.tenant_id.0.cmp(&b.tenant_id.0))
        });
        Ok(tenants)
    }

    /// Replaces the tenant's key; the old key stops authenticating in the same transaction.
    pub async fn rotate_key(&self, tenant_id: &TenantId) -> Result<ApiKey, AdapterError> {
        let current = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(format!("{TENANT_PREFIX}{tenant_id}")))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| AdapterError::service("GetItem (tenant)", e))?
            .item
            .ok_or(AdapterError::NotFound)?;
        let old_hash = get_s(&current, &self.table, "key_hash")?;
        let key = ApiKey::generate();
        let new_hash = key.hash();
        let swap_hash = Update::builder()
            .table_name(&self.table)
            .key("pk", s(format!("{TENANT_PREFIX}{tenant_id}")))
            .update_expression("SET key_hash = :new")
            .condition_expression("key_hash = :old")
            .expression_attribute_values(":new", s(&new_hash.0))
            .expression_attribute_values(":old", s(&old_hash))
            .build()
            .map_err(|e| AdapterError::service("build tenant update", e))?;
        let delete_old = Delete::builder()
            .table_name(&self.table)
            .key("pk", s(format!("{KEY_PREFIX}{old_hash}")))
            .build()
            .map_err(|e| AdapterError::service("build key delete", e))?;
        self.client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().update(swap_hash).build())
            .transact_items(TransactWriteItem::builder().delete(delete_old).build())
            .transact_items(self.key_put(&new_hash, tenant_id)?)
            .send()
            .await
            .map_err(|e| AdapterError::service("TransactWriteItems (rotate key)", e))?;
        Ok(key)
    }

    fn key_put(&self, hash: &ApiKeyHash, tenant_id: &TenantId) -> Result<TransactWriteItem, AdapterError> {
        let put = Put::builder()
            .table_name(&self.table)
            .item("pk", s(format!("{KEY_PREFIX}{}", hash.0)))
            .item("tenant_id", s(&tenant_id.0))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(|e| AdapterError::service("build key put", e))?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    fn read_tenant(&self, item: &Item) -> Result<Tenant, AdapterError> {
        Ok(Tenant {
            tenant_id: TenantId(get_s(item, &self.table, "tenant_id")?),
            name: get_s(item, &self.table, "name")?,
            created_at: get_s(item, &self.table, "created_at")?,
        })
    }
}

#[async_trait]
impl TenantAuthenticator for DynamoTenantStore {
    async fn tenant_for_key(&self, hash: &ApiKeyHash) -> Result<Option<TenantId>, DomainError> {
        let item = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(format!("{KEY_PREFIX}{}", hash.0)))
            .projection_expression("tenant_id")
            .send()
            .await
            .map_err(|e| AdapterError::service("GetItem (api key)", e))?
            .item;
        match item {
            Some(item) => Ok(Some(TenantId(get_s(&item, &self.table, "tenant_id")?))),
            None => Ok(None),
        }
    }
}
