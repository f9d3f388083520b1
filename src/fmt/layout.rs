//! The whitespace rules of `terraform fmt` (HCL's `hclwrite` formatter), applied to a token
//! stream: only the spaces before each token change, never the tokens themselves.
//!
//! Three passes, as in `hclwrite`:
//! 1. indentation: two spaces per level, a level being a line that opens more brackets than it
//!    closes;
//! 2. spacing between the tokens of a line, decided by the types of the tokens on either side;
//! 3. alignment: the `=` of consecutive lines that each hold a whole single-line attribute line up,
//!    and so do the comments that end consecutive lines. Any other line (blank, comment only, a
//!    block header, a multi-line value) ends the run.

use super::lexer::{Token, TokenKind};

/// One line split into `hclwrite`'s three cells, as token index ranges: `lead` up to the `=`,
/// `assign` from the `=`, and a trailing line `comment`.
#[derive(Clone, Debug, Default)]
struct Line {
    lead: std::ops::Range<usize>,
    assign: Option<std::ops::Range<usize>>,
    comment: Option<std::ops::Range<usize>>,
}

pub(crate) fn format_tokens(tokens: &mut [Token]) {
    let lines = split_lines(tokens);
    indent(tokens, &lines);
    space(tokens, &lines);
    align(tokens, &lines);
}

fn split_lines(tokens: &[Token]) -> Vec<Line> {
    let mut lines = Vec::new();
    let mut line_start = 0;
    for (index, token) in tokens.iter().enumerate() {
        if token.kind == TokenKind::Eof {
            lines.push(line_start..index);
            line_start = tokens.len();
            break;
        }
        if token.ends_line() {
            lines.push(line_start..index + 1);
            line_start = index + 1;
        }
    }
    if line_start < tokens.len() {
        lines.push(line_start..tokens.len());
    }

    lines
        .into_iter()
        .map(|range| {
            let mut line = Line {
                lead: range.clone(),
                assign: None,
                comment: None,
            };
            if range.len() > 1 && tokens[range.end - 1].kind == TokenKind::Comment {
                line.comment = Some(range.end - 1..range.end);
                line.lead = range.start..range.end - 1;
            }
            let lead = line.lead.clone();
            for index in lead.clone() {
                if index > lead.start && tokens[index].kind == TokenKind::Equal {
                    // Only a value that closes every bracket it opens on this line is a cell
                    // to align; otherwise the value goes on over the next lines.
                    if net_brackets(&tokens[index..lead.end]) == 0 {
                        line.assign = Some(index..lead.end);
                        line.lead = lead.start..index;
                    }
                    break;
                }
            }
            line
        })
        .collect()
}

/// Net count of opened brackets, not looking past a heredoc opener (its content is opaque).
fn net_brackets(tokens: &[Token]) -> i32 {
    let mut net = 0;
    for token in tokens {
        net += token.bracket_change();
        if token.kind == TokenKind::OHeredoc {
            break;
        }
    }
    net
}

fn indent(tokens: &mut [Token], lines: &[Line]) {
    // Each entry is a line that opened brackets and how many of them are still open, so that
    // lines closing several at once (or unevenly) dedent by the right number of levels.
    let mut open: Vec<i32> = Vec::new();
    for line in lines {
        if line.lead.is_empty() {
            continue;
        }
        if tokens[line.lead.start].kind == TokenKind::Newline {
            tokens[line.lead.start].spaces_before = 0;
            continue;
        }
        let mut net = net_brackets(&tokens[line.lead.clone()]);
        if let Some(assign) = &line.assign {
            net += net_brackets(&tokens[assign.clone()]);
        }
        if net > 0 {
            tokens[line.lead.start].spaces_before = 2 * open.len();
            open.push(net);
        } else {
            let mut closed = -net;
            while closed > 0 {
                let Some(last) = open.last_mut() else {
                    break;
                };
                if closed >= *last {
                    closed -= *last;
                    open.pop();
                } else {
                    *last -= closed;
                    closed = 0;
                }
            }
            tokens[line.lead.start].spaces_before = 2 * open.len();
        }
    }
}

fn space(tokens: &mut [Token], lines: &[Line]) {
    for line in lines {
        space_cell(tokens, line.lead.clone());
        if let Some(assign) = &line.assign {
            // The `=` is always separated from what it assigns to.
            tokens[assign.start].spaces_before = 1;
            space_cell(tokens, assign.clone());
        }
    }
}

fn space_cell(tokens: &mut [Token], cell: std::ops::Range<usize>) {
    for index in cell.start..cell.end.saturating_sub(1) {
        let before = if index > cell.start {
            Some(tokens[index - 1].kind)
        } else {
            None
        };
        let subject = &tokens[index];
        let is_in_keyword = subject.kind == TokenKind::Ident && subject.text == "in";
        let spaced = space_after(subject.kind, is_in_keyword, before, tokens[index + 1].kind);
        tokens[index + 1].spaces_before = usize::from(spaced);
    }
}

/// Whether `subject` is followed by a space, given the token `before` it (none at the start of a
/// cell) and the token `after` it; `is_in_keyword` when the subject is the identifier `in`. The order of the cases is `hclwrite`'s: the first that
/// matches decides.
fn space_after(
    subject: TokenKind,
    is_in_keyword: bool,
    before: Option<TokenKind>,
    after: TokenKind,
) -> bool {
    use TokenKind::*;
    let opens = |kind: TokenKind| Token::new(kind, "").bracket_change() > 0;
    let closes = |kind: TokenKind| Token::new(kind, "").bracket_change() < 0;
    match (subject, after) {
        (_, Newline | Eof) => false,
        (Ident, OParen) => false,
        (Ident, DoubleColon) | (DoubleColon, Ident) => false,
        (Dot, _) | (_, Dot) => false,
        (_, Comma | Ellipsis) => false,
        (Comma, _) => true,
        (QuotedLit | StringLit | OQuote | OHeredoc, _)
        | (_, QuotedLit | StringLit | CQuote | CHeredoc) => false,
        // `in` as the keyword of a for expression, even before a literal tuple: `in [1]`.
        (Ident, _) if is_in_keyword && before == Some(Ident) => true,
        (Ident | NumberLit, OBrack) => false,
        (subject, OBrack) if closes(subject) => false,
        (Bang, _) => false,
        (Minus, _) => !matches!(
            before,
            None | Some(
                OParen
                    | OBrace
                    | OBrack
                    | Equal
                    | Colon
                    | Comma
                    | Question
                    | Plus
                    | Star
                    | Slash
                    | Percent
                    | Minus
                    | EqualOp
                    | NotEqual
                    | GreaterThan
                    | GreaterThanEq
                    | LessThan
                    | LessThanEq
                    | And
                    | Or
                    | Bang
            )
        ),
        (OBrace, CBrace) => false,
        (OBrace, _) | (_, CBrace) => true,
        (TemplateInterp | TemplateControl, OBrace) => true,
        (CBrace, TemplateSeqEnd) => true,
        (TemplateSeqEnd, TemplateInterp | TemplateControl) => false,
        (subject, _) if opens(subject) => false,
        (_, after) if closes(after) => false,
        _ => true,
    }
}

fn align(tokens: &mut [Token], lines: &[Line]) {
    let columns = |tokens: &[Token], range: &std::ops::Range<usize>| -> usize {
        tokens[range.clone()].iter().map(Token::columns).sum()
    };

    // The `=` first, since moving it moves the comments after it.
    let mut run: Vec<usize> = Vec::new();
    let mut widest = 0;
    let close_assign_run = |tokens: &mut [Token], run: &mut Vec<usize>, widest: &mut usize| {
        for &line_index in run.iter() {
            let line = &lines[line_index];
            let width = columns(tokens, &line.lead);
            if let Some(assign) = &line.assign {
                tokens[assign.start].spaces_before = *widest - width + 1;
            }
        }
        run.clear();
        *widest = 0;
    };
    for (line_index, line) in lines.iter().enumerate() {
        if line.assign.is_some() {
            run.push(line_index);
            widest = widest.max(columns(tokens, &line.lead));
        } else if !run.is_empty() {
            close_assign_run(tokens, &mut run, &mut widest);
        }
    }
    close_assign_run(tokens, &mut run, &mut widest);

    let line_width = |tokens: &[Token], line: &Line| -> usize {
        columns(tokens, &line.lead)
            + line
                .assign
                .as_ref()
                .map_or(0, |assign| columns(tokens, assign))
    };
    let close_comment_run = |tokens: &mut [Token], run: &mut Vec<usize>, widest: &mut usize| {
        for &line_index in run.iter() {
            let line = &lines[line_index];
            let width = line_width(tokens, line);
            if let Some(comment) = &line.comment {
                tokens[comment.start].spaces_before = *widest - width + 1;
            }
        }
        run.clear();
        *widest = 0;
    };
    for (line_index, line) in lines.iter().enumerate() {
        if line.comment.is_some() {
            run.push(line_index);
            widest = widest.max(line_width(tokens, line));
        } else if !run.is_empty() {
            close_comment_run(tokens, &mut run, &mut widest);
        }
    }
    close_comment_run(tokens, &mut run, &mut widest);
}
