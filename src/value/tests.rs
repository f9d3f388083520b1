use super::*;

#[test]
fn sensitive_marks_round_trip_through_paths() {
    let value = Value::object([
        ("name", Value::string("db")),
        ("password", Value::string("hunter2").mark_sensitive()),
        (
            "list",
            Value::List(vec![
                Value::string("a"),
                Value::string("b").mark_sensitive(),
            ]),
        ),
    ]);
    let (plain, paths) = value.clone().deep_unmark();
    assert!(!plain.contains_sensitive());
    assert_eq!(
        paths.iter().map(ToString::to_string).collect::<Vec<_>>(),
        vec!["list[1]", "password"]
    );
    assert_eq!(plain.mark_paths(&paths), value);
}

#[test]
fn converts_like_terraform() {
    let list = convert(
        Value::Tuple(vec![Value::from(1), Value::from("a")]),
        &Type::list(Type::Any),
    )
    .unwrap();
    assert_eq!(list, Value::List(vec![Value::from("1"), Value::from("a")]));
    assert_eq!(
        convert(Value::from("12"), &Type::Number).unwrap(),
        Value::from(12)
    );
    let err = convert(Value::from("x"), &Type::Number).unwrap_err();
    assert!(err.message.contains("a number is required"), "{err}");
    let mut object = ObjectType::new([
        ("a".to_string(), Type::String),
        ("b".to_string(), Type::Number),
    ]);
    object.optional.insert("b".into(), Some(Value::from(5)));
    let converted = convert(
        Value::object([("a", Value::from("x"))]),
        &Type::Object(object.clone()),
    )
    .unwrap();
    assert_eq!(
        converted,
        Value::object([("a", Value::from("x")), ("b", Value::from(5))])
    );
    let err = convert(
        Value::object([("b", Value::from(1))]),
        &Type::Object(object),
    )
    .unwrap_err();
    assert_eq!(err.to_string(), "attribute \"a\" is required");
}

#[test]
fn unknown_equality_is_unknown() {
    assert_eq!(Value::unknown().equals(&Value::from(1)), None);
    assert_eq!(Value::from(1).equals(&Value::from(1)), Some(true));
    assert_eq!(
        Value::List(vec![Value::from(1)])
            .equals(&Value::Tuple(vec![Value::from(2), Value::unknown()])),
        Some(false)
    );
}

#[test]
fn sets_sort_and_dedupe() {
    let set = Value::set(vec![Value::from("b"), Value::from("a"), Value::from("b")]);
    assert_eq!(set, Value::Set(vec![Value::from("a"), Value::from("b")]));
}

#[test]
fn json_round_trip_keeps_big_integers() {
    let json: serde_json::Value =
        serde_json::from_str(r#"{"n": 12345678901234567890123, "l": [1, "a"]}"#).unwrap();
    let value = value_from_json(&json, None).unwrap();
    assert_eq!(value_to_json(&value).unwrap(), json);
}
