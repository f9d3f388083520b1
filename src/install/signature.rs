//! The OpenPGP check `terraform init` makes of a registry provider: the registry's
//! `SHA256SUMS` document must carry a detached signature (`shasums_signature_url`) made by one
//! of the keys its download answer lists (`signing_keys.gpg_public_keys`), checked here with
//! the pure-Rust `pgp` crate as Terraform checks it with Go's openpgp package: a key is tried
//! when it (or one of its subkeys) issued the signature; a key that issued it but whose
//! signature does not verify is an error, as is a signature none of the keys issued.
//!
//! What `init` then says: Terraform calls a package signed by HashiCorp's own key "signed by
//! HashiCorp" and one whose key carries HashiCorp's partner trust signature "signed by a
//! HashiCorp partner"; Strata holds neither HashiCorp key, so every verified package is
//! "self-signed, key ID …" here (the check itself is the same).

use pgp::composed::{Deserializable, DetachedSignature, SignedPublicKey};
use pgp::types::KeyDetails;

/// Why a signature was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("error decoding signing key {index} of the registry's answer: {message}")]
    BadKey { index: usize, message: String },
    #[error("error decoding the signature of the checksum list: {0}")]
    BadSignature(String),
    #[error("the registry lists no signing key for this provider, so its checksum list cannot be authenticated")]
    NoKeys,
    #[error("authentication signature from unknown issuer (key ID {0}): none of the registry's signing keys made it")]
    UnknownIssuer(String),
    #[error("error checking signature: the checksum list's signature by key ID {key_id} is invalid ({message}); the checksum list or its signature was altered")]
    Invalid { key_id: String, message: String },
}

/// Checks `signature` (binary or ASCII-armored) over `document` against the armored public
/// `keys`; the key ID (16 upper-case hex digits) of the primary key that signed.
pub fn verify_detached(
    document: &[u8],
    signature: &[u8],
    keys: &[String],
) -> Result<String, SignatureError> {
    let signature = parse_signature(signature)?;
    if keys.is_empty() {
        return Err(SignatureError::NoKeys);
    }
    let issuers: Vec<String> = signature
        .signature
        .issuer_key_id()
        .into_iter()
        .map(|id| hex_id(id.as_ref()))
        .collect();
    let fingerprints: Vec<Vec<u8>> = signature
        .signature
        .issuer_fingerprint()
        .into_iter()
        .map(|f| f.as_bytes().to_vec())
        .collect();
    let issued = |key: &dyn KeyDetails| {
        issuers.contains(&hex_id(key.legacy_key_id().as_ref()))
            || fingerprints.contains(&key.fingerprint().as_bytes().to_vec())
    };
    for (index, armored) in keys.iter().enumerate() {
        let (key, _) =
            SignedPublicKey::from_string(armored).map_err(|error| SignatureError::BadKey {
                index,
                message: error.to_string(),
            })?;
        let primary_id = hex_id(key.legacy_key_id().as_ref());
        let result = if issued(&key.primary_key) {
            Some(signature.verify(&key.primary_key, document))
        } else {
            key.public_subkeys
                .iter()
                .find(|subkey| issued(&subkey.key))
                .map(|subkey| signature.verify(&subkey.key, document))
        };
        match result {
            None => continue,
            Some(Ok(())) => return Ok(primary_id),
            Some(Err(error)) => {
                return Err(SignatureError::Invalid {
                    key_id: primary_id,
                    message: error.to_string(),
                })
            }
        }
    }
    Err(SignatureError::UnknownIssuer(
        issuers.first().cloned().unwrap_or_else(|| "unknown".into()),
    ))
}

/// A detached signature, binary as registries serve it or armored.
fn parse_signature(bytes: &[u8]) -> Result<DetachedSignature, SignatureError> {
    let armored = bytes.starts_with(b"-----BEGIN");
    let parsed = if armored {
        let text = String::from_utf8_lossy(bytes);
        DetachedSignature::from_string(&text).map(|(signature, _)| signature)
    } else {
        DetachedSignature::from_bytes(bytes)
    };
    parsed.map_err(|error| SignatureError::BadSignature(error.to_string()))
}

fn hex_id(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_refused_with_what_it_is() {
        let error = verify_detached(b"doc", b"not a signature", &[]).unwrap_err();
        assert!(matches!(error, SignatureError::BadSignature(_)), "{error}");
    }
}
