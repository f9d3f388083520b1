//! The token stream the formatter works on: the same tokens HashiCorp's `hclsyntax` scanner
//! produces, because `terraform fmt` (HCL's `hclwrite`) decides every space from the token
//! *types* around it. Each token keeps its exact source text and the number of whitespace bytes
//! that preceded it; formatting only ever changes that count.
//!
//! The input has already been checked by a real parser, so this scanner only has to classify
//! valid input faithfully; on anything else it still makes progress (an `Invalid` token) and never
//! panics.

/// The token types of `hclsyntax` that the layout rules distinguish.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TokenKind {
    OBrace,
    CBrace,
    OBrack,
    CBrack,
    OParen,
    CParen,
    OQuote,
    CQuote,
    OHeredoc,
    CHeredoc,
    Star,
    Slash,
    Plus,
    Minus,
    Percent,
    Equal,
    EqualOp,
    NotEqual,
    LessThan,
    LessThanEq,
    GreaterThan,
    GreaterThanEq,
    And,
    Or,
    Bang,
    Dot,
    Comma,
    DoubleColon,
    Ellipsis,
    FatArrow,
    Question,
    Colon,
    TemplateInterp,
    TemplateControl,
    TemplateSeqEnd,
    /// Literal text inside a quoted string.
    QuotedLit,
    /// Literal text inside a heredoc (one token per line, newline included).
    StringLit,
    NumberLit,
    Ident,
    /// `#` and `//` comments include their line ending; `/* */` ones do not.
    Comment,
    Newline,
    Invalid,
    Eof,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Token {
    pub kind: TokenKind,
    pub text: String,
    /// How many spaces to write before the token. Scanned from the source (whitespace bytes),
    /// then rewritten by the layout rules.
    pub spaces_before: usize,
}

impl Token {
    pub fn new(kind: TokenKind, text: impl Into<String>) -> Token {
        Token {
            kind,
            text: text.into(),
            spaces_before: 0,
        }
    }

    /// Whether this token ends a line: a newline, or a line comment (which holds its newline).
    pub fn ends_line(&self) -> bool {
        match self.kind {
            TokenKind::Newline => true,
            TokenKind::Comment => self.text.ends_with('\n'),
            _ => false,
        }
    }

    /// +1 for an opening bracket (template sequences count), -1 for a closing one.
    pub fn bracket_change(&self) -> i32 {
        match self.kind {
            TokenKind::OBrace
            | TokenKind::OBrack
            | TokenKind::OParen
            | TokenKind::TemplateControl
            | TokenKind::TemplateInterp => 1,
            TokenKind::CBrace
            | TokenKind::CBrack
            | TokenKind::CParen
            | TokenKind::TemplateSeqEnd => -1,
            _ => 0,
        }
    }

    /// Width in columns, as `hclwrite` counts it (spaces plus characters).
    pub fn columns(&self) -> usize {
        self.spaces_before + self.text.chars().count()
    }
}

/// What the scanner is inside of.
enum Context {
    /// `{ ... }` in expression mode.
    Brace,
    /// `${ ... }` or `%{ ... }`: expression mode until the closing `}`.
    Template,
    /// A quoted string.
    Quoted,
    /// A heredoc with its closing marker.
    Heredoc { marker: String, start_of_line: bool },
}

/// Splits `source` into tokens, ending with an `Eof` token that carries the trailing whitespace.
pub(crate) fn tokenize(source: &str) -> Vec<Token> {
    Scanner {
        source,
        position: 0,
        pending_spaces: 0,
        contexts: Vec::new(),
        tokens: Vec::new(),
    }
    .run()
}

struct Scanner<'a> {
    source: &'a str,
    position: usize,
    pending_spaces: usize,
    contexts: Vec<Context>,
    tokens: Vec<Token>,
}

impl<'a> Scanner<'a> {
    fn run(mut self) -> Vec<Token> {
        while self.position < self.source.len() {
            let before = (self.position, self.contexts.len());
            match self.contexts.last() {
                Some(Context::Quoted) => self.scan_quoted(),
                Some(Context::Heredoc { .. }) => self.scan_heredoc(),
                _ => self.scan_expression(),
            }
            if (self.position, self.contexts.len()) == before {
                // No rule applied: take one character as invalid rather than loop forever.
                let length = self.rest().chars().next().map_or(1, char::len_utf8);
                self.emit(TokenKind::Invalid, length);
            }
        }
        let spaces = self.pending_spaces;
        self.tokens.push(Token {
            kind: TokenKind::Eof,
            text: String::new(),
            spaces_before: spaces,
        });
        self.tokens
    }

    fn rest(&self) -> &'a str {
        self.source.get(self.position..).unwrap_or("")
    }

    fn emit(&mut self, kind: TokenKind, length: usize) {
        let mut end = (self.position + length).min(self.source.len());
        while !self.source.is_char_boundary(end) {
            end += 1;
        }
        let text = self
            .source
            .get(self.position..end)
            .unwrap_or("")
            .to_string();
        self.tokens.push(Token {
            kind,
            text,
            spaces_before: self.pending_spaces,
        });
        self.pending_spaces = 0;
        self.position = end;
    }

    /// Emits literal text, merging it into the previous token when that is literal text of the
    /// same kind (the split of literal runs never affects layout).
    fn emit_literal(&mut self, kind: TokenKind, length: usize) {
        if length == 0 {
            return;
        }
        if let Some(last) = self.tokens.last_mut() {
            if last.kind == kind && self.pending_spaces == 0 && !last.text.ends_with('\n') {
                let end = (self.position + length).min(self.source.len());
                last.text
                    .push_str(self.source.get(self.position..end).unwrap_or(""));
                self.position = end;
                return;
            }
        }
        self.emit(kind, length);
    }

    fn scan_expression(&mut self) {
        let rest = self.rest();
        let Some(first) = rest.chars().next() else {
            return;
        };
        match first {
            ' ' | '\t' => {
                self.pending_spaces += 1;
                self.position += 1;
            }
            '\n' => self.emit(TokenKind::Newline, 1),
            '\r' if rest.starts_with("\r\n") => self.emit(TokenKind::Newline, 2),
            '#' => self.emit(TokenKind::Comment, line_comment_length(rest)),
            '/' if rest.starts_with("//") => {
                self.emit(TokenKind::Comment, line_comment_length(rest))
            }
            '/' if rest.starts_with("/*") => {
                let length = rest
                    .get(2..)
                    .and_then(|after| after.find("*/"))
                    .map_or(rest.len(), |end| end + 4);
                self.emit(TokenKind::Comment, length)
            }
            '"' => {
                self.emit(TokenKind::OQuote, 1);
                self.contexts.push(Context::Quoted);
            }
            '<' if heredoc_opener(rest).is_some() => {
                if let Some((length, marker)) = heredoc_opener(rest) {
                    self.emit(TokenKind::OHeredoc, length);
                    self.contexts.push(Context::Heredoc {
                        marker,
                        start_of_line: true,
                    });
                }
            }
            '{' => {
                self.emit(TokenKind::OBrace, 1);
                self.contexts.push(Context::Brace);
            }
            '}' => {
                let kind = match self.contexts.pop() {
                    Some(Context::Template) => TokenKind::TemplateSeqEnd,
                    _ => TokenKind::CBrace,
                };
                self.emit(kind, 1);
            }
            '~' if rest.starts_with("~}") => {
                self.contexts.pop();
                self.emit(TokenKind::TemplateSeqEnd, 2);
            }
            c if c.is_ascii_digit() => self.emit(TokenKind::NumberLit, number_length(rest)),
            c if c.is_alphabetic() || c == '_' => {
                let length = rest
                    .char_indices()
                    .find(|&(_, c)| !(c.is_alphanumeric() || c == '_' || c == '-'))
                    .map_or(rest.len(), |(index, _)| index);
                self.emit(TokenKind::Ident, length)
            }
            _ => {
                let (kind, length) = operator(rest);
                self.emit(kind, length)
            }
        }
    }

    fn scan_quoted(&mut self) {
        let rest = self.rest();
        if rest.starts_with('"') {
            self.contexts.pop();
            self.emit(TokenKind::CQuote, 1);
        } else if let Some(length) = template_opener(rest) {
            self.open_template(rest, length);
        } else if rest.starts_with('\n') || rest.starts_with('\r') {
            // A newline cannot be inside a quoted string: the string is broken. Leave it and
            // scan on as an expression so the scanner keeps making progress.
            self.contexts.pop();
        } else {
            let length = quoted_literal_length(rest);
            self.emit_literal(TokenKind::QuotedLit, length.max(1));
        }
    }

    fn scan_heredoc(&mut self) {
        let rest = self.rest();
        let Some(Context::Heredoc {
            marker,
            start_of_line,
        }) = self.contexts.last()
        else {
            return;
        };
        let line_end = rest.find('\n').map(|index| index + 1);
        if *start_of_line {
            if let Some(line_end) = line_end {
                let line = rest.get(..line_end).unwrap_or("");
                if line.trim() == marker.as_str() {
                    let newline_length = if line.ends_with("\r\n") { 2 } else { 1 };
                    self.contexts.pop();
                    self.emit(TokenKind::CHeredoc, line_end - newline_length);
                    self.emit(TokenKind::Newline, newline_length);
                    return;
                }
            }
        }
        if let Some(length) = template_opener(rest) {
            self.open_template(rest, length);
            return;
        }
        // Literal text up to the end of the line or the next template sequence.
        let mut length = 0;
        let bytes = rest.as_bytes();
        while length < bytes.len() {
            let here = rest.get(length..).unwrap_or("");
            if bytes[length] == b'\n' {
                length += 1;
                break;
            }
            if length > 0 && template_opener(here).is_some() {
                break;
            }
            if here.starts_with("$${") || here.starts_with("%%{") {
                length += 3;
                continue;
            }
            length += here.chars().next().map_or(1, char::len_utf8);
        }
        let ends_line = rest.get(..length).is_some_and(|text| text.ends_with('\n'));
        if let Some(Context::Heredoc { start_of_line, .. }) = self.contexts.last_mut() {
            *start_of_line = ends_line;
        }
        self.emit(TokenKind::StringLit, length.max(1));
    }

    fn open_template(&mut self, rest: &str, length: usize) {
        let kind = if rest.starts_with('$') {
            TokenKind::TemplateInterp
        } else {
            TokenKind::TemplateControl
        };
        if let Some(Context::Heredoc { start_of_line, .. }) = self.contexts.last_mut() {
            *start_of_line = false;
        }
        self.emit(kind, length);
        self.contexts.push(Context::Template);
    }
}

/// `${`, `${~`, `%{` or `%{~` at the start of `text` (but not the escapes `$${` and `%%{`).
fn template_opener(text: &str) -> Option<usize> {
    if text.starts_with("${") || text.starts_with("%{") {
        Some(if text.get(2..3) == Some("~") { 3 } else { 2 })
    } else {
        None
    }
}

/// Length of the literal run at the start of a quoted string's remaining text.
fn quoted_literal_length(text: &str) -> usize {
    let mut length = 0;
    let bytes = text.as_bytes();
    while length < bytes.len() {
        let here = text.get(length..).unwrap_or("");
        match bytes[length] {
            b'"' | b'\n' | b'\r' => break,
            b'\\' => {
                // An escape: the backslash and the character after it.
                let next = here.chars().nth(1).map_or(0, char::len_utf8);
                length += 1 + next;
            }
            b'$' | b'%' if here.starts_with("$${") || here.starts_with("%%{") => length += 3,
            b'$' | b'%' if template_opener(here).is_some() => break,
            _ => length += here.chars().next().map_or(1, char::len_utf8),
        }
    }
    length.min(text.len())
}

/// A `#` or `//` comment runs to the end of the line, line ending included.
fn line_comment_length(text: &str) -> usize {
    text.find('\n').map_or(text.len(), |index| index + 1)
}

/// `<<EOT` or `<<-EOT` followed by a newline: the opener's length (newline included) and marker.
fn heredoc_opener(text: &str) -> Option<(usize, String)> {
    let after = text.strip_prefix("<<")?;
    let (dash, after) = match after.strip_prefix('-') {
        Some(after) => (1, after),
        None => (0, after),
    };
    let mut characters = after.char_indices();
    let (_, first) = characters.next()?;
    if !(first.is_alphabetic() || first == '_') {
        return None;
    }
    let marker_length = after
        .char_indices()
        .find(|&(_, c)| !(c.is_alphanumeric() || c == '_' || c == '-'))
        .map_or(after.len(), |(index, _)| index);
    let marker = after.get(..marker_length)?.to_string();
    let newline = match after.get(marker_length..) {
        Some(tail) if tail.starts_with("\r\n") => 2,
        Some(tail) if tail.starts_with('\n') => 1,
        _ => return None,
    };
    Some((2 + dash + marker_length + newline, marker))
}

/// Digits, an optional fraction and an optional exponent; it must end in a digit.
fn number_length(text: &str) -> usize {
    let bytes = text.as_bytes();
    let mut length = 0;
    let mut last_digit_end = 0;
    while length < bytes.len() {
        match bytes[length] {
            b'0'..=b'9' => {
                length += 1;
                last_digit_end = length;
            }
            b'.' => length += 1,
            b'e' | b'E' => {
                length += 1;
                if matches!(bytes.get(length), Some(b'+') | Some(b'-')) {
                    length += 1;
                }
            }
            _ => break,
        }
    }
    last_digit_end.max(1)
}

fn operator(text: &str) -> (TokenKind, usize) {
    const TWO_OR_THREE: [(&str, TokenKind); 9] = [
        ("...", TokenKind::Ellipsis),
        ("==", TokenKind::EqualOp),
        ("!=", TokenKind::NotEqual),
        ("<=", TokenKind::LessThanEq),
        (">=", TokenKind::GreaterThanEq),
        ("&&", TokenKind::And),
        ("||", TokenKind::Or),
        ("::", TokenKind::DoubleColon),
        ("=>", TokenKind::FatArrow),
    ];
    for (symbol, kind) in TWO_OR_THREE {
        if text.starts_with(symbol) {
            return (kind, symbol.len());
        }
    }
    let first = text.chars().next();
    let kind = match first {
        Some('[') => TokenKind::OBrack,
        Some(']') => TokenKind::CBrack,
        Some('(') => TokenKind::OParen,
        Some(')') => TokenKind::CParen,
        Some('*') => TokenKind::Star,
        Some('/') => TokenKind::Slash,
        Some('+') => TokenKind::Plus,
        Some('-') => TokenKind::Minus,
        Some('%') => TokenKind::Percent,
        Some('=') => TokenKind::Equal,
        Some('<') => TokenKind::LessThan,
        Some('>') => TokenKind::GreaterThan,
        Some('!') => TokenKind::Bang,
        Some('.') => TokenKind::Dot,
        Some(',') => TokenKind::Comma,
        Some('?') => TokenKind::Question,
        Some(':') => TokenKind::Colon,
        _ => TokenKind::Invalid,
    };
    (kind, first.map_or(1, char::len_utf8))
}

/// Writes tokens back out: each token's spaces, then its text.
pub(crate) fn render(tokens: &[Token]) -> String {
    let mut output = String::new();
    for token in tokens {
        output.extend(std::iter::repeat_n(' ', token.spaces_before));
        output.push_str(&token.text);
    }
    output
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(source: &str) -> Vec<TokenKind> {
        tokenize(source)
            .into_iter()
            .map(|token| token.kind)
            .collect()
    }

    #[test]
    fn round_trips_text_exactly() {
        let source = "a  = \"x${ y }z\" # c\r\nb = <<-EOT\n  ${a}\n  EOT\n\t/* k */ c = 1.5e+3\n  ";
        assert_eq!(render(&tokenize(source)), source.replace('\t', " "));
    }

    #[test]
    fn classifies_template_and_brace_closers() {
        use TokenKind::*;
        assert_eq!(
            kinds("x = \"${ {a=1} }\""),
            vec![
                Ident,
                Equal,
                OQuote,
                TemplateInterp,
                OBrace,
                Ident,
                Equal,
                NumberLit,
                CBrace,
                TemplateSeqEnd,
                CQuote,
                Eof
            ]
        );
    }

    #[test]
    fn identifiers_may_contain_dashes() {
        use TokenKind::*;
        assert_eq!(kinds("a-1"), vec![Ident, Eof]);
        assert_eq!(kinds("a - 1"), vec![Ident, Minus, NumberLit, Eof]);
    }

    #[test]
    fn heredoc_closes_on_its_marker_line() {
        use TokenKind::*;
        assert_eq!(
            kinds("a = <<EOT\nEOTX\n  EOT\nb"),
            vec![Ident, Equal, OHeredoc, StringLit, CHeredoc, Newline, Ident, Eof]
        );
    }

    #[test]
    fn never_panics_on_broken_input() {
        for source in [
            "\"abc",
            "<<EOT\nx",
            "${",
            "}}}",
            "\"${\"",
            "a = \"\u{e9}\\",
            "1e+",
            "/*",
        ] {
            let _ = render(&tokenize(source));
        }
    }
}
