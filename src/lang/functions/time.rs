//! Time functions: timestamp (the current UTC time in RFC 3339; unknown during plan, since it
//! changes on every run), plantimestamp, timeadd, timecmp and formatdate (Terraform's own format letters, below).
//!
//! `formatdate` letters: `YYYY YY MMMM MMM MM M DD D EEEE EEE hh h HH H AA aa mm m ss s
//! ZZZZZ ZZZZ ZZZ Z`; any other letter is an error; text in single quotes is literal and `''`
//! is a quote. The timestamp must be RFC 3339, and the errors name the part that is wrong.

use super::{
    arg_error, failed, returns, string_value, FunctionContext, FunctionError, FunctionSpec, Param,
};
use crate::value::{Type, Value};
use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, Timelike};

pub(super) fn functions() -> Vec<FunctionSpec> {
    vec![
        FunctionSpec::new("timestamp", vec![], returns::string, timestamp),
        FunctionSpec::new("plantimestamp", vec![], returns::string, plantimestamp),
        FunctionSpec::new(
            "timeadd",
            vec![
                Param::new("timestamp", Type::String),
                Param::new("duration", Type::String),
            ],
            returns::string,
            timeadd,
        ),
        FunctionSpec::new(
            "timecmp",
            vec![
                Param::new("timestamp_a", Type::String),
                Param::new("timestamp_b", Type::String),
            ],
            returns::number,
            timecmp,
        ),
        FunctionSpec::new(
            "formatdate",
            vec![
                Param::new("format", Type::String),
                Param::new("time", Type::String),
            ],
            returns::string,
            formatdate,
        ),
    ]
}

fn timestamp(_: Vec<Value>, ctx: &FunctionContext) -> Result<Value, FunctionError> {
    if ctx.plan_mode {
        return Ok(Value::Unknown(Type::String));
    }
    Ok(Value::from(
        chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string(),
    ))
}

/// The time of the plan. Terraform records it in the plan and reuses it at apply; without
/// that here, it is the time of the call (known in both modes, unlike `timestamp`).
fn plantimestamp(_: Vec<Value>, _: &FunctionContext) -> Result<Value, FunctionError> {
    Ok(Value::from(
        chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string(),
    ))
}

/// Reads an RFC 3339 timestamp as Go's `time.Parse(time.RFC3339, ...)` does, with the error
/// wording Terraform derives from Go's.
pub(crate) fn parse_timestamp(text: &str) -> Result<DateTime<FixedOffset>, String> {
    let invalid = |detail: String| format!("not a valid RFC3339 timestamp: {detail}");
    let mut rest = text;
    let number = |what: &str, digits: usize, rest: &mut &str| -> Result<u32, String> {
        let candidate = rest
            .get(..digits)
            .filter(|part| part.bytes().all(|b| b.is_ascii_digit()));
        match candidate {
            Some(part) => {
                *rest = &rest[digits..];
                part.parse::<u32>()
                    .map_err(|_| invalid(format!("cannot use {rest:?} as {what}")))
            }
            None if rest.is_empty() => Err(invalid(format!("end of string before {what}"))),
            None => Err(invalid(format!("cannot use {:?} as {what}", *rest))),
        }
    };
    let separator = |expected: char, rest: &mut &str| -> Result<(), String> {
        match rest.chars().next() {
            Some(ch) if ch == expected => {
                *rest = &rest[1..];
                Ok(())
            }
            None => Err(invalid(format!(
                "end of string where \"{expected}\" is expected"
            ))),
            Some(_) => Err(invalid(format!(
                "found {:?} where \"{expected}\" is expected",
                *rest
            ))),
        }
    };
    let year = number("year", 4, &mut rest)?;
    separator('-', &mut rest)?;
    let month = number("month", 2, &mut rest)?;
    separator('-', &mut rest)?;
    let day = number("day of month", 2, &mut rest)?;
    match rest.chars().next() {
        Some('T') | Some('t') => rest = &rest[1..],
        _ => return Err(invalid("missing required time introducer 'T'".to_string())),
    }
    let hour = number("hour", 2, &mut rest)?;
    separator(':', &mut rest)?;
    let minute = number("minute", 2, &mut rest)?;
    separator(':', &mut rest)?;
    let second = number("second", 2, &mut rest)?;
    let mut nanos = 0u32;
    if let Some(fraction) = rest.strip_prefix('.') {
        let digits: String = fraction.chars().take_while(char::is_ascii_digit).collect();
        if digits.is_empty() {
            return Err(invalid(format!("cannot use {rest:?} as second")));
        }
        rest = &fraction[digits.len()..];
        let padded = format!("{:0<9}", &digits[..digits.len().min(9)]);
        nanos = padded.parse().unwrap_or(0);
    }
    let offset_seconds = match rest.chars().next() {
        Some('Z') | Some('z') if rest.len() == 1 => 0,
        Some(sign @ ('+' | '-')) if rest.len() == 6 && rest.as_bytes()[3] == b':' => {
            let hours: i32 = rest[1..3]
                .parse()
                .map_err(|_| invalid(format!("cannot use {rest:?} as UTC offset")))?;
            let minutes: i32 = rest[4..6]
                .parse()
                .map_err(|_| invalid(format!("cannot use {rest:?} as UTC offset")))?;
            let total = hours * 3600 + minutes * 60;
            if sign == '-' {
                -total
            } else {
                total
            }
        }
        None => return Err(invalid("end of string before UTC offset".to_string())),
        Some(_)
            if rest.len() > 6
                && (rest.starts_with('+') || rest.starts_with('-') || rest.starts_with('Z')) =>
        {
            let extra = rest
                .get(if rest.starts_with('Z') { 1 } else { 6 }..)
                .unwrap_or(rest);
            return Err(format!(
                "not a valid RFC3339 timestamp: extra text: {extra:?}"
            ));
        }
        Some(_) => return Err(invalid(format!("cannot use {rest:?} as UTC offset"))),
    };
    if !(1..=12).contains(&month) {
        return Err(invalid("month out of range".to_string()));
    }
    let date = NaiveDate::from_ymd_opt(year as i32, month, day)
        .ok_or_else(|| invalid("day out of range".to_string()))?;
    if hour > 23 {
        return Err(invalid("hour out of range".to_string()));
    }
    if minute > 59 {
        return Err(invalid("minute out of range".to_string()));
    }
    if second > 59 {
        return Err(invalid("second out of range".to_string()));
    }
    let time = NaiveTime::from_hms_nano_opt(hour, minute, second, nanos)
        .ok_or_else(|| invalid("second out of range".to_string()))?;
    let offset = FixedOffset::east_opt(offset_seconds)
        .ok_or_else(|| invalid("UTC offset out of range".to_string()))?;
    NaiveDateTime::new(date, time)
        .and_local_timezone(offset)
        .single()
        .ok_or_else(|| invalid("time out of range".to_string()))
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const WEEKDAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

fn formatdate(args: Vec<Value>, _: &FunctionContext) -> Result<Value, FunctionError> {
    let format = string_value(&args[0]);
    let time = parse_timestamp(string_value(&args[1])).map_err(|message| arg_error(1, message))?;
    let chars: Vec<char> = format.chars().collect();
    let mut out = String::new();
    let mut position = 0;
    while position < chars.len() {
        let ch = chars[position];
        if ch == '\'' {
            if chars.get(position + 1) == Some(&'\'') {
                out.push('\'');
                position += 2;
                continue;
            }
            let mut end = position + 1;
            let mut literal = String::new();
            loop {
                match chars.get(end) {
                    None => return Err(arg_error(0, "unterminated literal '")),
                    Some('\'') if chars.get(end + 1) == Some(&'\'') => {
                        literal.push('\'');
                        end += 2;
                    }
                    Some('\'') => break,
                    Some(other) => {
                        literal.push(*other);
                        end += 1;
                    }
                }
            }
            out.push_str(&literal);
            position = end + 1;
            continue;
        }
        if !ch.is_ascii_alphabetic() {
            out.push(ch);
            position += 1;
            continue;
        }
        let mut end = position;
        while chars.get(end) == Some(&ch) {
            end += 1;
        }
        let token: String = chars[position..end].iter().collect();
        out.push_str(&format_token(&token, ch, end - position, &time)?);
        position = end;
    }
    Ok(Value::from(out))
}

fn format_token(
    token: &str,
    letter: char,
    count: usize,
    time: &DateTime<FixedOffset>,
) -> Result<String, FunctionError> {
    let bad = |rule: &str| {
        if rule.is_empty() {
            arg_error(0, format!("invalid date format verb {token:?}"))
        } else {
            arg_error(0, format!("invalid date format verb {token:?}: {rule}"))
        }
    };
    let twelve_hour = match time.hour() % 12 {
        0 => 12,
        other => other,
    };
    let offset = time.offset().local_minus_utc();
    let offset_text = |colon: bool| {
        let sign = if offset < 0 { '-' } else { '+' };
        let minutes = offset.abs() / 60;
        if colon {
            format!("{sign}{:02}:{:02}", minutes / 60, minutes % 60)
        } else {
            format!("{sign}{:02}{:02}", minutes / 60, minutes % 60)
        }
    };
    Ok(match (letter, count) {
        ('Y', 2) => format!("{:02}", time.year().rem_euclid(100)),
        ('Y', 4) => format!("{:04}", time.year()),
        ('Y', _) => return Err(bad("year must either be \"YY\" or \"YYYY\"")),
        ('M', 1) => time.month().to_string(),
        ('M', 2) => format!("{:02}", time.month()),
        ('M', 3) => MONTHS[time.month0() as usize][..3].to_string(),
        ('M', 4) => MONTHS[time.month0() as usize].to_string(),
        ('M', _) => return Err(bad("month must be \"M\", \"MM\", \"MMM\", or \"MMMM\"")),
        ('D', 1) => time.day().to_string(),
        ('D', 2) => format!("{:02}", time.day()),
        ('D', _) => return Err(bad("day of month must either be \"D\" or \"DD\"")),
        ('E', 3) => WEEKDAYS[time.weekday().num_days_from_monday() as usize][..3].to_string(),
        ('E', 4) => WEEKDAYS[time.weekday().num_days_from_monday() as usize].to_string(),
        ('E', _) => return Err(bad("day of week must either be \"EEE\" or \"EEEE\"")),
        ('h', 1) => time.hour().to_string(),
        ('h', 2) => format!("{:02}", time.hour()),
        ('h', _) => return Err(bad("24-hour must either be \"h\" or \"hh\"")),
        ('H', 1) => twelve_hour.to_string(),
        ('H', 2) => format!("{twelve_hour:02}"),
        ('H', _) => return Err(bad("12-hour must either be \"H\" or \"HH\"")),
        ('A' | 'a', 2) => {
            let marker = if time.hour() < 12 { "AM" } else { "PM" };
            if letter == 'A' {
                marker.to_string()
            } else {
                marker.to_lowercase()
            }
        }
        ('A' | 'a', _) => return Err(bad(&format!("must be \"{letter}{letter}\""))),
        ('m', 1) => time.minute().to_string(),
        ('m', 2) => format!("{:02}", time.minute()),
        ('m', _) => return Err(bad("minute must either be \"m\" or \"mm\"")),
        ('s', 1) => time.second().to_string(),
        ('s', 2) => format!("{:02}", time.second()),
        ('s', _) => return Err(bad("second must either be \"s\" or \"ss\"")),
        ('Z', 1) if offset == 0 => "Z".to_string(),
        ('Z', 1) => offset_text(true),
        ('Z', 3) if offset == 0 => "UTC".to_string(),
        ('Z', 3) | ('Z', 4) => offset_text(false),
        ('Z', 5) => offset_text(true),
        ('Z', _) => return Err(bad("timezone must be Z, ZZZZ, or ZZZZZ")),
        _ => return Err(bad("")),
    })
}

/// RFC 3339 as Go's `time.RFC3339` layout writes it: no fraction, `Z` for UTC.
fn rfc3339(time: &DateTime<FixedOffset>) -> String {
    if time.offset().local_minus_utc() == 0 {
        time.format("%Y-%m-%dT%H:%M:%SZ").to_string()
    } else {
        time.format("%Y-%m-%dT%H:%M:%S%:z").to_string()
    }
}

/// Parses a Go duration (`1h30m`, `-2.5s`, `300ms`) into nanoseconds.
pub(crate) fn parse_duration(text: &str) -> Result<i128, String> {
    let invalid = || format!("time: invalid duration {text:?}");
    let (negative, mut rest) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    if rest == "0" {
        return Ok(0);
    }
    if rest.is_empty() {
        return Err(invalid());
    }
    let mut total: f64 = 0.0;
    while !rest.is_empty() {
        let number_length = rest
            .find(|ch: char| !(ch.is_ascii_digit() || ch == '.'))
            .unwrap_or(rest.len());
        let number = &rest[..number_length];
        if number.is_empty() || number == "." || number.matches('.').count() > 1 {
            return Err(invalid());
        }
        let value: f64 = number.parse().map_err(|_| invalid())?;
        rest = &rest[number_length..];
        let unit_length = rest
            .find(|ch: char| ch.is_ascii_digit() || ch == '.')
            .unwrap_or(rest.len());
        let unit = &rest[..unit_length];
        rest = &rest[unit_length..];
        let scale: f64 = match unit {
            "" => return Err(format!("time: missing unit in duration {text:?}")),
            "ns" => 1.0,
            "us" | "\u{b5}s" | "\u{3bc}s" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            other => return Err(format!("time: unknown unit {other:?} in duration {text:?}")),
        };
        total += value * scale;
    }
    if total > i64::MAX as f64 {
        return Err(invalid());
    }
    let nanos = total.round() as i128;
    Ok(if negative { -nanos } else { nanos })
}

fn timeadd(args: Vec<Value>, _: &FunctionContext) -> Result<Value, FunctionError> {
    let time = parse_timestamp(string_value(&args[0])).map_err(failed)?;
    let nanos = parse_duration(string_value(&args[1])).map_err(failed)?;
    let duration = chrono::Duration::nanoseconds(
        i64::try_from(nanos).map_err(|_| failed("time: invalid duration"))?,
    );
    let result = time
        .checked_add_signed(duration)
        .ok_or_else(|| failed("the resulting time is out of range"))?;
    Ok(Value::from(rfc3339(&result)))
}

fn timecmp(args: Vec<Value>, _: &FunctionContext) -> Result<Value, FunctionError> {
    let first = parse_timestamp(string_value(&args[0])).map_err(|m| arg_error(0, m))?;
    let second = parse_timestamp(string_value(&args[1])).map_err(|m| arg_error(1, m))?;
    Ok(Value::from(match first.cmp(&second) {
        std::cmp::Ordering::Less => -1,
        std::cmp::Ordering::Equal => 0,
        std::cmp::Ordering::Greater => 1,
    }))
}
