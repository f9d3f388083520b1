//! Collection functions: alltrue, anytrue, chunklist, coalesce, coalescelist, compact, concat,
//! contains, distinct, element, flatten, index, keys, length, lookup, matchkeys, merge, one,
//! range, reverse, setintersection, setproduct, setsubtract, setunion, slice, sort, sum,
//! transpose, values, zipmap.
//!
//! Result kinds follow Terraform: a list stays a list and a tuple a tuple (`concat` of lists
//! is a list, of anything else a tuple), `keys`/`values` of an object are tuples, of a map
//! lists, and `merge` of same-typed maps is a map, otherwise an object.

use super::string::string_length;
use super::unify as types_unify;
use super::{
    arg_error, elements, failed, returns, string_value, unified_list, whole_number,
    FunctionContext, FunctionError, FunctionSpec, Param,
};
use crate::value::{convert, Number, Type, Value};
use std::collections::BTreeMap;

pub(super) fn functions() -> Vec<FunctionSpec> {
    let list_any = || Type::list(Type::Any);
    let set_any = || Type::set(Type::Any);
    vec![
        FunctionSpec::new(
            "alltrue",
            vec![Param::new("list", Type::list(Type::Bool))],
            returns::bool,
            alltrue,
        ),
        FunctionSpec::new(
            "anytrue",
            vec![Param::new("list", Type::list(Type::Bool))],
            returns::bool,
            anytrue,
        ),
        FunctionSpec::new(
            "chunklist",
            vec![
                Param::new("list", list_any()).allow_marked(),
                Param::new("size", Type::Number),
            ],
            |args| Type::list(args[0].type_of()),
            chunklist,
        ),
        FunctionSpec::new("coalesce", vec![], returns::any, coalesce)
            .variadic(Param::any("vals").allow_null().allow_unknown()),
        FunctionSpec::new("coalescelist", vec![], returns::any, coalescelist)
            .variadic(Param::any("vals").allow_null().allow_unknown()),
        FunctionSpec::new(
            "compact",
            vec![Param::new("list", Type::list(Type::String))],
            returns::list_of_string,
            compact,
        ),
        FunctionSpec::new("concat", vec![], returns::any, concat)
            .variadic(Param::any("seqs").allow_marked()),
        FunctionSpec::new(
            "contains",
            vec![
                Param::any("list").allow_unknown(),
                Param::any("value").allow_unknown(),
            ],
            returns::bool,
            contains,
        ),
        FunctionSpec::new(
            "distinct",
            vec![Param::new("list", list_any())],
            returns::first,
            distinct,
        ),
        FunctionSpec::new(
            "element",
            vec![
                Param::any("list").allow_marked(),
                Param::new("index", Type::Number),
            ],
            element_type,
            element,
        ),
        FunctionSpec::new(
            "flatten",
            vec![Param::any("list").allow_marked()],
            returns::any,
            flatten,
        ),
        FunctionSpec::new(
            "index",
            vec![Param::any("list"), Param::any("value")],
            returns::number,
            index,
        ),
        FunctionSpec::new(
            "keys",
            vec![Param::any("inputMap").allow_unknown().allow_marked()],
            returns::any,
            keys,
        ),
        FunctionSpec::new(
            "length",
            vec![Param::any("value").allow_unknown().allow_marked()],
            returns::number,
            length,
        ),
        FunctionSpec::new(
            "lookup",
            vec![
                Param::any("inputMap").allow_marked(),
                Param::new("key", Type::String),
            ],
            lookup_type,
            lookup,
        )
        .variadic(
            Param::any("default")
                .allow_null()
                .allow_unknown()
                .allow_marked(),
        ),
        FunctionSpec::new(
            "matchkeys",
            vec![
                Param::new("values", list_any()),
                Param::new("keys", list_any()),
                Param::new("searchset", list_any()),
            ],
            returns::first,
            matchkeys,
        ),
        FunctionSpec::new("merge", vec![], returns::any, merge)
            .variadic(Param::any("maps").allow_null().allow_marked()),
        FunctionSpec::new("one", vec![Param::any("list")], one_type, one),
        FunctionSpec::new("range", vec![], returns::list_of_number, range)
            .variadic(Param::new("params", Type::Number)),
        FunctionSpec::new(
            "reverse",
            vec![Param::any("list").allow_marked()],
            reverse_type,
            reverse,
        ),
        FunctionSpec::new(
            "setintersection",
            vec![Param::new("first_set", set_any())],
            set_type,
            setintersection,
        )
        .variadic(Param::new("other_sets", set_any())),
        FunctionSpec::new("setproduct", vec![], returns::any, setproduct)
            .variadic(Param::any("sets").allow_marked()),
        FunctionSpec::new(
            "setsubtract",
            vec![Param::new("a", set_any()), Param::new("b", set_any())],
            set_type,
            setsubtract,
        ),
        FunctionSpec::new(
            "setunion",
            vec![Param::new("first_set", set_any())],
            set_type,
            setunion,
        )
        .variadic(Param::new("other_sets", set_any())),
        FunctionSpec::new(
            "slice",
            vec![
                Param::any("list").allow_marked(),
                Param::new("start_index", Type::Number),
                Param::new("end_index", Type::Number),
            ],
            slice_type,
            slice,
        ),
        FunctionSpec::new(
            "sort",
            vec![Param::new("list", Type::list(Type::String))],
            returns::list_of_string,
            sort,
        ),
        FunctionSpec::new("sum", vec![Param::any("list")], returns::number, sum),
        FunctionSpec::new(
            "transpose",
            vec![Param::new("values", Type::map(Type::list(Type::String)))],
            |_| Type::map(Type::list(Type::String)),
            transpose,
        ),
        FunctionSpec::new(
            "values",
            vec![Param::any("values").allow_marked()],
            values_type,
            values,
        ),
        FunctionSpec::new("list", vec![], returns::any, |_, _| {
            Err(failed("the \"list\" function was deprecated in Terraform v0.12 and is no longer available; use tolist([ ... ]) syntax to write a literal list"))
        })
        .variadic(Param::any("vals").allow_null().allow_unknown()),
        FunctionSpec::new("map", vec![], returns::any, |_, _| {
            Err(failed("the \"map\" function was deprecated in Terraform v0.12 and is no longer available; use tomap({ ... }) syntax to write a literal map"))
        })
        .variadic(Param::any("vals").allow_null().allow_unknown()),
        FunctionSpec::new(
            "zipmap",
            vec![
                Param::new("keys", Type::list(Type::String)).allow_marked(),
                Param::any("values").allow_marked(),
            ],
            returns::any,
            zipmap,
        ),
    ]
}

// --- helpers ---------------------------------------------------------------------------------

fn element_type_of(value: &Value) -> Type {
    match value.type_of() {
        Type::List(e) | Type::Set(e) | Type::Map(e) => *e,
        _ => Type::Any,
    }
}

fn is_sequence_type(ty: &Type) -> bool {
    matches!(ty, Type::List(_) | Type::Tuple(_) | Type::Set(_))
}

// --- boolean lists ---------------------------------------------------------------------------

fn alltrue(args: Vec<Value>, _: &FunctionContext) -> Result<Value, FunctionError> {
    for item in elements(&args[0]) {
        match item {
            Value::Unknown(_) => return Ok(Value::Unknown(Type::Bool)),
            Value::Bool(true) => {}
            _ => return Ok(Value::Bool(false)),
        }
    }
    Ok(Value::Bool(true))
}

fn anytrue(args: Vec<Value>, _: &FunctionContext) -> Result<Value, FunctionError> {
    let mut has_unknown = false;
    for item in elements(&args[0]) {
        match item {
            Value::Unknown(_) => has_unknown = true,
            Value::Bool(true) => return Ok(Value::Bool(true)),
            _ => {}
        }
    }
    Ok(if has_unknown {
        Value::Unknown(Type::Bool)
    } else {
        Value::Bool(false)
    })
}

// --- list shaping ----------------------------------------------------------------------------

fn chunklist(args: Vec<Value>, _: &FunctionContext) -> Result<Value, FunctionError> {
    let size = whole_number(&args[1]).map_err(|m| failed(format!("invalid size: {m}")))?;
    if size < 0 {
        return Err(failed("the size argument must be positive"));
    }
    let items = elements(&args[0]);
    if items.is_empty() {
        return Ok(Value::List(Vec::new()));
    }
    if size == 0 {
        return Ok(Value::List(vec![Value::List(items.to_vec())]));
    }
    let size = usize::try_from(size).unwrap_or(usize::MAX);
    Ok(Value::List(
        items
            .chunks(size)
            .map(|chunk| Value::List(chunk.to_vec()))
            .collect(),
    ))
}

fn compact(args: Vec<Value>, _: &FunctionContext) -> Result<Value, FunctionError> {
    if !args[0].is_wholly_known() {
        return Ok(Value::Unknown(Type::list(Type::String)));
    }
    Ok(Value::List(
        elements(&args[0])
            .iter()
            .filter(|item| item.as_str().is_some_and(|text| !text.is_empty()))
            .cloned()
            .collect(),
    ))
}

fn concat(args: Vec<Value>, _: &FunctionContext) -> Result<Value, FunctionError> {
    if args.is_empty() {
        return Err(failed("at least one argument is required"));
    }
    // All lists: the result is a list of their common element type.
    if args.iter().all(|arg| matches!(arg, Value::List(_))) {
        let mut items = Vec::new();
        for arg in &args {
            items.extend_from_slice(elements(arg));
        }
        if let Ok(list) = unified_list(items) {
            return Ok(list);
        }
    }
    let mut items = Vec::new();
    for (index, arg) in args.iter().enumerate() {
        match arg {
            Value::List(values) | Value::Tuple(values) => items.extend_from_slice(values),
            Value::Unknown(Type::List(_) | Type::Any) => return Ok(Value::Unknown(Type::Any)),
            Value::Unknown(Type::Tuple(_)) => return Ok(Value::Unknown(Type::Any)),
            other => {
                return Err(arg_error(
                    index,
                    format!(
                        "all arguments must be lists or tuples; got {}",
                        other.friendly_type_name()
                    ),
                ))
            }
        }
    }
    Ok(Value::Tuple(items))
}

fn distinct(args: Vec<Value>, _: &FunctionContext) -> Result<Value, FunctionError> {
    if !args[0].is_wholly_known() {
        return Ok(Value::Unknown(args[0].type_of()));
    }
    let mut result: Vec<Value> = Vec::new();
    for item in elements(&args[0]) {
        if !result
            .iter()
            .any(|seen| seen.equals(item) == Some(true) && seen.type_of() == item.type_of())
        {
            result.push(item.clone());
        }
    }
    Ok(Value::List(result))
}

fn element_type(args: &[Value]) -> Type {
    match args[0].type_of() {
        Type::List(e) => *e,
        _ => Type::Any,
    }
}

fn element(args: Vec<Value>, _: &FunctionContext) -> Result<Value, FunctionError> {
    let index = whole_number(&args[1]).map_err(|m| failed(format!("invalid index: {m}")))?;
    if index < 0 {
        return Err(failed("cannot use element function with a negative index"));
    }
    let items = match &args[0] {
        Value::List(items) | Value::Tuple(items) => items,
        Value::Unknown(ty) => {
            return Ok(Value::Unknown(match ty {
                Type::List(e) => *e.clone(),
                _ => Type::Any,
            }))
        }
        other => {
            return Err(failed(format!(
                "cannot read elements from {}",
                other.friendly_type_name()
            )));
        }
    };
    if items.is_empty() {
        return Err(failed("cannot use element function with an empty list"));
    }
    let position = usize::try_from(index).unwrap_or(0) % items.len();
    Ok(items[position].clone())
}

fn flatten(args: Vec<Value>, _: &FunctionContext) -> Result<Value, FunctionError> {
    match &args[0] {
        Value::List(_) | Value::Tuple(_) | Value::Set(_) => {}
        Value::Unknown(_) => return Ok(Value::Unknown(Type::Any)),
        _ => return Err(failed("can only flatten lists, sets and tuples")),
    }
    let mut out = Vec::new();
    let mut sensitive = false;
    if !flatten_into(&args[0], &mut out, &mut sensitive) {
        return Ok(Value::Unknown(Type::Any).mark_if(sensitive));
    }
    Ok(Value::Tuple(out).mark_if(sensitive))
}

/// Appends the leaves of a nested sequence; false when an unknown sequence hides some.
fn flatten_into(value: &Value, out: &mut Vec<Value>, sensitive: &mut bool) -> bool {
    let mut known = true;
    for item in elements(value) {
        let (inner, marked) = match item {
            Value::Sensitive(inner)
                if inner.as_seq().is_some() || matches!(**inner, Value::Unknown(_)) =>
            {
                (inner.as_ref(), true)
            }
            other => (other, false),
        };
        match inner {
            Value::List(_) | Value::Tuple(_) | Value::Set(_) => {
                *sensitive |= marked;
                known &= flatten_into(inner, out, sensitive);
            }
            Value::Unknown(Type::List(_) | Type::Tuple(_) | Type::Set(_) | Type::Any) => {
                *sensitive |= marked;
                known = false;
            }
            _ => out.push(item.clone()),
        }
    }
    known
}

fn reverse_type(args: &[Value]) -> Type {
    match args[0].type_of() {
        Type::Tuple(mut types) => {
            types.reverse();
            Type::Tuple(types)
        }
        Type::List(e) | Type::Set(e) => Type::List(e),
        _ => Type::Any,
    }
}

fn reverse(args: Vec<Value>, _: &FunctionContext) -> Result<Value, FunctionError> {
    match &args[0] {
        Value::Tuple(items) => Ok(Value::Tuple(items.iter().rev().cloned().collect())),
        Value::List(items) | Value::Set(items) => {
            Ok(Value::List(items.iter().rev().cloned().collect()))
        }
        other => Err(arg_error(
            0,
            format!(
                "can only reverse list or tuple values, not {}",
                other.friendly_type_name()
            ),
        )),
    }
}

fn slice_type(args: &[Value]) -> Type {
    match args[0].type_of() {
        ty @ Type::List(_) => ty,
        _ => Type::Any,
    }
}

fn slice(args: Vec<Value>, _: &FunctionContext) -> Result<Value, FunctionError> {
    let (items, tuple) = match &args[0] {
        Value::List(items) => (items, false),
        Value::Tuple(items) => (items, true),
        Value::Set(_) => {
            return Err(arg_error(
                0,
                "cannot slice a set, because its elements do not have indices; explicitly convert to a list if the ordering of the result is not important",
            ))
        }
        _ => return Err(arg_error(0, "must be a list or tuple value")),
    };
    let start =
        whole_number(&args[1]).map_err(|m| arg_error(1, format!("invalid start index: {m}")))?;
    if start < 0 {
        return Err(arg_error(1, "start index must not be less than zero"));
    }
    if start as u64 > items.len() as u64 {
        return Err(arg_error(
            1,
            "start index must not be greater than the length of the list",
        ));
    }
    let end =
        whole_number(&args[2]).map_err(|m| arg_error(2, format!("invalid end index: {m}")))?;
    if end < 0 {
        return Err(arg_error(2, "end index must not be less than zero"));
    }
    if end as u64 > items.len() as u64 {
        return Err(arg_error(
            2,
            "end index must not be greater than the length of the list",
        ));
    }
    if start > end {
        return Err(arg_error(
            1,
            "start index must not be greater than end index",
        ));
    }
    let part = items[start as usize..end as usize].to_vec();
    Ok(if tuple {
        Value::Tuple(part)
    } else {
        Value::List(part)
    })
}

fn sort(args: Vec<Value>, _: &FunctionContext) -> Result<Value, FunctionError> {
    if !args[0].is_wholly_known() {
        return Ok(Value::Unknown(Type::list(Type::String)));
    }
    let mut texts = Vec::new();
    for (index, item) in elements(&args[0]).iter().enumerate() {
        match item.as_str() {
            Some(text) => texts.push(text.to_string()),
            None => {
                return Err(failed(format!(
                    "given list element {index} is null; a null string cannot be sorted"
                )))
            }
        }
    }
    texts.sort();
    Ok(Value::List(texts.into_iter().map(Value::from).collect()))
}

// --- searching -------------------------------------------------------------------------------

fn coalesce(args: Vec<Value>, _: &FunctionContext) -> Result<Value, FunctionError> {
    let mut result_type = Type::Any;
    for arg in &args {
        if arg.is_null() {
            continue;
        }
        result_type = types_unify(&result_type, &arg.type_of())
            .ok_or_else(|| failed("all arguments must have the same type"))?;
    }
    for arg in args {
        let converted = convert(arg, &result_type)
            .map_err(|_| failed("all arguments must have the same type"))?;
        if converted.is_unknown() {
            return Ok(Value::Unknown(result_type));
        }
        if converted.is_null() {
            continue;
        }
        if result_type == Type::String && converted.as_str() == Some("") {
            continue;
        }
        return Ok(converted);
    }
    Err(failed("no non-null, non-empty-string arguments"))
}

fn coalescelist(args: Vec<Value>, _: &FunctionContext) -> Result<Value, FunctionError> {
    if args.is_empty() {
        return Err(failed("at least one argument is required"));
    }
    for arg in &args {
        if arg.is_unknown() || arg.is_null() {
            continue;
        }
        if !matches!(arg, Value::List(_) | Value::Tuple(_)) {
            return Err(failed("coalescelist arguments must be lists or tuples"));
        }
    }
    for arg in args {
        match &arg {
            Value::Unknown(ty) => return Ok(Value::Unknown(ty.clone())),
            Value::Null => continue,
            _ if !elements(&arg).is_empty() => return Ok(arg),
            _ => {}
        }
    }
    Err(failed("no non-null arguments"))
}

fn contains(args: Vec<Value>, _: &FunctionContext) -> Result<Value, FunctionError> {
    let list_type = args[0].type_of();
    if !is_sequence_type(&list_type) && !matches!(list_type, Type::Any) {
        return Err(failed("argument must be list, tuple, or set"));
    }
    if elements(&args[0]).is_empty() && !args[0].is_unknown() {
        return Ok(Value::Bool(false));
    }
    if args[0].is_unknown() || args[1].is_unknown() {
        return Ok(Value::Unknown(Type::Bool));
    }
    let mut saw_unknown = false;
    for item in elements(&args[0]) {
        match strict_equals(&args[1], item) {
            Some(true) => return Ok(Value::Bool(true)),
            None => saw_unknown = true,
            Some(false) => {}
        }
    }
    Ok(if saw_unknown {
        Value::Unknown(Type::Bool)
    } else {
        Value::Bool(false)
    })
}

/// Equality as cty's `Equals`: values of different types are different.
fn strict_equals(a: &Value, b: &Value) -> Option<bool> {
    let (a_type, b_type) = (a.type_of(), b.type_of());
    if a.is_unknown() || b.is_unknown() {
        return None;
    }
    if a_type != b_type && !(a.is_null() || b.is_null()) {
        // Lists of different element types or a tuple and a list can still hold equal
        // elements after unification; primitives of different types never are equal.
        if a_type.is_primitive() || b_type.is_primitive() {
            return Some(false);
        }
    }
    a.equals(b)
}

fn index(args: Vec<Value>, _: &FunctionContext) -> Result<Value, FunctionError> {
    let items = match &args[0] {
        Value::List(items) | Value::Tuple(items) => items,
        _ => return Err(failed("argument must be a list or tuple")),
    };
    if items.is_empty() {
        return Err(failed("cannot search an empty list"));
    }
    for (position, item) in items.iter().enumerate() {
        match strict_equals(item, &args[1]) {
            None => return Ok(Value::Unknown(Type::Number)),
            Some(true) => return Ok(Value::Number(Number::from(position))),
            Some(false) => {}
        }
    }
    Err(failed("item not found"))
}

fn length(args: Vec<Value>, _: &FunctionContext) -> Result<Value, FunctionError> {
    let count = match &args[0] {
        Value::String(text) => string_length(text),
        Value::List(items) | Value::Tuple(items) | Value::Set(items) => items.len(),
        Value::Map(items) | Value::Object(items) => items.len(),
        Value::Unknown(Type::Tuple(types)) => types.len(),
        Value::Unknown(Type::Object(object)) => object.attributes.len(),
        Value::Unknown(Type::String | Type::List(_) | Type::Set(_) | Type::Map(_) | Type::Any) => {
            return Ok(Value::Unknown(Type::Number))
        }
        _ => {
            return Err(failed(
                "argument must be a string, a collection type, or a structural type",
            ))
        }
    };
    Ok(Value::Number(Number::from(count)))
}

fn one_type(args: &[Value]) -> Type {
    match args[0].type_of() {
        Type::List(e) | Type::Set(e) => *e,
        Type::Tuple(types) if types.len() == 1 => types[0].clone(),
        _ => Type::Any,
    }
}

fn one(args: Vec<Value>, _: &FunctionContext) -> Result<Value, FunctionError> {
    match &args[0] {
        Value::List(items) | Value::Set(items) | Value::Tuple(items) if items.len() <= 1 => {
            Ok(items.first().cloned().unwrap_or(Value::Null))
        }
        _ => Err(arg_error(
            0,
            "must be a list, set, or tuple value with either zero or one elements",
        )),
    }
}

fn sum(args: Vec<Value>, _: &FunctionContext) -> Result<Value, FunctionError> {
    let items = match &args[0] {
        Value::List(items) | Value::Tuple(items) | Value::Set(items) => items,
        Value::Map(items) | Value::Object(items) => {
            if items.is_empty() {
                return Err(arg_error(0, "cannot sum an empty list"));
            }
            return Err(arg_error(
                0,
                format!(
                    "argument must be list, set, or tuple. Received {}",
                    args[0].friendly_type_name()
                ),
            ));
        }
        _ => return Err(arg_error(0, "cannot sum noniterable")),
    };
    if items.is_empty() {
        return Err(arg_error(0, "cannot sum an empty list"));
    }
    if !args[0].is_wholly_known() {
        return Ok(Value::Unknown(Type::Number));
    }
    let mut total = bigdecimal::BigDecimal::from(0);
    for item in items {
        let converted = convert(item.clone(), &Type::Number)
            .ok()
            .and_then(|v| v.as_number().cloned())
            .ok_or_else(|| arg_error(0, "argument must be list, set, or tuple of number values"))?;
        total += converted.big();
    }
    Ok(Value::Number(Number::from_big(total)))
}

// --- maps ------------------------------------------------------------------------------------

fn keys(args: Vec<Value>, _: &FunctionContext) -> Result<Value, FunctionError> {
    match &args[0] {
        Value::Object(items) => Ok(Value::Tuple(
            items.keys().map(|k| Value::from(k.as_str())).collect(),
        )),
        Value::Map(items) => Ok(Value::List(
            items.keys().map(|k| Value::from(k.as_str())).collect(),
        )),
        Value::Unknown(Type::Object(object)) => Ok(Value::Tuple(
            object
                .attributes
                .keys()
                .map(|k| Value::from(k.as_str()))
                .collect(),
        )),
        Value::Unknown(Type::Map(_)) => Ok(Value::Unknown(Type::list(Type::String))),
        Value::Unknown(Type::Any) => Ok(Value::Unknown(Type::Any)),
        _ => Err(arg_error(0, "must have map or object type")),
    }
}

fn values_type(args: &[Value]) -> Type {
    match args[0].type_of() {
        Type::Map(e) => Type::List(e),
        Type::Object(object) => Type::Tuple(object.attributes.into_values().collect()),
        _ => Type::Any,
    }
}

fn values(args: Vec<Value>, _: &FunctionContext) -> Result<Value, FunctionError> {
    match &args[0] {
        Value::Object(items) => Ok(Value::Tuple(items.values().cloned().collect())),
        Value::Map(items) => Ok(Value::List(items.values().cloned().collect())),
        _ => Err(failed("values() requires a map as the first argument")),
    }
}

fn lookup_type(args: &[Value]) -> Type {
    match args[0].type_of() {
        Type::Map(e) => *e,
        Type::Object(object) => args
            .get(1)
            .and_then(Value::as_str)
            .and_then(|key| object.attributes.get(key).cloned())
            .unwrap_or(Type::Any),
        _ => Type::Any,
    }
}

fn lookup(args: Vec<Value>, _: &FunctionContext) -> Result<Value, FunctionError> {
    if args.len() > 3 {
        return Err(failed(format!(
            "lookup() takes two or three arguments, got {}",
            args.len()
        )));
    }
    let key = string_value(&args[1]);
    let default = args.get(2);
    match &args[0] {
        Value::Object(items) => match (items.get(key), default) {
            (Some(found), _) => Ok(found.clone()),
            (None, Some(default)) => Ok(default.clone()),
            (None, None) => Err(arg_error(
                0,
                format!("the given object has no attribute {key:?}"),
            )),
        },
        Value::Map(items) => {
            let element_type = element_type_of(&args[0]);
            if let Some(default) = default {
                if !default.is_null() && convert(default.clone(), &element_type).is_err() {
                    return Err(arg_error(
                        2,
                        "the default value must have the same type as the map elements",
                    ));
                }
            }
            match (items.get(key), default) {
                (Some(found), _) => Ok(found.clone()),
                (None, Some(default)) => convert(default.clone(), &element_type)
                    .map_err(|error| failed(error.to_string())),
                (None, None) => Err(failed(format!("lookup failed to find key {key:?}"))),
            }
        }
        _ => Err(arg_error(
            0,
            "lookup() requires a map as the first argument",
        )),
    }
}

fn matchkeys(args: Vec<Value>, _: &FunctionContext) -> Result<Value, FunctionError> {
    let common = types_unify(&args[1].type_of(), &args[2].type_of())
        .ok_or_else(|| failed("keys and searchset must be of the same type"))?;
    let values = elements(&args[0]);
    let keys = convert(args[1].clone(), &common)
        .map_err(|_| failed("keys and searchset must be of the same type"))?;
    let searchset = convert(args[2].clone(), &common)
        .map_err(|_| failed("keys and searchset must be of the same type"))?;
    if values.len() != elements(&keys).len() {
        return Err(failed("length of keys and values should be equal"));
    }
    if elements(&searchset).is_empty() {
        return Ok(Value::List(Vec::new()));
    }
    if !args[0].is_wholly_known() || !keys.is_wholly_known() {
        return Ok(Value::Unknown(args[0].type_of()));
    }
    let mut output = Vec::new();
    for (position, key) in elements(&keys).iter().enumerate() {
        for search in elements(&searchset) {
            match key.equals(search) {
                None => return Ok(Value::List(Vec::new())),
                Some(true) => {
                    output.push(values[position].clone());
                    break;
                }
                Some(false) => {}
            }
        }
    }
    Ok(Value::List(output))
}

fn merge(args: Vec<Value>, _: &FunctionContext) -> Result<Value, FunctionError> {
    let mut first_type: Option<Type> = None;
    let mut all_match = true;
    let mut sensitive = false;
    for arg in &args {
        if arg.is_null() {
            continue;
        }
        let ty = arg.type_of();
        match ty {
            Type::Any => return Ok(Value::Unknown(Type::Any)),
            Type::Map(_) | Type::Object(_) => {}
            other => {
                return Err(failed(format!(
                    "arguments must be maps or objects, got {:?}",
                    other.friendly_name()
                )))
            }
        }
        if arg.is_unknown() {
            return Ok(Value::Unknown(Type::Any));
        }
        match &first_type {
            None => first_type = Some(ty),
            Some(first) if *first != ty => all_match = false,
            Some(_) => {}
        }
    }
    let mut merged = BTreeMap::new();
    for arg in args {
        let (arg, marked) = arg.unmark();
        sensitive |= marked;
        if let Value::Map(items) | Value::Object(items) = arg {
            merged.extend(items);
        }
    }
    let result = match first_type {
        Some(Type::Map(_)) if all_match => Value::Map(merged),
        _ => Value::Object(merged),
    };
    Ok(result.mark_if(sensitive))
}

fn transpose(args: Vec<Value>, _: &FunctionContext) -> Result<Value, FunctionError> {
    if !args[0].is_wholly_known() {
        return Ok(Value::Unknown(Type::map(Type::list(Type::String))));
    }
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (key, list) in args[0].as_entries().into_iter().flatten() {
        for item in elements(list) {
            let Some(text) = item.as_str() else {
                return Err(failed("input must be a map of lists of strings"));
            };
            let entry = out.entry(text.to_string()).or_default();
            entry.push(key.clone());
            entry.sort();
        }
    }
    Ok(Value::Map(
        out.into_iter()
            .map(|(key, list)| {
                (
                    key,
                    Value::List(list.into_iter().map(Value::from).collect()),
                )
            })
            .collect(),
    ))
}

fn zipmap(args: Vec<Value>, _: &FunctionContext) -> Result<Value, FunctionError> {
    let (keys, keys_marked) = args[0].clone().unmark();
    let as_object = match &args[1] {
        Value::List(_) => false,
        Value::Tuple(_) => true,
        _ => return Err(failed("values argument must be a list or tuple value")),
    };
    if !keys.is_wholly_known() {
        return Ok(Value::Unknown(Type::Any).mark_if(keys_marked));
    }
    let key_items = elements(&keys);
    let value_items = elements(&args[1]);
    if key_items.len() != value_items.len() {
        return Err(failed(format!(
            "number of keys ({}) does not match number of values ({})",
            key_items.len(),
            value_items.len()
        )));
    }
    let mut sensitive = keys_marked;
    let mut out = BTreeMap::new();
    for (position, (key, value)) in key_items.iter().zip(value_items).enumerate() {
        let (key, marked) = key.clone().unmark();
        sensitive |= marked;
        let Some(text) = key.as_str() else {
            return Err(failed(format!(
                "keys list has null value at index {position}"
            )));
        };
        out.insert(text.to_string(), value.clone());
    }
    let result = if as_object {
        Value::Object(out)
    } else {
        Value::Map(out)
    };
    Ok(result.mark_if(sensitive))
}

// --- numbers ---------------------------------------------------------------------------------

fn range(args: Vec<Value>, _: &FunctionContext) -> Result<Value, FunctionError> {
    use bigdecimal::BigDecimal;
    let number = |value: &Value| {
        value
            .as_number()
            .map(|n| n.big().clone())
            .unwrap_or_default()
    };
    let zero = BigDecimal::from(0);
    let (start, end, step) = match args.len() {
        1 => {
            let end = number(&args[0]);
            let step = if end < zero { -1 } else { 1 };
            (zero.clone(), end, BigDecimal::from(step))
        }
        2 => {
            let (start, end) = (number(&args[0]), number(&args[1]));
            let step = if end < start { -1 } else { 1 };
            (start, end, BigDecimal::from(step))
        }
        3 => (number(&args[0]), number(&args[1]), number(&args[2])),
        _ => return Err(failed("must have one, two, or three arguments")),
    };
    if step == zero {
        return Err(arg_error(2, "step must not be zero"));
    }
    let down = step < zero;
    if down && end > start {
        return Err(arg_error(
            1,
            "end must be less than start when step is negative",
        ));
    }
    if !down && end < start {
        return Err(arg_error(
            1,
            "end must be greater than start when step is positive",
        ));
    }
    let mut values = Vec::new();
    let mut current = start;
    loop {
        if (down && current <= end) || (!down && current >= end) {
            break;
        }
        if values.len() >= 1024 {
            return Err(failed(
                "more than 1024 values were generated; either decrease the difference between start and end or use a smaller step",
            ));
        }
        values.push(Value::Number(Number::from_big(current.clone())));
        current += &step;
    }
    Ok(Value::List(values))
}

// --- sets ------------------------------------------------------------------------------------

fn set_type(args: &[Value]) -> Type {
    let mut element = Type::Any;
    for arg in args {
        if let Some(unified) = types_unify(&element, &element_type_of(arg)) {
            element = unified;
        }
    }
    Type::set(element)
}

/// Converts every set argument to one common element type.
fn common_sets(args: Vec<Value>) -> Result<(Vec<Vec<Value>>, Type), FunctionError> {
    let ty = set_type(&args);
    for arg in &args {
        if types_unify(&ty, &arg.type_of()).is_none() {
            return Err(failed("given sets must all have compatible element types"));
        }
    }
    let mut sets = Vec::new();
    for arg in args {
        let converted = convert(arg, &ty)
            .map_err(|_| failed("given sets must all have compatible element types"))?;
        sets.push(elements(&converted).to_vec());
    }
    Ok((sets, ty))
}

fn set_operation(
    args: Vec<Value>,
    operation: impl Fn(&[Value], &[Vec<Value>]) -> Vec<Value>,
) -> Result<Value, FunctionError> {
    let (sets, ty) = common_sets(args)?;
    if sets.iter().flatten().any(|v| !v.is_wholly_known()) {
        return Ok(Value::Unknown(ty));
    }
    let (first, rest) = sets
        .split_first()
        .map(|(f, r)| (f.as_slice(), r))
        .unwrap_or((&[], &[]));
    Ok(Value::set(operation(first, rest)))
}

fn set_contains(set: &[Value], value: &Value) -> bool {
    set.iter().any(|item| item.equals(value) == Some(true))
}

fn setintersection(args: Vec<Value>, _: &FunctionContext) -> Result<Value, FunctionError> {
    set_operation(args, |first, rest| {
        first
            .iter()
            .filter(|item| rest.iter().all(|set| set_contains(set, item)))
            .cloned()
            .collect()
    })
}

fn setsubtract(args: Vec<Value>, _: &FunctionContext) -> Result<Value, FunctionError> {
    set_operation(args, |first, rest| {
        first
            .iter()
            .filter(|item| !rest.iter().any(|set| set_contains(set, item)))
            .cloned()
            .collect()
    })
}

fn setunion(args: Vec<Value>, _: &FunctionContext) -> Result<Value, FunctionError> {
    set_operation(args, |first, rest| {
        let mut all = first.to_vec();
        for set in rest {
            all.extend(set.iter().cloned());
        }
        all
    })
}

fn setproduct(args: Vec<Value>, _: &FunctionContext) -> Result<Value, FunctionError> {
    if args.len() < 2 {
        return Err(failed("at least two arguments are required"));
    }
    let mut all_lists = true;
    let mut columns: Vec<Vec<Value>> = Vec::new();
    for (position, arg) in args.iter().enumerate() {
        match arg {
            Value::Set(items) => {
                all_lists = false;
                columns.push(items.clone());
            }
            Value::List(items) => {
                columns.push(items.clone());
            }
            Value::Tuple(items) => {
                let unified = unified_list(items.clone())
                    .map_err(|_| arg_error(position, "all elements must be of the same type"))?;
                columns.push(elements(&unified).to_vec());
            }
            Value::Unknown(_) => return Ok(Value::Unknown(Type::Any)),
            _ => return Err(arg_error(position, "a set or a list is required")),
        }
    }
    // Refuse before allocating: a product of a few large sets is astronomically large.
    let total = columns
        .iter()
        .try_fold(1usize, |total, column| total.checked_mul(column.len()))
        .filter(|total| *total <= 1_000_000)
        .ok_or_else(|| failed("the product has more than 1000000 elements"))?;
    if total == 0 {
        return Ok(if all_lists {
            Value::List(Vec::new())
        } else {
            Value::Set(Vec::new())
        });
    }
    let mut product: Vec<Vec<Value>> = vec![Vec::new()];
    for column in &columns {
        let mut next = Vec::with_capacity(product.len() * column.len());
        for prefix in &product {
            for item in column {
                let mut row = prefix.clone();
                row.push(item.clone());
                next.push(row);
            }
        }
        product = next;
    }
    debug_assert_eq!(product.len(), total);
    let rows: Vec<Value> = product.into_iter().map(Value::Tuple).collect();
    Ok(if all_lists {
        Value::List(rows)
    } else {
        Value::set(rows)
    })
}
