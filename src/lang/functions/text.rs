//! User-perceived characters: Terraform counts and slices strings by grapheme cluster
//! (`length("é")` is 1 even when written as `e` plus a combining accent).
//!
//! This is a compact approximation of Unicode's extended grapheme cluster rules that covers
//! what configurations meet: CR LF, combining marks, variation selectors, emoji modifiers,
//! zero-width joiner sequences and regional-indicator flag pairs.

/// Splits `text` into grapheme clusters.
pub(crate) fn graphemes(text: &str) -> Vec<&str> {
    let mut clusters = Vec::new();
    let mut start = 0;
    let mut previous: Option<char> = None;
    let mut regional_run = 0usize;
    for (offset, ch) in text.char_indices() {
        let joins = match previous {
            None => false,
            Some(prev) => {
                (prev == '\r' && ch == '\n')
                    || is_extending(ch)
                    || prev == '\u{200D}'
                    || (is_regional_indicator(prev)
                        && is_regional_indicator(ch)
                        && regional_run % 2 == 1)
            }
        };
        if !joins && offset > 0 {
            clusters.push(&text[start..offset]);
            start = offset;
        }
        regional_run = if is_regional_indicator(ch) {
            if joins {
                regional_run + 1
            } else {
                1
            }
        } else {
            0
        };
        previous = Some(ch);
    }
    if start < text.len() {
        clusters.push(&text[start..]);
    }
    clusters
}

/// The number of grapheme clusters in `text`.
pub(crate) fn grapheme_count(text: &str) -> usize {
    graphemes(text).len()
}

fn is_regional_indicator(ch: char) -> bool {
    ('\u{1F1E6}'..='\u{1F1FF}').contains(&ch)
}

/// Characters that attach to the one before them.
fn is_extending(ch: char) -> bool {
    matches!(ch,
        '\u{0300}'..='\u{036F}'
        | '\u{0483}'..='\u{0489}'
        | '\u{0591}'..='\u{05BD}'
        | '\u{0610}'..='\u{061A}'
        | '\u{064B}'..='\u{065F}'
        | '\u{0900}'..='\u{0903}'
        | '\u{093A}'..='\u{094F}'
        | '\u{0E31}' | '\u{0E34}'..='\u{0E3A}' | '\u{0E47}'..='\u{0E4E}'
        | '\u{1AB0}'..='\u{1AFF}'
        | '\u{1DC0}'..='\u{1DFF}'
        | '\u{200C}' | '\u{200D}'
        | '\u{20D0}'..='\u{20FF}'
        | '\u{3099}' | '\u{309A}'
        | '\u{FE00}'..='\u{FE0F}'
        | '\u{FE20}'..='\u{FE2F}'
        | '\u{1F3FB}'..='\u{1F3FF}'
        | '\u{E0020}'..='\u{E007F}'
        | '\u{E0100}'..='\u{E01EF}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clusters() {
        assert_eq!(graphemes("abc"), vec!["a", "b", "c"]);
        assert_eq!(graphemes("e\u{301}x"), vec!["e\u{301}", "x"]);
        assert_eq!(graphemes("a\r\nb"), vec!["a", "\r\n", "b"]);
        assert_eq!(graphemes("👩‍👩‍👧"), vec!["👩‍👩‍👧"]);
        assert_eq!(graphemes("🇩🇪🇫🇷"), vec!["🇩🇪", "🇫🇷"]);
        assert_eq!(grapheme_count(""), 0);
    }
}
