//! Hash functions: md5, sha1, sha256 (lowercase hex of the string's UTF-8 bytes), and uuid
//! (a random version 4 UUID; unknown during plan, since it changes on every call).

use super::{returns, string_value, FunctionContext, FunctionError, FunctionSpec, Param};
use crate::value::{Type, Value};
use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha256};

pub(super) fn functions() -> Vec<FunctionSpec> {
    let string = || Param::new("str", Type::String);
    vec![
        FunctionSpec::new("md5", vec![string()], returns::string, md5_function),
        FunctionSpec::new("sha1", vec![string()], returns::string, sha1_function),
        FunctionSpec::new("sha256", vec![string()], returns::string, sha256_function),
        FunctionSpec::new("uuid", vec![], returns::string, uuid_function),
    ]
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

fn md5_function(args: Vec<Value>, _: &FunctionContext) -> Result<Value, FunctionError> {
    Ok(Value::from(hex(&Md5::digest(
        string_value(&args[0]).as_bytes(),
    ))))
}

fn sha1_function(args: Vec<Value>, _: &FunctionContext) -> Result<Value, FunctionError> {
    Ok(Value::from(hex(&Sha1::digest(
        string_value(&args[0]).as_bytes(),
    ))))
}

fn sha256_function(args: Vec<Value>, _: &FunctionContext) -> Result<Value, FunctionError> {
    Ok(Value::from(hex(&Sha256::digest(
        string_value(&args[0]).as_bytes(),
    ))))
}

fn uuid_function(_: Vec<Value>, ctx: &FunctionContext) -> Result<Value, FunctionError> {
    if ctx.plan_mode {
        return Ok(Value::Unknown(Type::String));
    }
    Ok(Value::from(uuid::Uuid::new_v4().to_string()))
}
