//! Key providers: where the AES key of a method comes from.
//!
//! Each provider hands out one encryption key per process (with the metadata stored beside the
//! ciphertext: a PBKDF2 salt, a KMS-wrapped data key) and derives decryption keys from the
//! metadata a payload carries, caching them, so that a journal sealed line by line costs one
//! derivation, not one per line. The metadata is OpenTofu's JSON: PBKDF2's `salt` (base64),
//! `iterations`, `hash_function`, `key_length`; AWS KMS's `ciphertext_blob` (base64).
//!
//! A pbkdf2 provider with `chain = key_provider.TYPE.NAME` takes the chained provider's key as
//! its passphrase: sealing asks that provider for its encryption key, and the chained
//! provider's metadata travels inside pbkdf2's (a `chain` field: `address` and base64 `meta`,
//! Strata's own form, not yet checked against a file OpenTofu wrote), so opening asks it for the
//! same key again.

use super::envelope::base64_bytes;
use super::EncryptionError;
use crate::config::encryption::KeyProviderBlock;
use crate::value::Value;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, OnceLock};

/// A key and the metadata that finds it again.
#[derive(Clone)]
pub struct IssuedKey {
    pub key: Vec<u8>,
    pub meta: Vec<u8>,
}

/// A configured key provider.
pub trait KeyProvider: Send + Sync {
    /// The key to encrypt with, and its metadata.
    fn encryption_key(&self) -> Result<IssuedKey, EncryptionError>;
    /// The key that `meta` (from a payload) designates.
    fn decryption_key(&self, meta: &[u8]) -> Result<Vec<u8>, EncryptionError>;
}

/// The key providers built so far, by (type, name).
pub type Built = BTreeMap<(String, String), Arc<dyn KeyProvider>>;

/// Builds the provider a `key_provider` block declares (already validated); a chained one
/// after the provider it chains to, which must be in `built`.
pub fn build(
    block: &KeyProviderBlock,
    built: &Built,
) -> Result<Box<dyn KeyProvider>, EncryptionError> {
    let address = format!("key_provider.{}.{}", block.kind, block.name);
    match block.kind.as_str() {
        "pbkdf2" => Ok(Box::new(Pbkdf2::from_block(block, address, built)?)),
        #[cfg(feature = "aws")]
        "aws_kms" => Ok(Box::new(super::kms::AwsKms::from_block(block, address))),
        other => Err(EncryptionError::Config(format!(
            "key provider \"{other}\" is not available in this build of Strata"
        ))),
    }
}

/// A string argument of a `key_provider` block.
pub(crate) fn setting<'a>(block: &'a KeyProviderBlock, key: &str) -> Option<&'a str> {
    block.settings.get(key).and_then(Value::as_str)
}

/// OpenTofu's PBKDF2 metadata.
#[derive(Serialize, Deserialize)]
struct Pbkdf2Meta {
    #[serde(with = "base64_bytes")]
    salt: Vec<u8>,
    iterations: u32,
    hash_function: String,
    key_length: usize,
    /// The chained provider's address and metadata (a chained pbkdf2 only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    chain: Option<ChainMeta>,
}

#[derive(Serialize, Deserialize)]
struct ChainMeta {
    address: String,
    #[serde(with = "base64_bytes")]
    meta: Vec<u8>,
}

/// Where a pbkdf2 provider's passphrase comes from.
enum Passphrase {
    Text(String),
    /// `chain`: another provider's key (its address, for messages and metadata).
    Chain(String, Arc<dyn KeyProvider>),
}

/// `key_provider "pbkdf2"`: a key derived from a passphrase.
pub struct Pbkdf2 {
    address: String,
    passphrase: Passphrase,
    iterations: u32,
    hash_function: String,
    key_length: usize,
    salt_length: usize,
    issued: OnceLock<IssuedKey>,
    derived: Mutex<HashMap<Vec<u8>, Vec<u8>>>,
}

impl Pbkdf2 {
    fn from_block(
        block: &KeyProviderBlock,
        address: String,
        built: &Built,
    ) -> Result<Pbkdf2, EncryptionError> {
        let number = |key: &str, default: i64| {
            block
                .settings
                .get(key)
                .and_then(|v| v.as_number()?.to_i64())
                .unwrap_or(default)
        };
        let passphrase = match (&block.chain, setting(block, "passphrase")) {
            (Some(chain), _) => {
                let upstream = built
                    .get(&(chain.kind.clone(), chain.name.clone()))
                    .ok_or_else(|| {
                        EncryptionError::Config(format!(
                            "{address} chains to key_provider.{}.{}, which is not built",
                            chain.kind, chain.name
                        ))
                    })?;
                let upstream_address = format!("key_provider.{}.{}", chain.kind, chain.name);
                Passphrase::Chain(upstream_address, upstream.clone())
            }
            (None, Some(text)) => Passphrase::Text(text.to_string()),
            (None, None) => {
                return Err(EncryptionError::Config(format!(
                    "{address} has no passphrase"
                )))
            }
        };
        Ok(Pbkdf2 {
            passphrase,
            iterations: u32::try_from(number("iterations", 600_000)).unwrap_or(600_000),
            hash_function: setting(block, "hash_function")
                .unwrap_or("sha512")
                .to_string(),
            key_length: usize::try_from(number("key_length", 32)).unwrap_or(32),
            salt_length: usize::try_from(number("salt_length", 32)).unwrap_or(32),
            address,
            issued: OnceLock::new(),
            derived: Mutex::new(HashMap::new()),
        })
    }

    /// The passphrase for `meta`: the text, or the chained provider's key (the one its
    /// metadata in `meta` designates; a new one when sealing).
    fn password(&self, meta: &Pbkdf2Meta) -> Result<Vec<u8>, EncryptionError> {
        match (&self.passphrase, &meta.chain) {
            (Passphrase::Text(text), _) => Ok(text.as_bytes().to_vec()),
            (Passphrase::Chain(_, upstream), Some(chain)) => upstream.decryption_key(&chain.meta),
            (Passphrase::Chain(upstream_address, _), None) => {
                Err(EncryptionError::Metadata(format!(
                    "{}: the metadata carries no key of the chained {upstream_address}",
                    self.address
                )))
            }
        }
    }

    fn derive(&self, meta: &Pbkdf2Meta) -> Result<Vec<u8>, EncryptionError> {
        let mut key = vec![0u8; meta.key_length];
        let password = self.password(meta)?;
        let password = password.as_slice();
        match meta.hash_function.as_str() {
            "sha256" => {
                pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password, &meta.salt, meta.iterations, &mut key)
            }
            "sha512" => {
                pbkdf2::pbkdf2_hmac::<sha2::Sha512>(password, &meta.salt, meta.iterations, &mut key)
            }
            other => {
                return Err(EncryptionError::Metadata(format!(
                    "{}: unknown hash function \"{other}\"",
                    self.address
                )))
            }
        }
        Ok(key)
    }
}

impl KeyProvider for Pbkdf2 {
    fn encryption_key(&self) -> Result<IssuedKey, EncryptionError> {
        if let Some(issued) = self.issued.get() {
            return Ok(issued.clone());
        }
        let mut salt = vec![0u8; self.salt_length];
        rand::rng().fill_bytes(&mut salt);
        let chain = match &self.passphrase {
            Passphrase::Text(_) => None,
            Passphrase::Chain(address, upstream) => Some(ChainMeta {
                address: address.clone(),
                meta: upstream.encryption_key()?.meta,
            }),
        };
        let meta = Pbkdf2Meta {
            salt,
            iterations: self.iterations,
            hash_function: self.hash_function.clone(),
            key_length: self.key_length,
            chain,
        };
        let key = self.derive(&meta)?;
        let meta =
            serde_json::to_vec(&meta).map_err(|e| EncryptionError::Metadata(e.to_string()))?;
        Ok(self.issued.get_or_init(|| IssuedKey { key, meta }).clone())
    }

    fn decryption_key(&self, meta: &[u8]) -> Result<Vec<u8>, EncryptionError> {
        if let Some(key) = self
            .derived
            .lock()
            .ok()
            .and_then(|cache| cache.get(meta).cloned())
        {
            return Ok(key);
        }
        let parsed: Pbkdf2Meta = serde_json::from_slice(meta).map_err(|e| {
            EncryptionError::Metadata(format!("{}: invalid metadata: {e}", self.address))
        })?;
        if parsed.iterations == 0 || parsed.key_length == 0 || parsed.key_length > 64 {
            return Err(EncryptionError::Metadata(format!(
                "{}: invalid metadata (iterations {}, key length {})",
                self.address, parsed.iterations, parsed.key_length
            )));
        }
        let key = self.derive(&parsed)?;
        if let Ok(mut cache) = self.derived.lock() {
            cache.insert(meta.to_vec(), key.clone());
        }
        Ok(key)
    }
}
