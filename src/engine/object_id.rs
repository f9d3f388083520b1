//! Which attribute names an object in the apply progress lines (`Destroying... [id=vpc-1]`),
//! chosen as Terraform's `command/format` chooses it: `id`, else `name`, else (for the line that
//! starts an operation) the `name` or `Name` tag. A sensitive value is never shown: the object
//! is then named by nothing.

use crate::value::Value;
use std::fmt;

/// An attribute that identifies an object, with its value (`id=vpc-1`, `tags.Name=main`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectId {
    pub key: String,
    pub value: String,
}

impl fmt::Display for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}", self.key, self.value)
    }
}

impl ObjectId {
    /// What names an object once an operation is done (Terraform's `ObjectValueID`): its `id`
    /// when the object has a string `id`, otherwise its `name`.
    pub fn of(object: &Value) -> Option<ObjectId> {
        let key = if object.get_attr("id").is_some() {
            "id"
        } else {
            "name"
        };
        shown(key, object.get_attr(key)?)
    }

    /// What names an object when an operation on it starts (Terraform's
    /// `ObjectValueIDOrName`): [`ObjectId::of`], else its `name`, else its `name` or `Name` tag.
    pub fn of_or_name(object: &Value) -> Option<ObjectId> {
        if let Some(id) = ObjectId::of(object) {
            return Some(id);
        }
        if let Some(name) = object.get_attr("name") {
            return shown("name", name);
        }
        let tags = object.get_attr("tags")?;
        if matches!(tags, Value::Sensitive(_)) || !tags.is_wholly_known() {
            return None;
        }
        match (tags.get_attr("name"), tags.get_attr("Name")) {
            (Some(name), _) => shown("tags.name", name),
            (None, Some(name)) => shown("tags.Name", name),
            (None, None) => None,
        }
    }
}

/// The attribute as shown: a known, non-sensitive, non-empty string.
fn shown(key: &str, value: &Value) -> Option<ObjectId> {
    match value {
        Value::String(text) if !text.is_empty() => Some(ObjectId {
            key: key.to_string(),
            value: text.clone(),
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(attrs: &[(&str, Value)]) -> Value {
        Value::object(attrs.iter().cloned())
    }

    #[test]
    fn the_id_names_an_object_else_its_name_else_its_name_tag() {
        let tags = Value::Map(
            [("Name".to_string(), Value::string("main"))]
                .into_iter()
                .collect(),
        );
        let with_id = object(&[("id", Value::string("vpc-1")), ("name", Value::string("n"))]);
        let named = object(&[("name", Value::string("role"))]);
        let tagged = object(&[("tags", tags.clone())]);
        let null_id = object(&[("id", Value::Null), ("name", Value::string("n"))]);
        let show = |id: Option<ObjectId>| id.map(|id| id.to_string());
        assert_eq!(show(ObjectId::of(&with_id)).as_deref(), Some("id=vpc-1"));
        assert_eq!(show(ObjectId::of(&named)).as_deref(), Some("name=role"));
        assert_eq!(show(ObjectId::of(&tagged)), None);
        assert_eq!(
            show(ObjectId::of_or_name(&tagged)).as_deref(),
            Some("tags.Name=main")
        );
        // An object with an `id` attribute is named by its id alone once done, as Terraform's
        // ObjectValueID does; when starting, the name stands in for a null id.
        assert_eq!(show(ObjectId::of(&null_id)), None);
        assert_eq!(
            show(ObjectId::of_or_name(&null_id)).as_deref(),
            Some("name=n")
        );
    }

    #[test]
    fn sensitive_or_unknown_values_name_nothing() {
        let secret = object(&[("id", Value::string("s3cr3t").mark_sensitive())]);
        let unknown = object(&[("id", Value::unknown())]);
        let secret_tags = object(&[(
            "tags",
            Value::Map(
                [("Name".to_string(), Value::string("x"))]
                    .into_iter()
                    .collect(),
            )
            .mark_sensitive(),
        )]);
        assert_eq!(ObjectId::of_or_name(&secret), None);
        assert_eq!(ObjectId::of_or_name(&unknown), None);
        assert_eq!(ObjectId::of_or_name(&secret_tags), None);
        assert_eq!(ObjectId::of_or_name(&Value::Null), None);
    }
}
