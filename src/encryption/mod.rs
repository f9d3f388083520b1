//! State and plan encryption at rest, compatible with OpenTofu's: the same `encryption` block
//! (`config::encryption`), the same on-disk envelope (`envelope`), the same key providers
//! (`keys`: `pbkdf2`, and `aws_kms` with the `aws` feature) and the `aes_gcm` / `unencrypted`
//! methods, so that a state OpenTofu encrypted opens in Strata and the other way round.
//! Terraform itself has no state encryption: an encrypted state is for Strata and OpenTofu only.
//!
//! The hook is a [`Sealer`] per target (state, plan, each remote state): `seal(bytes)` where the
//! bytes are written, `open(location, bytes)` where they are read. The journal seals each line
//! on its own (see `state::journal`). A sealer without configuration passes plaintext through
//! and refuses an encrypted payload with a message saying how to configure its key.

mod envelope;
mod keys;
#[cfg(feature = "aws")]
mod kms;
pub mod statics;

use crate::config::encryption::{EncryptionConfig, TargetBlock};
use aes_gcm::aead::consts::U12;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes128Gcm, Aes256Gcm, AesGcm};
use envelope::Envelope;
use keys::KeyProvider;
use rand::RngCore;
use std::collections::BTreeMap;
use std::sync::Arc;

pub use envelope::VERSION as ENCRYPTION_VERSION;

/// Why sealing or opening failed. Messages name the file and what to do; never a key.
#[derive(Debug, thiserror::Error)]
pub enum EncryptionError {
    #[error("cannot decrypt the {what} in `{location}`: {failures}. The key or passphrase of the encryption configuration (the `encryption` block or TF_ENCRYPTION) is not the one it was encrypted with: set the right one (when changing keys, keep the old method as a `fallback`). Nothing was written.")]
    Decrypt {
        what: String,
        location: String,
        failures: String,
    },
    #[error("`{location}` holds an unencrypted {what}, but the encryption configuration has no unencrypted method for the {what}: to encrypt an existing plaintext {what}, declare `method \"unencrypted\" \"migrate\" {{}}` and add `fallback {{ method = method.unencrypted.migrate }}` to the {what} block for one run. Nothing was written.")]
    NotEncrypted { what: String, location: String },
    #[error("`{location}` is an encrypted {what} (OpenTofu's state encryption), and no encryption is configured for the {what}: add the `encryption` block (key provider, method and a `{what}` block) to the terraform block, or set TF_ENCRYPTION. Terraform itself cannot read encrypted state.")]
    NotConfigured { what: String, location: String },
    #[error("`{location}` is not a valid encrypted {what}: {message}")]
    Malformed {
        what: String,
        location: String,
        message: String,
    },
    #[error("encryption key provider failed: {0}")]
    KeyProvider(String),
    #[error("invalid encryption metadata: {0}")]
    Metadata(String),
    #[error("invalid encryption configuration: {0}")]
    Config(String),
    #[error("encrypting the {0} failed")]
    Seal(String),
}

/// One way to seal: no encryption, or AES-GCM with a key provider's key.
enum Method {
    Unencrypted,
    AesGcm {
        /// `key_provider.TYPE.NAME`: the key of its metadata in the envelope.
        provider_address: String,
        /// `method.aes_gcm.NAME`, for messages.
        address: String,
        provider: Arc<dyn KeyProvider>,
        aad: Vec<u8>,
    },
}

/// A target's methods: the first seals, all are tried to open (the fallbacks after).
struct Target {
    what: String,
    methods: Vec<Arc<Method>>,
}

/// Seals and opens one target's bytes; the default passes plaintext through.
#[derive(Clone, Default)]
pub struct Sealer {
    target: Option<Arc<Target>>,
    /// What it seals when unconfigured ("state" or "plan"), for messages.
    what: Option<&'static str>,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Sealer({})",
            if self.is_active() {
                "encrypting"
            } else {
                "plaintext"
            }
        )
    }
}

impl Sealer {
    /// A sealer that passes plaintext through and names `what` in its refusals.
    pub fn plaintext(what: &'static str) -> Sealer {
        Sealer {
            target: None,
            what: Some(what),
        }
    }

    /// Whether anything is configured for this target.
    pub fn is_active(&self) -> bool {
        self.target.is_some()
    }

    fn what(&self) -> String {
        match &self.target {
            Some(target) => target.what.clone(),
            None => self.what.unwrap_or("state").to_string(),
        }
    }

    /// The bytes to write for `plaintext`.
    pub fn seal(&self, plaintext: &[u8]) -> Result<Vec<u8>, EncryptionError> {
        let Some(target) = &self.target else {
            return Ok(plaintext.to_vec());
        };
        match target.methods.first().map(|m| &**m) {
            None | Some(Method::Unencrypted) => Ok(plaintext.to_vec()),
            Some(Method::AesGcm {
                provider_address,
                provider,
                aad,
                ..
            }) => {
                let issued = provider.encryption_key()?;
                let data = aes_gcm_seal(&issued.key, aad, plaintext)
                    .ok_or_else(|| EncryptionError::Seal(target.what.clone()))?;
                let meta = BTreeMap::from([(provider_address.clone(), issued.meta)]);
                Ok(Envelope::new(plaintext, meta, data).to_bytes())
            }
        }
    }

    /// The plaintext of `bytes` read from `location`.
    pub fn open(&self, location: &str, bytes: &[u8]) -> Result<Vec<u8>, EncryptionError> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(bytes.to_vec());
        }
        let what = self.what();
        let envelope = match Envelope::parse(bytes) {
            None => return self.open_plaintext(location, bytes),
            Some(Err(message)) => {
                return Err(EncryptionError::Malformed {
                    what,
                    location: location.to_string(),
                    message,
                })
            }
            Some(Ok(envelope)) => envelope,
        };
        if envelope.encryption_version != envelope::VERSION {
            return Err(EncryptionError::Malformed {
                what,
                location: location.to_string(),
                message: format!(
                    "encryption version \"{}\" is not the one Strata reads (\"{}\")",
                    envelope.encryption_version,
                    envelope::VERSION
                ),
            });
        }
        let Some(target) = &self.target else {
            return Err(EncryptionError::NotConfigured {
                what,
                location: location.to_string(),
            });
        };
        let mut failures = Vec::new();
        for method in &target.methods {
            match open_with(method, &envelope) {
                Some(Ok(plaintext)) => return Ok(plaintext),
                Some(Err(failure)) => failures.push(failure),
                None => {}
            }
        }
        if failures.is_empty() {
            failures.push("the configuration has only the unencrypted method for it".into());
        }
        Err(EncryptionError::Decrypt {
            what,
            location: location.to_string(),
            failures: failures.join("; "),
        })
    }

    fn open_plaintext(&self, location: &str, bytes: &[u8]) -> Result<Vec<u8>, EncryptionError> {
        match &self.target {
            Some(target)
                if !target
                    .methods
                    .iter()
                    .any(|m| matches!(**m, Method::Unencrypted)) =>
            {
                Err(EncryptionError::NotEncrypted {
                    what: target.what.clone(),
                    location: location.to_string(),
                })
            }
            _ => Ok(bytes.to_vec()),
        }
    }
}

/// Tries one method on an envelope: `None` for the unencrypted method (not applicable).
fn open_with(method: &Method, envelope: &Envelope) -> Option<Result<Vec<u8>, String>> {
    let Method::AesGcm {
        provider_address,
        address,
        provider,
        aad,
    } = method
    else {
        return None;
    };
    let Some(meta) = envelope.meta.get(provider_address) else {
        return Some(Err(format!(
            "{address}: the file carries no key metadata of {provider_address} (it was encrypted with another key provider)"
        )));
    };
    Some(match provider.decryption_key(meta) {
        Err(error) => Err(format!("{address}: {error}")),
        Ok(key) => aes_gcm_open(&key, aad, &envelope.encrypted_data)
            .ok_or_else(|| format!("{address}: wrong key, or the data was altered")),
    })
}

fn aes_gcm_seal(key: &[u8], aad: &[u8], plaintext: &[u8]) -> Option<Vec<u8>> {
    let mut nonce = [0u8; 12];
    rand::rng().fill_bytes(&mut nonce);
    let payload = Payload {
        msg: plaintext,
        aad,
    };
    let sealed = match key.len() {
        16 => Aes128Gcm::new_from_slice(key)
            .ok()?
            .encrypt((&nonce).into(), payload),
        24 => AesGcm::<aes_gcm::aes::Aes192, U12>::new_from_slice(key)
            .ok()?
            .encrypt((&nonce).into(), payload),
        32 => Aes256Gcm::new_from_slice(key)
            .ok()?
            .encrypt((&nonce).into(), payload),
        _ => return None,
    }
    .ok()?;
    let mut out = nonce.to_vec();
    out.extend(sealed);
    Some(out)
}

fn aes_gcm_open(key: &[u8], aad: &[u8], data: &[u8]) -> Option<Vec<u8>> {
    if data.len() < 12 {
        return None;
    }
    let (nonce, ciphertext) = data.split_at(12);
    let payload = Payload {
        msg: ciphertext,
        aad,
    };
    match key.len() {
        16 => Aes128Gcm::new_from_slice(key)
            .ok()?
            .decrypt(nonce.into(), payload),
        24 => AesGcm::<aes_gcm::aes::Aes192, U12>::new_from_slice(key)
            .ok()?
            .decrypt(nonce.into(), payload),
        32 => Aes256Gcm::new_from_slice(key)
            .ok()?
            .decrypt(nonce.into(), payload),
        _ => return None,
    }
    .ok()
}

/// The sealers of every target an `encryption` configuration names.
#[derive(Clone, Debug, Default)]
pub struct Encryption {
    pub state: Sealer,
    pub plan: Sealer,
    remote_default: Sealer,
    remote_named: BTreeMap<String, Sealer>,
}

impl Encryption {
    /// No encryption: plaintext passes, encrypted payloads are refused with directions.
    pub fn none() -> Encryption {
        Encryption {
            state: Sealer::plaintext("state"),
            plan: Sealer::plaintext("plan"),
            remote_default: Sealer::plaintext("state"),
            remote_named: BTreeMap::new(),
        }
    }

    /// Builds the sealers of a validated configuration (`config::encryption::validate`).
    pub fn new(config: Option<&EncryptionConfig>) -> Result<Encryption, EncryptionError> {
        let Some(config) = config else {
            return Ok(Encryption::none());
        };
        let providers = build_key_providers(config)?;
        let mut methods: BTreeMap<(String, String), Arc<Method>> = BTreeMap::new();
        for block in &config.methods {
            let method = match block.kind.as_str() {
                "unencrypted" => Method::Unencrypted,
                _ => {
                    let keys = block.keys.as_ref().ok_or_else(|| {
                        EncryptionError::Config(format!(
                            "method.{}.{} has no keys",
                            block.kind, block.name
                        ))
                    })?;
                    let provider = providers
                        .get(&(keys.kind.clone(), keys.name.clone()))
                        .ok_or_else(|| {
                            EncryptionError::Config(format!(
                                "no key_provider.{}.{}",
                                keys.kind, keys.name
                            ))
                        })?;
                    let alias = config
                        .key_providers
                        .iter()
                        .find(|p| keys.matches(&p.kind, &p.name))
                        .and_then(|p| keys::setting(p, "encrypted_metadata_alias"));
                    Method::AesGcm {
                        provider_address: alias.map_or_else(
                            || format!("key_provider.{}.{}", keys.kind, keys.name),
                            str::to_string,
                        ),
                        address: format!("method.{}.{}", block.kind, block.name),
                        provider: provider.clone(),
                        aad: block.aad.clone().unwrap_or_default().into_bytes(),
                    }
                }
            };
            methods.insert((block.kind.clone(), block.name.clone()), Arc::new(method));
        }
        let sealer =
            |what: &'static str, block: Option<&TargetBlock>| -> Result<Sealer, EncryptionError> {
                let Some(block) = block else {
                    return Ok(Sealer::plaintext(what));
                };
                let chain = block
                    .chain()
                    .into_iter()
                    .map(|r| {
                        methods
                            .get(&(r.kind.clone(), r.name.clone()))
                            .cloned()
                            .ok_or_else(|| {
                                EncryptionError::Config(format!("no method.{}.{}", r.kind, r.name))
                            })
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(Sealer {
                    target: Some(Arc::new(Target {
                        what: what.to_string(),
                        methods: chain,
                    })),
                    what: Some(what),
                })
            };
        let mut remote_named = BTreeMap::new();
        for (name, block) in &config.remote_state_sources {
            remote_named.insert(name.clone(), sealer("state", Some(block))?);
        }
        Ok(Encryption {
            state: sealer("state", config.state.as_ref())?,
            plan: sealer("plan", config.plan.as_ref())?,
            remote_default: sealer("state", config.remote_state_default.as_ref())?,
            remote_named,
        })
    }

    /// The sealer for the `terraform_remote_state` data source `name` (`remote_state_data_source
    /// "NAME"`, else `default`).
    pub fn remote_state(&self, name: &str) -> Sealer {
        self.remote_named
            .get(name)
            .cloned()
            .unwrap_or_else(|| self.remote_default.clone())
    }

    /// A sealer that opens with any method of `remote_state_data_sources` (`default` first,
    /// then each named source's): the built-in provider does not know the data source's name.
    pub fn any_remote_state(&self) -> Sealer {
        let mut methods: Vec<Arc<Method>> = Vec::new();
        let sealers = std::iter::once(&self.remote_default).chain(self.remote_named.values());
        for target in sealers.filter_map(|s| s.target.as_ref()) {
            for method in &target.methods {
                if !methods.iter().any(|m| Arc::ptr_eq(m, method)) {
                    methods.push(method.clone());
                }
            }
        }
        if methods.is_empty() {
            return Sealer::plaintext("state");
        }
        Sealer {
            target: Some(Arc::new(Target {
                what: "state".into(),
                methods,
            })),
            what: Some("state"),
        }
    }
}

/// What `terraform_remote_state` reads with: set by the command from the configuration (the
/// built-in provider sees only the data source's arguments).
static REMOTE_STATE: std::sync::RwLock<Option<Encryption>> = std::sync::RwLock::new(None);

/// Builds every key provider, each chained one after the provider it chains to (validation
/// has refused unknown providers and cycles; a leftover cycle is an error here too).
fn build_key_providers(config: &EncryptionConfig) -> Result<keys::Built, EncryptionError> {
    let mut built = keys::Built::new();
    let mut pending: Vec<_> = config.key_providers.iter().collect();
    while !pending.is_empty() {
        let before = pending.len();
        let mut still = Vec::new();
        for block in pending {
            let ready = block
                .chain
                .as_ref()
                .is_none_or(|chain| built.contains_key(&(chain.kind.clone(), chain.name.clone())));
            if ready {
                let provider = keys::build(block, &built)?;
                built.insert(
                    (block.kind.clone(), block.name.clone()),
                    Arc::from(provider),
                );
            } else {
                still.push(block);
            }
        }
        if still.len() == before {
            return Err(EncryptionError::Config(
                "the key providers' chains form a cycle or name an undeclared provider".into(),
            ));
        }
        pending = still;
    }
    Ok(built)
}

/// Makes `encryption` the one `terraform_remote_state` reads with in this process.
pub fn use_for_remote_state(encryption: &Encryption) {
    if let Ok(mut slot) = REMOTE_STATE.write() {
        *slot = Some(encryption.clone());
    }
}

/// The sealer `terraform_remote_state` reads with: any method `remote_state_data_sources`
/// names.
pub fn remote_state_sealer() -> Sealer {
    REMOTE_STATE
        .read()
        .ok()
        .and_then(|slot| slot.as_ref().map(Encryption::any_remote_state))
        .unwrap_or_else(|| Sealer::plaintext("state"))
}

#[cfg(test)]
mod tests;
