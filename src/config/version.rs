//! Version constraints as Terraform writes them (`required_version = ">= 1.5, < 2.0"`,
//! `version = "~> 5.0"`): comma-separated `operator version` pairs, all of which must hold.
//! Operators `=` (or none), `!=`, `>`, `>=`, `<`, `<=` and `~>` (the rightmost given segment may
//! grow: `~> 1.5` is `>= 1.5, < 2.0`; `~> 1.5.2` is `>= 1.5.2, < 1.6.0`). A pre-release version
//! (`1.6.0-beta1`) matches only a constraint that names a pre-release, as in Terraform.

use std::cmp::Ordering;

/// A version: up to three numeric segments (missing ones are 0) and a pre-release label.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Version {
    segments: [u64; 3],
    /// How many segments were written (`~>` needs it).
    given: usize,
    prerelease: String,
}

impl Version {
    fn parse(text: &str) -> Result<Version, String> {
        let text = text.trim().trim_start_matches('v');
        let (core, prerelease) = match text.split_once('-') {
            Some((core, pre)) => (core, pre.to_string()),
            None => (text, String::new()),
        };
        let core = core.split('+').next().unwrap_or(core);
        let parts: Vec<&str> = core.split('.').collect();
        if parts.is_empty() || parts.len() > 3 || parts.iter().any(|p| p.is_empty()) {
            return Err(format!(
                "`{text}` is not a version (expected up to three numbers, like 1.5.0)"
            ));
        }
        let mut segments = [0u64; 3];
        for (index, part) in parts.iter().enumerate() {
            segments[index] = part
                .parse()
                .map_err(|_| format!("`{text}` is not a version (`{part}` is not a number)"))?;
        }
        Ok(Version {
            segments,
            given: parts.len(),
            prerelease,
        })
    }

    fn compare(&self, other: &Version) -> Ordering {
        self.segments.cmp(&other.segments).then_with(|| {
            match (self.prerelease.is_empty(), other.prerelease.is_empty()) {
                (true, true) => Ordering::Equal,
                // A pre-release comes before its release.
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) => self.prerelease.cmp(&other.prerelease),
            }
        })
    }
}

/// Whether `version` satisfies every constraint of `constraints`; an error names what is
/// malformed.
pub fn satisfies(constraints: &str, version: &str) -> Result<bool, String> {
    let version = Version::parse(version)?;
    let mut all = true;
    let mut names_prerelease = false;
    for constraint in constraints.split(',') {
        let constraint = constraint.trim();
        if constraint.is_empty() {
            return Err("an empty constraint (a stray comma?)".into());
        }
        let (operator, rest) = ["~>", ">=", "<=", "!=", ">", "<", "="]
            .iter()
            .find_map(|op| constraint.strip_prefix(op).map(|rest| (*op, rest)))
            .unwrap_or(("=", constraint));
        let wanted = Version::parse(rest)?;
        names_prerelease |= !wanted.prerelease.is_empty();
        let order = version.compare(&wanted);
        let holds = match operator {
            "=" => order == Ordering::Equal,
            "!=" => order != Ordering::Equal,
            ">" => order == Ordering::Greater,
            ">=" => order != Ordering::Less,
            "<" => order == Ordering::Less,
            "<=" => order != Ordering::Greater,
            _ => {
                // `~>`: at least the given version, below the next increment of the segment
                // before the last given one.
                let mut upper = wanted.segments;
                let bump = wanted.given.saturating_sub(2);
                upper[bump] += 1;
                for segment in upper.iter_mut().skip(bump + 1) {
                    *segment = 0;
                }
                order != Ordering::Less && version.segments < upper
            }
        };
        all &= holds;
    }
    if !version.prerelease.is_empty() && !names_prerelease {
        return Ok(false);
    }
    Ok(all)
}

#[cfg(test)]
mod tests {
    use super::satisfies;

    #[test]
    fn constraints_as_terraform_reads_them() {
        let cases = [
            (">= 1.5", "1.15.5", true),
            (">= 1.5, < 2.0", "1.15.5", true),
            ("< 1.0", "1.15.5", false),
            ("~> 1.15", "1.15.5", true),
            ("~> 1.15", "1.99.0", true),
            ("~> 1.15", "2.0.0", false),
            ("~> 1.15.0", "1.15.5", true),
            ("~> 1.15.0", "1.16.0", false),
            ("~> 1", "1.99.0", true),
            ("1.15.5", "1.15.5", true),
            ("= 1.15.4", "1.15.5", false),
            ("!= 1.15.5", "1.15.5", false),
            ("> 1.15.5", "1.15.5", false),
            ("<= 1.15.5", "1.15.5", true),
            (">= 1.15.0", "1.16.0-beta1", false),
            (">= 1.16.0-alpha", "1.16.0-beta1", true),
            (">= 5.0", "5.80.0", true),
        ];
        for (constraint, version, expected) in cases {
            assert_eq!(
                satisfies(constraint, version),
                Ok(expected),
                "{constraint} against {version}"
            );
        }
    }

    #[test]
    fn malformed_constraints_say_why() {
        assert!(satisfies(">= one", "1.0.0")
            .unwrap_err()
            .contains("not a number"));
        assert!(satisfies(">= 1.0,", "1.0.0").unwrap_err().contains("empty"));
        assert!(satisfies(">= 1.2.3.4", "1.0.0").is_err());
    }
}
