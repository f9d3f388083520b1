//! Attribute paths: where inside a value something is (`scaling_config[0].desired_size`).

use serde::{Deserialize, Serialize};
use std::fmt;

/// One step of an [`AttrPath`].
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PathStep {
    /// `.name` on an object.
    Attr(String),
    /// `[0]` on a list, tuple or set.
    Index(i64),
    /// `["key"]` on a map.
    Key(String),
}

/// A path from the root of a value to somewhere inside it.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct AttrPath(pub Vec<PathStep>);

impl AttrPath {
    pub fn root() -> AttrPath {
        AttrPath(Vec::new())
    }

    pub fn attr(name: impl Into<String>) -> AttrPath {
        AttrPath(vec![PathStep::Attr(name.into())])
    }

    pub fn push_attr(mut self, name: impl Into<String>) -> AttrPath {
        self.0.push(PathStep::Attr(name.into()));
        self
    }

    pub fn push_index(mut self, index: i64) -> AttrPath {
        self.0.push(PathStep::Index(index));
        self
    }

    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `self` is `other` or lies inside it.
    pub fn starts_with(&self, other: &AttrPath) -> bool {
        self.0.starts_with(&other.0)
    }

    /// Parses the traversal syntax used by `ignore_changes` and `sensitive_attributes`:
    /// `a.b[0]["k"]`.
    pub fn parse(text: &str) -> Option<AttrPath> {
        let mut steps = Vec::new();
        let mut rest = text.trim();
        let mut first = true;
        while !rest.is_empty() {
            if let Some(after) = rest.strip_prefix('[') {
                let end = after.find(']')?;
                let inner = after[..end].trim();
                if let Some(key) = inner.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
                    steps.push(PathStep::Key(key.to_string()));
                } else {
                    steps.push(PathStep::Index(inner.parse().ok()?));
                }
                rest = &after[end + 1..];
            } else {
                let body = if first { rest } else { rest.strip_prefix('.')? };
                let end = body.find(['.', '[']).unwrap_or(body.len());
                let name = &body[..end];
                if name.is_empty() {
                    return None;
                }
                steps.push(PathStep::Attr(name.to_string()));
                rest = &body[end..];
            }
            first = false;
        }
        Some(AttrPath(steps))
    }
}

impl fmt::Display for AttrPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, step) in self.0.iter().enumerate() {
            match step {
                PathStep::Attr(name) if i == 0 => write!(f, "{name}")?,
                PathStep::Attr(name) => write!(f, ".{name}")?,
                PathStep::Index(index) => write!(f, "[{index}]")?,
                PathStep::Key(key) => write!(f, "[{key:?}]")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints() {
        let path = AttrPath::parse("scaling_config[0].desired_size").unwrap();
        assert_eq!(
            path.0,
            vec![
                PathStep::Attr("scaling_config".into()),
                PathStep::Index(0),
                PathStep::Attr("desired_size".into())
            ]
        );
        assert_eq!(path.to_string(), "scaling_config[0].desired_size");
        assert_eq!(
            AttrPath::parse("tags[\"Name\"]").unwrap().to_string(),
            "tags[\"Name\"]"
        );
        assert!(AttrPath::parse("a..b").is_none());
    }
}
