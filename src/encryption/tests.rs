//! Sealing and opening with configurations decoded from HCL, as a user writes them.

use super::*;
use crate::config::encryption::{decode_env, validate};

const PASSPHRASE: &str = "correct horse battery staple";

fn encryption(body: &str) -> Encryption {
    let config = decode_env(body).unwrap();
    assert!(validate(&config).is_empty(), "{}", validate(&config));
    Encryption::new(Some(&config)).unwrap()
}

fn pbkdf2(passphrase: &str, state: &str) -> String {
    format!(
        r#"
key_provider "pbkdf2" "main" {{
  passphrase = "{passphrase}"
  iterations = 200000
}}
method "aes_gcm" "main" {{
  keys = key_provider.pbkdf2.main
}}
method "unencrypted" "migrate" {{}}
state {{
  {state}
}}
"#
    )
}

const STATE: &[u8] = br#"{"version":4,"terraform_version":"1.15.5","serial":2,"lineage":"l-1","outputs":{},"resources":[]}"#;

#[test]
fn seals_and_opens_with_pbkdf2() {
    let enc = encryption(&pbkdf2(PASSPHRASE, "method = method.aes_gcm.main"));
    let sealed = enc.state.seal(STATE).unwrap();
    let text = String::from_utf8(sealed.clone()).unwrap();
    assert!(
        text.starts_with(r#"{"serial":2,"lineage":"l-1","meta":{"key_provider.pbkdf2.main":"#),
        "{text}"
    );
    assert!(!text.contains("resources") && !text.contains(PASSPHRASE));
    assert_eq!(enc.state.open("t", &sealed).unwrap(), STATE);
    // A second seal reuses the derived key (one derivation per process) with a new nonce.
    let again = enc.state.seal(STATE).unwrap();
    assert_ne!(again, sealed);
    assert_eq!(enc.state.open("t", &again).unwrap(), STATE);
}

#[test]
fn a_wrong_passphrase_is_a_clear_error() {
    let sealed = encryption(&pbkdf2(PASSPHRASE, "method = method.aes_gcm.main"))
        .state
        .seal(STATE)
        .unwrap();
    let other = encryption(&pbkdf2(
        "another long passphrase",
        "method = method.aes_gcm.main",
    ));
    let error = other
        .state
        .open("terraform.tfstate", &sealed)
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("cannot decrypt the state in `terraform.tfstate`"),
        "{error}"
    );
    assert!(error.contains("method.aes_gcm.main: wrong key"), "{error}");
    assert!(!error.contains(PASSPHRASE));
}

#[test]
fn plaintext_needs_an_unencrypted_fallback() {
    let strict = encryption(&pbkdf2(PASSPHRASE, "method = method.aes_gcm.main"));
    let error = strict.state.open("s", STATE).unwrap_err().to_string();
    assert!(
        error.contains("fallback { method = method.unencrypted.migrate }"),
        "{error}"
    );
    let migrating = encryption(&pbkdf2(
        PASSPHRASE,
        "method = method.aes_gcm.main\n fallback { method = method.unencrypted.migrate }",
    ));
    assert_eq!(migrating.state.open("s", STATE).unwrap(), STATE);
    // And back: unencrypted first, the old method as the fallback to read.
    let sealed = migrating.state.seal(STATE).unwrap();
    let back = encryption(&pbkdf2(
        PASSPHRASE,
        "method = method.unencrypted.migrate\n fallback { method = method.aes_gcm.main }",
    ));
    assert_eq!(back.state.open("s", &sealed).unwrap(), STATE);
    assert_eq!(back.state.seal(STATE).unwrap(), STATE);
}

#[test]
fn unconfigured_refuses_encrypted_payloads() {
    let sealed = encryption(&pbkdf2(PASSPHRASE, "method = method.aes_gcm.main"))
        .state
        .seal(STATE)
        .unwrap();
    let error = Encryption::none()
        .state
        .open("x.tfstate", &sealed)
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("no encryption is configured for the state"),
        "{error}"
    );
    assert_eq!(Encryption::none().state.open("x", STATE).unwrap(), STATE);
}

#[test]
fn tampering_is_detected() {
    let enc = encryption(&pbkdf2(PASSPHRASE, "method = method.aes_gcm.main"));
    let sealed = enc.state.seal(STATE).unwrap();
    let mut envelope: serde_json::Value = serde_json::from_slice(&sealed).unwrap();
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut data = b64
        .decode(envelope["encrypted_data"].as_str().unwrap())
        .unwrap();
    let middle = data.len() / 2;
    data[middle] ^= 1;
    envelope["encrypted_data"] = b64.encode(data).into();
    let error = enc
        .state
        .open("s", &serde_json::to_vec(&envelope).unwrap())
        .unwrap_err();
    assert!(matches!(error, EncryptionError::Decrypt { .. }), "{error}");
}

/// A payload as OpenTofu 1.10 wrote it (passphrase "correct horse battery staple", 600000
/// iterations of SHA-512, salt and nonce below) opens: the format is OpenTofu's.
#[test]
fn opens_an_envelope_built_by_hand_like_opentofu() {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let salt = [7u8; 32];
    let mut key = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<sha2::Sha512>(PASSPHRASE.as_bytes(), &salt, 200_000, &mut key);
    let data = aes_gcm_seal(&key, b"", STATE).unwrap();
    let meta = format!(
        r#"{{"salt":"{}","iterations":200000,"hash_function":"sha512","key_length":32}}"#,
        b64.encode(salt)
    );
    let payload = format!(
        r#"{{"serial":2,"lineage":"l-1","meta":{{"key_provider.pbkdf2.main":"{}"}},"encrypted_data":"{}","encryption_version":"v0"}}"#,
        b64.encode(meta),
        b64.encode(data)
    );
    let enc = encryption(&pbkdf2(PASSPHRASE, "method = method.aes_gcm.main"));
    assert_eq!(enc.state.open("s", payload.as_bytes()).unwrap(), STATE);
}
