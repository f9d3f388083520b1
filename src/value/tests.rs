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

/// `conforms` says yes only where `convert` hands the value back unchanged, and says it for an
/// already-typed object (what a state decoded with its schema holds).
#[test]
fn conforms_only_where_convert_is_the_identity() {
    let object_type = Type::Object(ObjectType::new([
        ("id".to_string(), Type::String),
        ("n".to_string(), Type::Number),
        ("tags".to_string(), Type::map(Type::String)),
        ("ports".to_string(), Type::set(Type::Number)),
        ("rules".to_string(), Type::list(Type::Any)),
        ("extra".to_string(), Type::Any),
    ]));
    let typed = |n: Value, ports: Vec<Value>| {
        Value::object([
            ("id", Value::from("x")),
            ("n", n),
            (
                "tags",
                Value::Map([("a".to_string(), Value::from("b"))].into()),
            ),
            ("ports", Value::Set(ports)),
            ("rules", Value::Null),
            (
                "extra",
                Value::Tuple(vec![Value::from(1), Value::from("a")]),
            ),
        ])
    };
    let cases = [
        (
            typed(Value::from(1), vec![Value::from(1), Value::from(2)]),
            true,
        ),
        (Value::Unknown(object_type.clone()), true),
        (Value::Null, true),
        // A string where a number goes, a set out of order, a mark, a missing attribute,
        // an element type to infer, an unknown of another type: converted, or not known to
        // come back unchanged.
        (typed(Value::from("1"), vec![]), false),
        (
            typed(Value::from(1), vec![Value::from(2), Value::from(1)]),
            false,
        ),
        (typed(Value::from(1).mark_sensitive(), vec![]), false),
        (Value::object([("id", Value::from("x"))]), false),
        (
            Value::object([
                ("id", Value::from("x")),
                ("n", Value::from(1)),
                ("tags", Value::Null),
                ("ports", Value::Null),
                ("rules", Value::List(vec![Value::from(1)])),
                ("extra", Value::Null),
            ]),
            false,
        ),
        (Value::Unknown(Type::Any), false),
    ];
    for (value, expected) in cases {
        assert_eq!(conforms(&value, &object_type), expected, "{value:?}");
        if expected {
            assert_eq!(convert(value.clone(), &object_type).as_ref(), Ok(&value));
        }
    }
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

#[test]
fn cty_json_wraps_dynamic_values_with_their_type() {
    let ty = Type::Object(ObjectType::new([
        ("input".to_string(), Type::Any),
        ("id".to_string(), Type::String),
        ("tags".to_string(), Type::map(Type::String)),
    ]));
    let value = Value::object([
        (
            "input",
            Value::object([
                (
                    "n",
                    Value::Number(Number::parse("12345678901234567890.5").unwrap()),
                ),
                ("l", Value::Tuple(vec![Value::from(true), Value::Null])),
                ("secret", Value::string("x").mark_sensitive()),
            ]),
        ),
        ("id", Value::string("abc")),
        ("tags", Value::Null),
    ]);
    let json = value_to_cty_json(&value, &ty).unwrap();
    // Value before type inside the wrapper, as go-cty writes it; numbers keep every digit.
    assert_eq!(
        serde_json::to_string(&json).unwrap(),
        r#"{"id":"abc","input":{"value":{"l":[true,null],"n":12345678901234567890.5,"secret":"x"},"type":["object",{"l":["tuple",["bool","dynamic"]],"n":"number","secret":"string"}]},"tags":null}"#
    );
    let (plain, _) = value.clone().deep_unmark();
    assert_eq!(value_from_cty_json(&json, &ty).unwrap(), plain);
    // Null where the type is dynamic is bare null; a bare value there is refused.
    assert_eq!(
        value_to_cty_json(&Value::Null, &Type::Any).unwrap(),
        serde_json::Value::Null
    );
    let bare = serde_json::json!({"input": "x"});
    let error = value_from_cty_json(&bare, &ty).unwrap_err().to_string();
    assert!(error.starts_with("input: "), "{error}");
    // An attribute the type lacks is an error; a missing one is null.
    let error = value_from_cty_json(&serde_json::json!({"nope": 1}), &ty).unwrap_err();
    assert_eq!(error.to_string(), "nope: unsupported attribute");
    assert_eq!(
        value_from_cty_json(&serde_json::json!({"id": "a"}), &ty).unwrap(),
        Value::object([
            ("id", Value::string("a")),
            ("input", Value::Null),
            ("tags", Value::Null)
        ])
    );
    assert_eq!(
        value_to_cty_json(&Value::Unknown(Type::String), &Type::String),
        Err(JsonValueError::Unknown)
    );
}

#[test]
fn cty_json_keeps_attributes_the_type_lacks_and_nulls_missing_ones() {
    let ty = Type::Object(ObjectType::new([
        ("b".to_string(), Type::String),
        ("d".to_string(), Type::Any),
    ]));
    // `a` and `c` are not in the type (another provider version wrote them): kept, in order;
    // `d` is missing: null. A number where the type says string is converted.
    let value = Value::object([
        ("a", Value::from(1)),
        ("b", Value::from(2)),
        ("c", Value::string("x")),
    ]);
    let json = value_to_cty_json(&value, &ty).unwrap();
    assert_eq!(
        serde_json::to_string(&json).unwrap(),
        r#"{"a":1,"b":"2","c":"x","d":null}"#
    );
}
