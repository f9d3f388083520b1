//! "Did you mean …?": the one rule that picks the name a user probably meant when the one they
//! wrote names nothing, used by every diagnostic that suggests a name.
//!
//! The rule is Terraform's (`internal/didyoumean`, and HCL's copy of it for function names and
//! block types): a candidate is close enough when its Levenshtein distance from the given name,
//! counted in characters, is under 3. Terraform takes the first close candidate in the order it
//! lists them, which is often a Go map's, so random when two are close; Strata takes the closest,
//! and of equally close ones the first in the caller's order, so the same input always gives the
//! same suggestion. With one close candidate (the usual typo) both pick the same name
//! (`tests/suite/suggestions.rs` compares them).

/// Edit distances from this one on are not typos but other names.
const TOO_FAR: usize = 3;

/// The name among `candidates` that `given` is probably a misspelling of, if any is close enough.
pub fn did_you_mean<'a>(
    given: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|candidate| (strsim::levenshtein(given, candidate), candidate))
        .filter(|(distance, _)| *distance < TOO_FAR)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

#[cfg(test)]
mod tests {
    use super::did_you_mean;

    #[test]
    fn suggests_only_names_under_three_edits_away() {
        let names = ["name", "size", "tags"];
        assert_eq!(did_you_mean("nmae", names), Some("name"));
        assert_eq!(did_you_mean("sz", names), Some("size"));
        assert_eq!(did_you_mean("tgs", names), Some("tags"));
        assert_eq!(did_you_mean("abcd", names), None);
        assert_eq!(did_you_mean("completely_different", names), None);
        assert_eq!(did_you_mean("anything", []), None);
    }

    #[test]
    fn the_closest_wins_and_ties_go_to_the_first() {
        assert_eq!(did_you_mean("sizes", ["size_x", "size"]), Some("size"));
        assert_eq!(did_you_mean("ab", ["ax", "xb"]), Some("ax"));
        assert_eq!(did_you_mean("ab", ["xb", "ax"]), Some("xb"));
    }

    #[test]
    fn distance_counts_characters_not_bytes() {
        assert_eq!(did_you_mean("añoz", ["años"]), Some("años"));
        assert_eq!(did_you_mean("ñññ", ["nnn"]), None);
    }
}
