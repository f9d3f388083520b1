//! Hash functions: md5, sha1, sha256, sha512 (lowercase hex of the string's UTF-8 bytes),
//! base64sha256 and base64sha512 (the digest in Base64), their `file*` forms that hash a
//! file's bytes, uuid (a random version 4 UUID; unknown during plan, since it changes on
//! every call) and uuidv5 (name-based).

use super::filesystem::read_file;
use super::{
    arg_error, returns, string_value, FunctionContext, FunctionError, FunctionSpec, Param,
};
use crate::value::{Type, Value};
use base64::Engine;
use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha512};

pub(super) fn functions() -> Vec<FunctionSpec> {
    let string = || Param::new("str", Type::String);
    let path = || Param::new("path", Type::String);
    vec![
        FunctionSpec::new("md5", vec![string()], returns::string, |a, _| {
            text_hash(&a, hex_md5)
        }),
        FunctionSpec::new("sha1", vec![string()], returns::string, |a, _| {
            text_hash(&a, hex_sha1)
        }),
        FunctionSpec::new("sha256", vec![string()], returns::string, |a, _| {
            text_hash(&a, hex_sha256)
        }),
        FunctionSpec::new("sha512", vec![string()], returns::string, |a, _| {
            text_hash(&a, hex_sha512)
        }),
        FunctionSpec::new("base64sha256", vec![string()], returns::string, |a, _| {
            text_hash(&a, base64_sha256)
        }),
        FunctionSpec::new("base64sha512", vec![string()], returns::string, |a, _| {
            text_hash(&a, base64_sha512)
        }),
        FunctionSpec::new("filemd5", vec![path()], returns::string, |a, c| {
            file_hash(&a, c, hex_md5)
        }),
        FunctionSpec::new("filesha1", vec![path()], returns::string, |a, c| {
            file_hash(&a, c, hex_sha1)
        }),
        FunctionSpec::new("filesha256", vec![path()], returns::string, |a, c| {
            file_hash(&a, c, hex_sha256)
        }),
        FunctionSpec::new("filesha512", vec![path()], returns::string, |a, c| {
            file_hash(&a, c, hex_sha512)
        }),
        FunctionSpec::new("filebase64sha256", vec![path()], returns::string, |a, c| {
            file_hash(&a, c, base64_sha256)
        }),
        FunctionSpec::new("filebase64sha512", vec![path()], returns::string, |a, c| {
            file_hash(&a, c, base64_sha512)
        }),
        FunctionSpec::new("uuid", vec![], returns::string, uuid_function),
        FunctionSpec::new(
            "uuidv5",
            vec![
                Param::new("namespace", Type::String),
                Param::new("name", Type::String),
            ],
            returns::string,
            uuidv5,
        ),
    ]
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

fn hex_md5(bytes: &[u8]) -> String {
    hex(&Md5::digest(bytes))
}

fn hex_sha1(bytes: &[u8]) -> String {
    hex(&Sha1::digest(bytes))
}

fn hex_sha256(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex_sha512(bytes: &[u8]) -> String {
    hex(&Sha512::digest(bytes))
}

fn base64_sha256(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(bytes))
}

fn base64_sha512(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(Sha512::digest(bytes))
}

fn text_hash(args: &[Value], hash: fn(&[u8]) -> String) -> Result<Value, FunctionError> {
    Ok(Value::from(hash(string_value(&args[0]).as_bytes())))
}

fn file_hash(
    args: &[Value],
    ctx: &FunctionContext,
    hash: fn(&[u8]) -> String,
) -> Result<Value, FunctionError> {
    let bytes = read_file(string_value(&args[0]), ctx)?;
    Ok(Value::from(hash(&bytes)))
}

fn uuid_function(_: Vec<Value>, ctx: &FunctionContext) -> Result<Value, FunctionError> {
    if ctx.plan_mode {
        return Ok(Value::Unknown(Type::String));
    }
    Ok(Value::from(uuid::Uuid::new_v4().to_string()))
}

/// A name-based UUID (RFC 4122 version 5). The namespace is `dns`, `url`, `oid`, `x500` or a
/// UUID.
fn uuidv5(args: Vec<Value>, _: &FunctionContext) -> Result<Value, FunctionError> {
    let namespace = match string_value(&args[0]) {
        "dns" => uuid::Uuid::NAMESPACE_DNS,
        "url" => uuid::Uuid::NAMESPACE_URL,
        "oid" => uuid::Uuid::NAMESPACE_OID,
        "x500" => uuid::Uuid::NAMESPACE_X500,
        other => uuid::Uuid::parse_str(other).map_err(|error| {
            arg_error(
                0,
                format!("uuidv5() doesn't support namespace {other}: {error}"),
            )
        })?,
    };
    let mut hasher = Sha1::new();
    hasher.update(namespace.as_bytes());
    hasher.update(string_value(&args[1]).as_bytes());
    let digest = hasher.finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    bytes[6] = (bytes[6] & 0x0f) | 0x50;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    Ok(Value::from(uuid::Uuid::from_bytes(bytes).to_string()))
}
