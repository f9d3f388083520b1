//! The on-disk form of encrypted data, as OpenTofu writes it:
//!
//! ```json
//! {"serial": 3, "lineage": "…", "meta": {"key_provider.pbkdf2.main": "<base64 of the key
//! provider's JSON metadata>"}, "encrypted_data": "<base64 of nonce ‖ AES-GCM ciphertext ‖ tag>",
//! "encryption_version": "v0"}
//! ```
//!
//! `serial` and `lineage` are copied from a state in the clear (OpenTofu does so for states;
//! they are absent for plans and journal lines). A payload is recognised by a non-empty
//! `encryption_version`.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The only version there is.
pub const VERSION: &str = "v0";

/// An encrypted payload.
#[derive(Debug, Serialize, Deserialize)]
pub struct Envelope {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serial: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lineage: Option<String>,
    /// Key provider address (`key_provider.TYPE.NAME`) → its metadata (JSON), base64.
    #[serde(default, with = "meta_base64")]
    pub meta: BTreeMap<String, Vec<u8>>,
    #[serde(with = "base64_bytes")]
    pub encrypted_data: Vec<u8>,
    pub encryption_version: String,
}

/// The `encryption_version` of a JSON object. A state's `resources` (which no envelope has)
/// ends the probe as "not an envelope" without reading the rest of the state.
struct Probe;

impl<'de> serde::de::Visitor<'de> for Probe {
    type Value = Option<String>;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an encrypted payload")
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut version = None;
        while let Some(key) = map.next_key_seed(crate::value::KeySeed)? {
            match key.as_ref() {
                "resources" => return Err(serde::de::Error::custom("a state, not an envelope")),
                "encryption_version" => version = map.next_value()?,
                _ => map.next_value::<serde::de::IgnoredAny>().map(drop)?,
            }
        }
        Ok(version)
    }
}

/// The serial and lineage of a state, when `bytes` is one.
#[derive(Deserialize)]
struct Passthrough {
    serial: Option<u64>,
    lineage: Option<String>,
}

impl Envelope {
    /// Parses `bytes` as an envelope; `None` when they are not one (plaintext).
    pub fn parse(bytes: &[u8]) -> Option<Result<Envelope, String>> {
        let mut probe = serde_json::Deserializer::from_slice(bytes);
        let version = serde::Deserializer::deserialize_map(&mut probe, Probe).ok()?;
        probe.end().ok()?;
        version.filter(|v| !v.is_empty())?;
        Some(serde_json::from_slice(bytes).map_err(|e| e.to_string()))
    }

    /// An envelope around `encrypted_data`, with `plaintext`'s serial and lineage when it has them.
    pub fn new(
        plaintext: &[u8],
        meta: BTreeMap<String, Vec<u8>>,
        encrypted_data: Vec<u8>,
    ) -> Envelope {
        let passthrough = serde_json::from_slice::<Passthrough>(plaintext).ok();
        Envelope {
            serial: passthrough.as_ref().and_then(|p| p.serial),
            lineage: passthrough.and_then(|p| p.lineage),
            meta,
            encrypted_data,
            encryption_version: VERSION.to_string(),
        }
    }

    /// One line of JSON.
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }
}

/// Bytes as a base64 string, as Go's `encoding/json` writes `[]byte`.
pub(crate) mod base64_bytes {
    use super::*;

    pub fn serialize<S: serde::Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        STANDARD.decode(text).map_err(serde::de::Error::custom)
    }
}

mod meta_base64 {
    use super::*;

    pub fn serialize<S: serde::Serializer>(
        meta: &BTreeMap<String, Vec<u8>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        let encoded: BTreeMap<&str, String> = meta
            .iter()
            .map(|(k, v)| (k.as_str(), STANDARD.encode(v)))
            .collect();
        encoded.serialize(s)
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(
        d: D,
    ) -> Result<BTreeMap<String, Vec<u8>>, D::Error> {
        let encoded = Option::<BTreeMap<String, String>>::deserialize(d)?.unwrap_or_default();
        encoded
            .into_iter()
            .map(|(k, v)| Ok((k, STANDARD.decode(v).map_err(serde::de::Error::custom)?)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_recognises_plaintext() {
        let state = br#"{"version":4,"serial":7,"lineage":"abc","resources":[]}"#;
        let envelope = Envelope::new(
            state,
            BTreeMap::from([("key_provider.pbkdf2.k".to_string(), b"{}".to_vec())]),
            vec![1, 2, 3],
        );
        let bytes = envelope.to_bytes();
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert_eq!(
            text,
            r#"{"serial":7,"lineage":"abc","meta":{"key_provider.pbkdf2.k":"e30="},"encrypted_data":"AQID","encryption_version":"v0"}"#
        );
        let parsed = Envelope::parse(&bytes).unwrap().unwrap();
        assert_eq!(parsed.encrypted_data, vec![1, 2, 3]);
        assert_eq!(parsed.meta["key_provider.pbkdf2.k"], b"{}".to_vec());
        assert!(Envelope::parse(state).is_none());
        assert!(Envelope::parse(b"not json").is_none());
        assert!(
            Envelope::parse(br#"{"encryption_version":"v0","encrypted_data":"%%"}"#)
                .unwrap()
                .is_err()
        );
    }
}
