//! Arbitrary-precision numbers, as Terraform has them: integers never lose precision and
//! decimals print the way Terraform prints them (`1.5`, `100`, never `1E+2`).

use bigdecimal::{BigDecimal, ToPrimitive, Zero};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// A Terraform number.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Number(BigDecimal);

impl Number {
    pub fn from_big(value: BigDecimal) -> Number {
        Number(value.normalized())
    }

    pub fn big(&self) -> &BigDecimal {
        &self.0
    }

    /// Parses a decimal literal (`12`, `-1.5`, `1e3`).
    pub fn parse(text: &str) -> Option<Number> {
        let text = text.trim();
        if text.is_empty() || text.starts_with('+') && text.len() == 1 {
            return None;
        }
        BigDecimal::from_str(text).ok().map(Number::from_big)
    }

    pub fn from_f64(value: f64) -> Option<Number> {
        if !value.is_finite() {
            return None;
        }
        // Shortest round-trip text, so 0.1 stays 0.1.
        Number::parse(&format!("{value}"))
    }

    pub fn to_i64(&self) -> Option<i64> {
        if self.is_integer() {
            self.0.to_i64()
        } else {
            None
        }
    }

    pub fn to_f64(&self) -> f64 {
        self.0.to_f64().unwrap_or(f64::NAN)
    }

    pub fn is_integer(&self) -> bool {
        self.0.is_integer()
    }

    pub fn is_zero(&self) -> bool {
        self.0.is_zero()
    }
}

impl From<i64> for Number {
    fn from(n: i64) -> Self {
        Number(BigDecimal::from(n))
    }
}

impl From<i32> for Number {
    fn from(n: i32) -> Self {
        Number(BigDecimal::from(n))
    }
}

impl From<u64> for Number {
    fn from(n: u64) -> Self {
        Number(BigDecimal::from(n))
    }
}

impl From<usize> for Number {
    fn from(n: usize) -> Self {
        Number(BigDecimal::from(n as u64))
    }
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.normalized().to_plain_string())
    }
}

impl Serialize for Number {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Number {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Number::parse(&text)
            .ok_or_else(|| serde::de::Error::custom(format!("not a number: `{text}`")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_like_terraform() {
        assert_eq!(Number::parse("100").unwrap().to_string(), "100");
        assert_eq!(Number::parse("1e3").unwrap().to_string(), "1000");
        assert_eq!(Number::parse("1.50").unwrap().to_string(), "1.5");
        assert_eq!(Number::parse("-0.25").unwrap().to_string(), "-0.25");
        assert_eq!(
            Number::parse("12345678901234567890123")
                .unwrap()
                .to_string(),
            "12345678901234567890123"
        );
        assert_eq!(Number::from_f64(0.1).unwrap().to_string(), "0.1");
    }

    #[test]
    fn integers_convert() {
        assert_eq!(Number::parse("42").unwrap().to_i64(), Some(42));
        assert_eq!(Number::parse("4.2").unwrap().to_i64(), None);
    }
}
