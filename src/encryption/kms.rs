//! `key_provider "aws_kms"`: AES keys from AWS KMS's `GenerateDataKey`, the wrapped copy
//! (`ciphertext_blob`) stored beside the ciphertext and unwrapped with `Decrypt` to read.
//!
//! Sealing and opening are synchronous (they sit where state bytes are read and written), so
//! each KMS call runs on a thread of its own with its own small runtime; a process makes one
//! `GenerateDataKey` call and one `Decrypt` per distinct wrapped key it reads.

use super::envelope::base64_bytes;
use super::keys::{setting, IssuedKey, KeyProvider};
use super::EncryptionError;
use crate::config::encryption::KeyProviderBlock;
use crate::value::Value;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

/// OpenTofu's metadata of the AWS KMS key provider.
#[derive(Serialize, Deserialize)]
struct KmsMeta {
    #[serde(with = "base64_bytes")]
    ciphertext_blob: Vec<u8>,
}

pub struct AwsKms {
    address: String,
    key_id: String,
    key_spec: String,
    region: Option<String>,
    profile: Option<String>,
    endpoint: Option<String>,
    credentials: Option<(String, String)>,
    issued: OnceLock<IssuedKey>,
    unwrapped: Mutex<HashMap<Vec<u8>, Vec<u8>>>,
}

impl AwsKms {
    pub fn from_block(block: &KeyProviderBlock, address: String) -> AwsKms {
        let text = |key: &str| setting(block, key).map(str::to_string);
        let endpoint = block
            .settings
            .get("endpoints")
            .and_then(|e| e.get_attr("kms"))
            .and_then(Value::as_str)
            .map(str::to_string);
        AwsKms {
            address,
            key_id: text("kms_key_id").unwrap_or_default(),
            key_spec: text("key_spec").unwrap_or_else(|| "AES_256".into()),
            region: text("region"),
            profile: text("profile"),
            endpoint,
            credentials: text("access_key").zip(text("secret_key")),
            issued: OnceLock::new(),
            unwrapped: Mutex::new(HashMap::new()),
        }
    }

    fn failure(&self, what: &str, error: impl std::fmt::Display) -> EncryptionError {
        EncryptionError::KeyProvider(format!(
            "{} ({}): {what} failed: {error}",
            self.address, self.key_id
        ))
    }

    /// Runs `call` with a KMS client on a thread and runtime of its own.
    fn with_client<T: Send>(
        &self,
        call: impl AsyncFnOnce(aws_sdk_kms::Client) -> Result<T, String> + Send,
    ) -> Result<T, String> {
        std::thread::scope(|scope| {
            scope
                .spawn(|| {
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .map_err(|e| e.to_string())?;
                    runtime.block_on(async {
                        let client = self.client().await;
                        call(client).await
                    })
                })
                .join()
                .unwrap_or_else(|_| Err("the KMS call panicked".into()))
        })
    }

    async fn client(&self) -> aws_sdk_kms::Client {
        let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
        if let Some(region) = &self.region {
            loader = loader.region(aws_config::Region::new(region.clone()));
        }
        if let Some(profile) = &self.profile {
            loader = loader.profile_name(profile);
        }
        if let Some((access_key, secret_key)) = &self.credentials {
            loader = loader.credentials_provider(aws_credential_types::Credentials::new(
                access_key.clone(),
                secret_key.clone(),
                None,
                None,
                "encryption-key-provider",
            ));
        }
        let shared = loader.load().await;
        let mut config = aws_sdk_kms::config::Builder::from(&shared);
        if let Some(endpoint) = &self.endpoint {
            config = config.endpoint_url(endpoint);
        }
        aws_sdk_kms::Client::from_conf(config.build())
    }
}

impl KeyProvider for AwsKms {
    fn encryption_key(&self) -> Result<IssuedKey, EncryptionError> {
        if let Some(issued) = self.issued.get() {
            return Ok(issued.clone());
        }
        let spec = aws_sdk_kms::types::DataKeySpec::from(self.key_spec.as_str());
        let key_id = self.key_id.clone();
        let (plaintext, blob) = self
            .with_client(async move |client| {
                let output = client
                    .generate_data_key()
                    .key_id(key_id)
                    .key_spec(spec)
                    .send()
                    .await
                    .map_err(|e| aws_sdk_kms::error::DisplayErrorContext(e).to_string())?;
                let plaintext = output.plaintext.ok_or("no plaintext key returned")?;
                let blob = output
                    .ciphertext_blob
                    .ok_or("no ciphertext blob returned")?;
                Ok((plaintext.into_inner(), blob.into_inner()))
            })
            .map_err(|e| self.failure("GenerateDataKey", e))?;
        let meta = serde_json::to_vec(&KmsMeta {
            ciphertext_blob: blob,
        })
        .map_err(|e| EncryptionError::Metadata(e.to_string()))?;
        Ok(self
            .issued
            .get_or_init(|| IssuedKey {
                key: plaintext,
                meta,
            })
            .clone())
    }

    fn decryption_key(&self, meta: &[u8]) -> Result<Vec<u8>, EncryptionError> {
        if let Some(key) = self
            .unwrapped
            .lock()
            .ok()
            .and_then(|c| c.get(meta).cloned())
        {
            return Ok(key);
        }
        let parsed: KmsMeta = serde_json::from_slice(meta).map_err(|e| {
            EncryptionError::Metadata(format!("{}: invalid metadata: {e}", self.address))
        })?;
        let key_id = self.key_id.clone();
        let key = self
            .with_client(async move |client| {
                let output = client
                    .decrypt()
                    .key_id(key_id)
                    .ciphertext_blob(aws_sdk_kms::primitives::Blob::new(parsed.ciphertext_blob))
                    .send()
                    .await
                    .map_err(|e| aws_sdk_kms::error::DisplayErrorContext(e).to_string())?;
                Ok(output
                    .plaintext
                    .ok_or("no plaintext key returned")?
                    .into_inner())
            })
            .map_err(|e| self.failure("Decrypt", e))?;
        if let Ok(mut cache) = self.unwrapped.lock() {
            cache.insert(meta.to_vec(), key.clone());
        }
        Ok(key)
    }
}
