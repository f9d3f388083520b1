//! Byte vectors from the Go implementations' own tests (go-cty's msgpack round trips and
//! terraform-plugin-go's `tftypes` msgpack vectors, which follow go-cty byte for byte), plus
//! round trips of every type.

use super::*;
use crate::value::ObjectType;

fn bytes(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn object_type(attributes: &[(&str, Type)]) -> Type {
    Type::Object(ObjectType::new(
        attributes.iter().map(|(k, t)| (k.to_string(), t.clone())),
    ))
}

fn num(text: &str) -> Value {
    Value::Number(Number::parse(text).unwrap())
}

fn hello() -> Value {
    Value::string("hello")
}

/// (name, hex, value, type): encoding `value` as `type` gives exactly `hex`, and decoding
/// `hex` as `type` gives `value`.
fn vectors() -> Vec<(&'static str, &'static str, Value, Type)> {
    let unknown = || Value::Unknown(Type::String);
    let greeting = |v: Value| Value::object([("greeting", v)]);
    vec![
        ("hello-string", "a568656c6c6f", hello(), Type::String),
        ("empty-string", "a0", Value::string(""), Type::String),
        ("null-string", "c0", Value::Null, Type::String),
        ("unknown-string", "d40000", unknown(), Type::String),
        ("true-bool", "c3", Value::Bool(true), Type::Bool),
        ("false-bool", "c2", Value::Bool(false), Type::Bool),
        ("unknown-bool", "d40000", Value::Unknown(Type::Bool), Type::Bool),
        ("int-number", "01", num("1"), Type::Number),
        ("float-number", "cb3ff8000000000000", num("1.5"), Type::Number),
        (
            "big-number",
            "d96439393939393939393939393939393939393939393939393939393939393939393939393939393939393939393939393939393939393939393939393939393939393939393939393939393939393939393939393939393939393939393939393939393939",
            num("9999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999"),
            Type::Number,
        ),
        ("awkward-fraction-number", "a3302e38", num("0.8"), Type::Number),
        ("dynamic-bool", "92c40622626f6f6c22c3", Value::Bool(true), Type::Any),
        (
            "dynamic-list",
            "92c4115b226c697374222c22737472696e67225d91a568656c6c6f",
            Value::List(vec![hello()]),
            Type::Any,
        ),
        (
            "dynamic-map",
            "92c4105b226d6170222c22737472696e67225d81a568656c6c6fa568656c6c6f",
            Value::Map([("hello".to_string(), hello())].into()),
            Type::Any,
        ),
        ("dynamic-number", "92c408226e756d6265722201", num("1"), Type::Any),
        (
            "dynamic-object",
            "81a86772656574696e6792c40822737472696e6722a568656c6c6f",
            greeting(hello()),
            object_type(&[("greeting", Type::Any)]),
        ),
        (
            "dynamic-set",
            "92c4105b22736574222c22737472696e67225d91a568656c6c6f",
            Value::set(vec![hello()]),
            Type::Any,
        ),
        ("dynamic-string", "92c40822737472696e6722a568656c6c6f", hello(), Type::Any),
        (
            "list-dynamic",
            "9192c40822737472696e6722a568656c6c6f",
            Value::List(vec![hello()]),
            Type::list(Type::Any),
        ),
        ("list-string-hello", "91a568656c6c6f", Value::List(vec![hello()]), Type::list(Type::String)),
        ("list-string-unknown", "91d40000", Value::List(vec![unknown()]), Type::list(Type::String)),
        ("list-string-null-string", "91c0", Value::List(vec![Value::Null]), Type::list(Type::String)),
        ("list-string-null", "c0", Value::Null, Type::list(Type::String)),
        ("list-string-empty", "90", Value::List(vec![]), Type::list(Type::String)),
        (
            "set-dynamic",
            "9192c40822737472696e6722a568656c6c6f",
            Value::set(vec![hello()]),
            Type::set(Type::Any),
        ),
        ("set-string-hello", "91a568656c6c6f", Value::set(vec![hello()]), Type::set(Type::String)),
        ("set-string-unknown", "91d40000", Value::set(vec![unknown()]), Type::set(Type::String)),
        ("set-string-empty", "90", Value::set(vec![]), Type::set(Type::String)),
        (
            "map-dynamic",
            "81a86772656574696e6792c40822737472696e6722a568656c6c6f",
            Value::Map([("greeting".to_string(), hello())].into()),
            Type::map(Type::Any),
        ),
        (
            "map-string-unknown",
            "81a86772656574696e67d40000",
            Value::Map([("greeting".to_string(), unknown())].into()),
            Type::map(Type::String),
        ),
        ("map-string-empty", "80", Value::Map(BTreeMap::new()), Type::map(Type::String)),
        (
            "tuple-dynamic",
            "9292c40822737472696e6722a568656c6c6f92c40822737472696e6722a5776f726c64",
            Value::Tuple(vec![hello(), Value::string("world")]),
            Type::Tuple(vec![Type::Any, Type::Any]),
        ),
        ("tuple-string-null", "91c0", Value::Tuple(vec![Value::Null]), Type::Tuple(vec![Type::String])),
        ("tuple-empty", "90", Value::Tuple(vec![]), Type::Tuple(vec![])),
        (
            "object-string-unknown",
            "81a86772656574696e67d40000",
            greeting(unknown()),
            object_type(&[("greeting", Type::String)]),
        ),
        (
            "object-string-multi-null",
            "82a161c0a162c0",
            Value::object([("a", Value::Null), ("b", Value::Null)]),
            object_type(&[("a", Type::String), ("b", Type::String)]),
        ),
        (
            "object-string-multi-unknown",
            "82a161d40000a162d40000",
            Value::object([("a", unknown()), ("b", unknown())]),
            object_type(&[("a", Type::String), ("b", Type::String)]),
        ),
        ("object-empty", "80", Value::object(Vec::<(String, Value)>::new()), object_type(&[])),
        ("dynamic-null", "c0", Value::Null, Type::Any),
        (
            "object-dynamic-null",
            "81a161c0",
            Value::object([("a", Value::Null)]),
            object_type(&[("a", Type::Any)]),
        ),
        ("dynamic-unknown", "d40000", Value::Unknown(Type::Any), Type::Any),
        (
            "dynamic-list-unknown",
            "91d40000",
            Value::List(vec![Value::Unknown(Type::Any)]),
            Type::list(Type::Any),
        ),
    ]
}

#[test]
fn matches_the_go_byte_vectors() {
    for (name, expected, value, ty) in vectors() {
        let encoded = encode(&value, &ty).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(hex(&encoded), expected, "{name}: encoding");
        let decoded = decode(&bytes(expected), &ty).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(decoded, value, "{name}: decoding");
    }
}

#[test]
fn numbers_take_cty_forms() {
    // int64 when exact, float64 when exact, else the decimal digits.
    let cases = [
        ("9223372036854775807", "cf7fffffffffffffff"),
        ("-1", "ff"),
        ("-200", "d1ff38"),
        ("200", "ccc8"),
        // 2^63 is not an int64 but is an exact float64, as cty writes it.
        ("9223372036854775808", "cb43e0000000000000"),
        (
            "9223372036854775809",
            "b339323233333732303336383534373735383039",
        ),
        ("0.5", "cb3fe0000000000000"),
    ];
    for (text, expected) in cases {
        let encoded = encode(&num(text), &Type::Number).unwrap();
        assert_eq!(hex(&encoded), expected, "{text}");
        assert_eq!(
            decode(&encoded, &Type::Number).unwrap(),
            num(text),
            "{text}"
        );
    }
    // Any integer and float form decodes; a float decodes to its shortest decimal.
    assert_eq!(decode(&bytes("cd0100"), &Type::Number).unwrap(), num("256"));
    assert_eq!(decode(&bytes("d0fb"), &Type::Number).unwrap(), num("-5"));
    assert_eq!(
        decode(&bytes("cfffffffffffffffff"), &Type::Number).unwrap(),
        num("18446744073709551615")
    );
    let tenth = 0.1f64.to_be_bytes();
    let mut wire = vec![0xcb];
    wire.extend_from_slice(&tenth);
    assert_eq!(decode(&wire, &Type::Number).unwrap(), num("0.1"));
    // Infinity is no Terraform number Strata can hold.
    assert!(decode(&bytes("cb7ff0000000000000"), &Type::Number).is_err());
}

#[test]
fn refined_unknowns_decode_as_plain_unknowns() {
    // go-cty 1.13+: extension 12 with a refinement map, e.g. {1: false} (not null) and
    // {2: "foo-"} (string prefix).
    assert_eq!(
        decode(&bytes("c7030c8101c2"), &Type::String).unwrap(),
        Value::Unknown(Type::String)
    );
    assert_eq!(
        decode(&bytes("c7070c8102a4666f6f2d"), &Type::String).unwrap(),
        Value::Unknown(Type::String)
    );
    // A one-byte extension of any type is a plain unknown (older encoders).
    assert_eq!(
        decode(&bytes("d40500"), &Type::Bool).unwrap(),
        Value::Unknown(Type::Bool)
    );
    // A longer extension of another type is not ours.
    assert!(decode(&bytes("d5050000"), &Type::Bool).is_err());
    // Refinements that are not a map are refused.
    assert!(decode(&bytes("c7020c0101"), &Type::String).is_err());
}

#[test]
fn sensitive_marks_are_not_on_the_wire() {
    let value = Value::object([("a", Value::string("secret").mark_sensitive())]);
    let ty = object_type(&[("a", Type::String)]);
    let encoded = encode(&value, &ty).unwrap();
    assert_eq!(hex(&encoded), "81a161a6736563726574");
    assert_eq!(
        decode(&encoded, &ty).unwrap(),
        Value::object([("a", Value::string("secret"))])
    );
}

#[test]
fn every_type_round_trips_with_nested_unknowns() {
    let nested = object_type(&[
        ("list", Type::list(Type::Number)),
        ("set", Type::set(Type::String)),
        ("map", Type::map(Type::Bool)),
        ("tuple", Type::Tuple(vec![Type::String, Type::Any])),
        (
            "object",
            object_type(&[("x", Type::Number), ("y", Type::Any)]),
        ),
        ("any", Type::Any),
    ]);
    let value = Value::object([
        (
            "list",
            Value::List(vec![num("1"), Value::Unknown(Type::Number), num("2.25")]),
        ),
        (
            "set",
            Value::set(vec![Value::string("a"), Value::Unknown(Type::String)]),
        ),
        (
            "map",
            Value::Map(
                [
                    ("k".to_string(), Value::Unknown(Type::Bool)),
                    ("l".to_string(), Value::Bool(false)),
                ]
                .into(),
            ),
        ),
        (
            "tuple",
            Value::Tuple(vec![Value::string("t"), Value::Unknown(Type::Any)]),
        ),
        (
            "object",
            Value::object([
                ("x", Value::Null),
                ("y", Value::Unknown(Type::list(Type::String))),
            ]),
        ),
        (
            "any",
            Value::object([
                (
                    "deep",
                    Value::Tuple(vec![num("12345678901234567890"), Value::Bool(true)]),
                ),
                ("empty", Value::Map(BTreeMap::new())),
            ]),
        ),
    ]);
    let encoded = encode(&value, &nested).unwrap();
    assert_eq!(decode(&encoded, &nested).unwrap(), value);
    // Unknown as a whole, null as a whole.
    for whole in [Value::Unknown(nested.clone()), Value::Null] {
        assert_eq!(
            decode(&encode(&whole, &nested).unwrap(), &nested).unwrap(),
            whole
        );
    }
}

#[test]
fn converts_before_encoding_and_reports_paths() {
    // A tuple where the schema says list, a number where it says string: converted as cty does.
    let ty = Type::list(Type::String);
    let encoded = encode(&Value::Tuple(vec![num("1"), Value::string("b")]), &ty).unwrap();
    assert_eq!(
        decode(&encoded, &ty).unwrap(),
        Value::List(vec![Value::string("1"), Value::string("b")])
    );
    let ty = object_type(&[("n", Type::Number)]);
    let error = encode(&Value::object([("n", Value::string("x"))]), &ty).unwrap_err();
    assert!(error.to_string().starts_with("n: "), "{error}");
    // Decoding names where the bytes went wrong.
    let error = decode(&bytes("81a16ea178"), &ty).unwrap_err();
    assert_eq!(error.to_string(), "n: number is required");
    let error = decode(&bytes("81a17801"), &ty).unwrap_err();
    assert_eq!(error.to_string(), "x: unsupported attribute");
    assert!(decode(&bytes("92c40322782201"), &Type::Any).is_err());
    assert!(decode(&[], &Type::String).is_err());
}
