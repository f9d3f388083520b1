//! A small JSON reader that keeps the byte range of every value and property name, so that
//! diagnostics about `.tf.json` and `.tfvars.json` files point at `file:line:col` (a
//! `serde_json::Value` forgets where things were). Numbers are kept as written (exact).

use std::ops::Range;

/// A JSON value and where it is.
#[derive(Debug, Clone)]
pub struct JsonValue {
    pub kind: JsonKind,
    pub span: Range<usize>,
}

#[derive(Debug, Clone)]
pub enum JsonKind {
    Null,
    Bool(bool),
    /// The number as written.
    Number(String),
    /// The decoded string; `raw` is the text between the quotes, escapes included.
    String {
        value: String,
        raw: String,
    },
    Array(Vec<JsonValue>),
    Object(Vec<JsonProperty>),
}

/// One `"name": value` of an object.
#[derive(Debug, Clone)]
pub struct JsonProperty {
    pub name: String,
    /// The name with its quotes.
    pub name_span: Range<usize>,
    pub value: JsonValue,
}

impl JsonValue {
    /// What kind of value this is, as an error message says it.
    pub fn kind_name(&self) -> &'static str {
        match self.kind {
            JsonKind::Null => "null",
            JsonKind::Bool(_) => "boolean",
            JsonKind::Number(_) => "number",
            JsonKind::String { .. } => "string",
            JsonKind::Array(_) => "array",
            JsonKind::Object(_) => "object",
        }
    }
}

/// A syntax error: what and where (a byte offset).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct JsonSyntaxError {
    pub message: String,
    pub offset: usize,
}

/// Reads one JSON document (a single value, surrounded by whitespace only).
pub fn parse(text: &str) -> Result<JsonValue, JsonSyntaxError> {
    let mut scanner = Scanner { text, position: 0 };
    let value = scanner.value(0)?;
    scanner.skip_whitespace();
    if scanner.position < text.len() {
        return Err(scanner.error("Extraneous data after value: a JSON file holds one value"));
    }
    Ok(value)
}

/// Nesting deeper than this is refused rather than risking the stack.
const MAX_DEPTH: usize = 256;

struct Scanner<'t> {
    text: &'t str,
    position: usize,
}

impl Scanner<'_> {
    fn error(&self, message: &str) -> JsonSyntaxError {
        JsonSyntaxError {
            message: message.to_string(),
            offset: self.position,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.position).copied()
    }

    fn skip_whitespace(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.position += 1;
        }
    }

    fn expect(&mut self, byte: u8, what: &str) -> Result<(), JsonSyntaxError> {
        self.skip_whitespace();
        if self.peek() == Some(byte) {
            self.position += 1;
            Ok(())
        } else {
            Err(self.error(what))
        }
    }

    fn value(&mut self, depth: usize) -> Result<JsonValue, JsonSyntaxError> {
        if depth > MAX_DEPTH {
            return Err(self.error("The JSON document nests too deeply"));
        }
        self.skip_whitespace();
        let start = self.position;
        let kind = match self.peek() {
            Some(b'{') => self.object(depth)?,
            Some(b'[') => self.array(depth)?,
            Some(b'"') => {
                let (value, raw) = self.string()?;
                JsonKind::String { value, raw }
            }
            Some(b'-' | b'0'..=b'9') => JsonKind::Number(self.number()?),
            Some(b't' | b'f' | b'n') => self.keyword()?,
            None => return Err(self.error("Missing value: the JSON document ends too early")),
            Some(_) => return Err(self.error("Invalid JSON value: expected a value here")),
        };
        Ok(JsonValue {
            kind,
            span: start..self.position,
        })
    }

    fn keyword(&mut self) -> Result<JsonKind, JsonSyntaxError> {
        let rest = &self.text[self.position..];
        for (word, kind) in [
            ("true", JsonKind::Bool(true)),
            ("false", JsonKind::Bool(false)),
            ("null", JsonKind::Null),
        ] {
            if rest.starts_with(word) {
                self.position += word.len();
                return Ok(kind);
            }
        }
        Err(self.error("Invalid JSON keyword: only true, false and null are keywords"))
    }

    fn number(&mut self) -> Result<String, JsonSyntaxError> {
        let start = self.position;
        let digits = |scanner: &mut Self| {
            let from = scanner.position;
            while matches!(scanner.peek(), Some(b'0'..=b'9')) {
                scanner.position += 1;
            }
            scanner.position > from
        };
        if self.peek() == Some(b'-') {
            self.position += 1;
        }
        if !digits(self) {
            return Err(self.error("Invalid JSON number: digits expected"));
        }
        if self.peek() == Some(b'.') {
            self.position += 1;
            if !digits(self) {
                return Err(self.error("Invalid JSON number: digits expected after the point"));
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.position += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.position += 1;
            }
            if !digits(self) {
                return Err(self.error("Invalid JSON number: digits expected in the exponent"));
            }
        }
        Ok(self.text[start..self.position].to_string())
    }

    /// A string at the current `"`: its decoded value and its raw text between the quotes.
    fn string(&mut self) -> Result<(String, String), JsonSyntaxError> {
        self.position += 1;
        let raw_start = self.position;
        let mut value = String::new();
        loop {
            let rest = &self.text[self.position..];
            let Some(c) = rest.chars().next() else {
                return Err(self.error("Unterminated JSON string"));
            };
            match c {
                '"' => {
                    let raw = self.text[raw_start..self.position].to_string();
                    self.position += 1;
                    return Ok((value, raw));
                }
                '\\' => {
                    self.position += 1;
                    value.push(self.escape()?);
                }
                c if (c as u32) < 0x20 => {
                    return Err(self.error(
                        "Invalid character in JSON string: control characters must be escaped",
                    ));
                }
                c => {
                    value.push(c);
                    self.position += c.len_utf8();
                }
            }
        }
    }

    fn escape(&mut self) -> Result<char, JsonSyntaxError> {
        let c = self
            .peek()
            .ok_or_else(|| self.error("Unterminated JSON string"))?;
        self.position += 1;
        Ok(match c {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let high = self.hex4()?;
                if (0xD800..0xDC00).contains(&high) && self.text[self.position..].starts_with("\\u")
                {
                    self.position += 2;
                    let low = self.hex4()?;
                    let combined =
                        0x10000 + ((high - 0xD800) << 10) + (low.wrapping_sub(0xDC00) & 0x3FF);
                    char::from_u32(combined).unwrap_or('\u{FFFD}')
                } else {
                    char::from_u32(high).unwrap_or('\u{FFFD}')
                }
            }
            _ => {
                self.position -= 1;
                return Err(self.error("Invalid escape sequence in JSON string"));
            }
        })
    }

    fn hex4(&mut self) -> Result<u32, JsonSyntaxError> {
        let digits = self
            .text
            .get(self.position..self.position + 4)
            .filter(|d| d.bytes().all(|b| b.is_ascii_hexdigit()))
            .ok_or_else(|| self.error("Invalid \\u escape: four hexadecimal digits expected"))?;
        self.position += 4;
        u32::from_str_radix(digits, 16).map_err(|_| self.error("Invalid \\u escape"))
    }

    fn array(&mut self, depth: usize) -> Result<JsonKind, JsonSyntaxError> {
        self.position += 1;
        let mut items = Vec::new();
        self.skip_whitespace();
        if self.peek() == Some(b']') {
            self.position += 1;
            return Ok(JsonKind::Array(items));
        }
        loop {
            items.push(self.value(depth + 1)?);
            self.skip_whitespace();
            match self.peek() {
                Some(b',') => self.position += 1,
                Some(b']') => {
                    self.position += 1;
                    return Ok(JsonKind::Array(items));
                }
                _ => {
                    return Err(self.error("Missing array element delimiter: expected a comma or ]"))
                }
            }
        }
    }

    fn object(&mut self, depth: usize) -> Result<JsonKind, JsonSyntaxError> {
        self.position += 1;
        let mut properties = Vec::new();
        self.skip_whitespace();
        if self.peek() == Some(b'}') {
            self.position += 1;
            return Ok(JsonKind::Object(properties));
        }
        loop {
            self.skip_whitespace();
            if self.peek() != Some(b'"') {
                return Err(self.error("Invalid object property name: a quoted string is expected"));
            }
            let name_start = self.position;
            let (name, _) = self.string()?;
            let name_span = name_start..self.position;
            self.expect(
                b':',
                "Missing property value colon: expected a colon after the property name",
            )?;
            let value = self.value(depth + 1)?;
            properties.push(JsonProperty {
                name,
                name_span,
                value,
            });
            self.skip_whitespace();
            match self.peek() {
                Some(b',') => self.position += 1,
                Some(b'}') => {
                    self.position += 1;
                    return Ok(JsonKind::Object(properties));
                }
                _ => {
                    return Err(
                        self.error("Missing attribute seperator comma: expected a comma or }")
                    )
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_spans_and_exact_numbers() {
        let text = r#"{"a": [1.50, "x\"y"], "b": null}"#;
        let value = parse(text).unwrap();
        let JsonKind::Object(properties) = value.kind else {
            panic!("an object")
        };
        assert_eq!(&text[properties[0].name_span.clone()], "\"a\"");
        let JsonKind::Array(items) = &properties[0].value.kind else {
            panic!("an array")
        };
        assert!(matches!(&items[0].kind, JsonKind::Number(n) if n == "1.50"));
        assert!(
            matches!(&items[1].kind, JsonKind::String { value, raw } if value == "x\"y" && raw == "x\\\"y")
        );
        assert_eq!(&text[items[1].span.clone()], "\"x\\\"y\"");
    }

    #[test]
    fn errors_have_offsets() {
        assert_eq!(parse(r#"{"a" 1}"#).unwrap_err().offset, 5);
        assert_eq!(parse("[1,]").unwrap_err().offset, 3);
        assert!(parse("{} x").is_err());
        assert!(parse("\"\\q\"").is_err());
    }
}
