//! The few token rewrites `terraform fmt` makes before laying out whitespace (Terraform's
//! `internal/command/fmt.go`), over the bodies and blocks of a file:
//!
//! - block labels are written quoted (`resource aws_vpc main` → `resource "aws_vpc" "main"`),
//!   with comments between them dropped;
//! - an attribute whose whole value is one interpolation, `"${var.x}"`, becomes the bare
//!   expression `var.x` (in parentheses when it spans lines);
//! - a top-level `variable` block's `type` written in the 0.11 style (`"string"`, `"list"`) or as
//!   a bare collection keyword (`list`) becomes its modern spelling (`string`, `list(string)`,
//!   `list(any)`).
//!
//! Attributes inside object constructors are expressions, not body attributes: they are left alone.

use super::lexer::{Token, TokenKind};

pub(crate) fn rewrite(tokens: Vec<Token>) -> Vec<Token> {
    let mut rewriter = Rewriter {
        tokens: &tokens,
        position: 0,
        output: Vec::with_capacity(tokens.len()),
    };
    let mut in_blocks = Vec::new();
    loop {
        rewriter.body(&mut in_blocks, false);
        // A body only stops early on input it does not understand: copy one token and go on,
        // so that nothing is ever lost.
        if !rewriter.copy_one() {
            break;
        }
    }
    rewriter.output
}

struct Rewriter<'a> {
    tokens: &'a [Token],
    position: usize,
    output: Vec<Token>,
}

impl Rewriter<'_> {
    fn kind_at(&self, index: usize) -> TokenKind {
        self.tokens
            .get(index)
            .map_or(TokenKind::Eof, |token| token.kind)
    }

    fn copy_one(&mut self) -> bool {
        match self.tokens.get(self.position) {
            Some(token) => {
                self.output.push(token.clone());
                self.position += 1;
                true
            }
            None => false,
        }
    }

    fn copy_until(&mut self, end: usize) {
        while self.position < end && self.copy_one() {}
    }

    /// A body: attributes and blocks between newlines and comments. Returns at the end of input,
    /// at the `}` closing a nested body (not consumed), or at anything it cannot read.
    fn body(&mut self, in_blocks: &mut Vec<String>, nested: bool) {
        loop {
            match self.kind_at(self.position) {
                TokenKind::Newline | TokenKind::Comment => {
                    self.copy_one();
                }
                TokenKind::Ident => {
                    if !self.item(in_blocks) {
                        return;
                    }
                }
                TokenKind::CBrace if nested => return,
                _ => return,
            }
        }
    }

    /// An attribute or a block starting at the identifier under the cursor.
    fn item(&mut self, in_blocks: &mut Vec<String>) -> bool {
        let name_index = self.position;
        let mut next = name_index + 1;
        while self.is_inline_comment(next) {
            next += 1;
        }
        if self.kind_at(next) == TokenKind::Equal {
            self.attribute(in_blocks, next);
            true
        } else {
            self.block(in_blocks)
        }
    }

    fn is_inline_comment(&self, index: usize) -> bool {
        self.tokens
            .get(index)
            .is_some_and(|token| token.kind == TokenKind::Comment && !token.ends_line())
    }

    fn attribute(&mut self, in_blocks: &[String], equal_index: usize) {
        let name = self.tokens[self.position].text.clone();
        self.copy_until(equal_index + 1);

        // The value runs to the end of the line, or to the `}` of a one-line block.
        let mut end = self.position;
        let mut depth = 0;
        while let Some(token) = self.tokens.get(end) {
            if token.kind == TokenKind::Eof || (depth == 0 && token.ends_line()) {
                break;
            }
            let change = token.bracket_change();
            if depth + change < 0 {
                break;
            }
            depth += change;
            end += 1;
        }
        let mut start = self.position;
        while start < end && self.is_inline_comment(start) {
            start += 1;
        }
        let mut value_end = end;
        while value_end > start && self.is_inline_comment(value_end - 1) {
            value_end -= 1;
        }
        self.copy_until(start);
        let value = &self.tokens[start..value_end];
        let rewritten = if in_blocks.len() == 1 && in_blocks[0] == "variable" && name == "type" {
            type_expression(value)
        } else {
            unwrap_interpolation(value)
        };
        self.output
            .extend(rewritten.unwrap_or_else(|| value.to_vec()));
        self.position = value_end;
        self.copy_until(end);
    }

    fn block(&mut self, in_blocks: &mut Vec<String>) -> bool {
        let block_type = self.tokens[self.position].text.clone();
        self.copy_one();
        // Labels up to the `{`.
        loop {
            match self.kind_at(self.position) {
                TokenKind::OBrace => break,
                TokenKind::Ident => {
                    let label = self.tokens[self.position].text.clone();
                    self.output.extend(quoted_label(&label));
                    self.position += 1;
                }
                TokenKind::OQuote => {
                    let start = self.position;
                    let mut end = start + 1;
                    while !matches!(self.kind_at(end), TokenKind::CQuote | TokenKind::Eof) {
                        end += 1;
                    }
                    let label_tokens = self.tokens.get(start..=end).unwrap_or(&[]);
                    match label_tokens {
                        [_, literal, close]
                            if literal.kind == TokenKind::QuotedLit
                                && close.kind == TokenKind::CQuote =>
                        {
                            match decode_string_literal(&literal.text) {
                                Some(label) => self.output.extend(quoted_label(&label)),
                                None => self.output.extend(label_tokens.iter().cloned()),
                            }
                        }
                        _ => self.output.extend(label_tokens.iter().cloned()),
                    }
                    self.position = end + 1;
                }
                _ if self.is_inline_comment(self.position) => self.position += 1,
                _ => return false,
            }
        }
        self.copy_one();
        in_blocks.push(block_type);
        self.body(in_blocks, true);
        in_blocks.pop();
        if self.kind_at(self.position) == TokenKind::CBrace {
            self.copy_one();
            true
        } else {
            false
        }
    }
}

fn quoted_label(label: &str) -> Vec<Token> {
    let mut tokens = vec![Token::new(TokenKind::OQuote, "\"")];
    if !label.is_empty() {
        tokens.push(Token::new(
            TokenKind::QuotedLit,
            escape_string_literal(label),
        ));
    }
    tokens.push(Token::new(TokenKind::CQuote, "\""));
    tokens
}

/// `"${ expression }"` → `expression`, when the string is exactly one interpolation.
fn unwrap_interpolation(tokens: &[Token]) -> Option<Vec<Token>> {
    use TokenKind::*;
    if tokens.len() < 5 {
        return None;
    }
    let last = tokens.len() - 1;
    if tokens[0].kind != OQuote
        || tokens[1].kind != TemplateInterp
        || tokens[last - 1].kind != TemplateSeqEnd
        || tokens[last].kind != CQuote
    {
        return None;
    }
    let inside = &tokens[2..last - 1];
    // Anything but one interpolation at the outer level (literal text, a second sequence)
    // keeps the string; sequences inside nested strings belong to a nested expression.
    let mut quotes = 0;
    for token in inside {
        match token.kind {
            OQuote => quotes += 1,
            CQuote => quotes -= 1,
            _ if quotes > 0 => {}
            TemplateInterp | TemplateSeqEnd | QuotedLit => return None,
            _ => {}
        }
    }
    let first = inside.iter().position(|token| token.kind != Newline)?;
    let end = inside.iter().rposition(|token| token.kind != Newline)? + 1;
    let trimmed = &inside[first..end];

    // A value over several lines (a multi-line conditional, say) only parses in parentheses.
    let multi_line = trimmed.iter().any(|token| token.kind == Newline);
    let parenthesized = trimmed.first().is_some_and(|token| token.kind == OParen)
        && trimmed.len() > 1
        && trimmed.last().is_some_and(|token| token.kind == CParen);
    if multi_line && !parenthesized {
        let mut wrapped = Vec::with_capacity(trimmed.len() + 2);
        wrapped.push(Token::new(OParen, "("));
        wrapped.extend(trimmed.iter().cloned());
        wrapped.push(Token::new(CParen, ")"));
        return Some(wrapped);
    }
    Some(trimmed.to_vec())
}

/// Modern spelling of a variable's legacy type constraint.
fn type_expression(tokens: &[Token]) -> Option<Vec<Token>> {
    use TokenKind::*;
    let collection = |keyword: &str, element: &str| {
        vec![
            Token::new(Ident, keyword),
            Token::new(OParen, "("),
            Token::new(Ident, element),
            Token::new(CParen, ")"),
        ]
    };
    match tokens {
        [keyword] if keyword.kind == Ident => match keyword.text.as_str() {
            "list" | "map" | "set" => Some(collection(&keyword.text, "any")),
            _ => None,
        },
        [open, literal, close]
            if open.kind == OQuote && literal.kind == QuotedLit && close.kind == CQuote =>
        {
            match literal.text.as_str() {
                "string" => Some(vec![Token::new(Ident, "string")]),
                "list" | "map" => Some(collection(&literal.text, "string")),
                _ => None,
            }
        }
        _ => None,
    }
}

/// The value of a quoted string literal's text (escapes decoded); `None` when it is malformed.
fn decode_string_literal(text: &str) -> Option<String> {
    let mut value = String::with_capacity(text.len());
    let mut characters = text.chars().peekable();
    while let Some(character) = characters.next() {
        match character {
            '\\' => {
                let escaped = characters.next()?;
                match escaped {
                    'n' => value.push('\n'),
                    'r' => value.push('\r'),
                    't' => value.push('\t'),
                    '"' => value.push('"'),
                    '\\' => value.push('\\'),
                    'u' | 'U' => {
                        let digits = if escaped == 'u' { 4 } else { 8 };
                        let hex: String = (0..digits).filter_map(|_| characters.next()).collect();
                        if hex.len() != digits {
                            return None;
                        }
                        value.push(char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?);
                    }
                    _ => return None,
                }
            }
            '$' | '%' if characters.peek() == Some(&character) => {
                // `$${` and `%%{` stand for a literal `${` and `%{`.
                let mut lookahead = characters.clone();
                lookahead.next();
                if lookahead.peek() == Some(&'{') {
                    characters.next();
                }
                value.push(character);
            }
            other => value.push(other),
        }
    }
    Some(value)
}

/// A string as the text of a quoted literal, as `hclwrite` escapes it.
fn escape_string_literal(value: &str) -> String {
    let mut text = String::with_capacity(value.len());
    let mut characters = value.chars().peekable();
    while let Some(character) = characters.next() {
        match character {
            '\n' => text.push_str("\\n"),
            '\r' => text.push_str("\\r"),
            '\t' => text.push_str("\\t"),
            '"' => text.push_str("\\\""),
            '\\' => text.push_str("\\\\"),
            '$' | '%' => {
                text.push(character);
                if characters.peek() == Some(&'{') {
                    text.push(character);
                }
            }
            other if other.is_control() => {
                let code = u32::from(other);
                if code < 0x10000 {
                    text.push_str(&format!("\\u{code:04x}"));
                } else {
                    text.push_str(&format!("\\U{code:08x}"));
                }
            }
            other => text.push(other),
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewritten(source: &str) -> String {
        crate::fmt::format_source(source).unwrap()
    }

    #[test]
    fn quotes_bare_labels_and_drops_comments_between_them() {
        assert_eq!(
            rewritten("resource aws_vpc /* x */ \"main\" {\n}\n"),
            "resource \"aws_vpc\" \"main\" {\n}\n"
        );
    }

    #[test]
    fn unwraps_a_lone_interpolation_only_at_body_level() {
        assert_eq!(rewritten("a = \"${var.x}\"\n"), "a = var.x\n");
        assert_eq!(rewritten("a = \"x${var.x}\"\n"), "a = \"x${var.x}\"\n");
        assert_eq!(rewritten("a = \"${a}${b}\"\n"), "a = \"${a}${b}\"\n");
        assert_eq!(rewritten("a = [\"${var.x}\"]\n"), "a = [\"${var.x}\"]\n");
    }

    #[test]
    fn label_escapes_round_trip() {
        assert_eq!(
            decode_string_literal("a\\u0041$${x}").as_deref(),
            Some("aA${x}")
        );
        assert_eq!(escape_string_literal("aA${x}\"\n"), "aA$${x}\\\"\\n");
    }

    #[test]
    fn modernizes_variable_types_only_in_variable_blocks() {
        assert_eq!(
            rewritten("variable \"a\" {\n  type = \"list\"\n}\n"),
            "variable \"a\" {\n  type = list(string)\n}\n"
        );
        assert_eq!(
            rewritten("other \"a\" {\n  type = \"list\"\n}\n"),
            "other \"a\" {\n  type = \"list\"\n}\n"
        );
    }
}
