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

/// One `operator version` term (no operator means `=`).
fn parse_term(term: &str) -> Result<(&'static str, Version), String> {
    let term = term.trim();
    if term.is_empty() {
        return Err("an empty constraint (a stray comma?)".into());
    }
    let (operator, rest) = ["~>", ">=", "<=", "!=", ">", "<", "="]
        .iter()
        .find_map(|op| term.strip_prefix(op).map(|rest| (*op, rest)))
        .unwrap_or(("=", term));
    Ok((operator, Version::parse(rest)?))
}

/// Whether `version` satisfies every constraint of `constraints`; an error names what is
/// malformed.
pub fn satisfies(constraints: &str, version: &str) -> Result<bool, String> {
    let version = Version::parse(version)?;
    let mut all = true;
    let mut names_prerelease = false;
    for term in constraints.split(',') {
        let (operator, wanted) = parse_term(term)?;
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

/// The canonical form Terraform writes in `.terraform.lock.hcl` for the constraints of every
/// module together (`providerreqs.VersionConstraintsString`): each term with its version in
/// full (`>= 2` → `>= 2.0.0`; `~>` keeps two or three parts as written, `~> 2` → `~> 2.0`),
/// duplicates removed, sorted by version then operator (lower bounds first).
pub fn canonical(constraints: &[&str]) -> Result<String, String> {
    let mut terms: Vec<(Version, &str, bool)> = Vec::new();
    for term in constraints.iter().flat_map(|c| c.split(',')) {
        let (operator, version) = parse_term(term)?;
        let patch_only = operator == "~>" && version.given == 3;
        if !terms
            .iter()
            .any(|(v, o, p)| *o == operator && *p == patch_only && v.compare(&version).is_eq())
        {
            terms.push((version, operator, patch_only));
        }
    }
    let priority = |operator: &str, patch_only: bool| match operator {
        ">" => 1,
        ">=" => 2,
        "=" => 3,
        "~>" if patch_only => 4,
        "~>" => 5,
        "<=" => 6,
        "<" => 7,
        _ => 8,
    };
    terms.sort_by(|(a, a_op, a_patch), (b, b_op, b_patch)| {
        a.compare(b)
            .then(priority(a_op, *a_patch).cmp(&priority(b_op, *b_patch)))
    });
    let written: Vec<String> = terms
        .iter()
        .map(|(version, operator, patch_only)| {
            let [major, minor, patch] = version.segments;
            let number = if *operator == "~>" && !patch_only {
                format!("{major}.{minor}")
            } else {
                format!("{major}.{minor}.{patch}")
            };
            let prerelease = if version.prerelease.is_empty() {
                String::new()
            } else {
                format!("-{}", version.prerelease)
            };
            match *operator {
                "=" => format!("{number}{prerelease}"),
                operator => format!("{operator} {number}{prerelease}"),
            }
        })
        .collect();
    Ok(written.join(", "))
}

/// Orders two versions (`1.10.0` after `1.9.3`; a pre-release before its release).
pub fn compare(left: &str, right: &str) -> Result<Ordering, String> {
    Ok(Version::parse(left)?.compare(&Version::parse(right)?))
}

/// Whether `version` is a pre-release (`1.6.0-beta1`).
pub fn is_prerelease(version: &str) -> bool {
    Version::parse(version).is_ok_and(|v| !v.prerelease.is_empty())
}

#[cfg(test)]
mod tests {
    use super::{canonical, compare, satisfies};
    use std::cmp::Ordering;

    #[test]
    fn canonical_constraints_as_the_lock_file_writes_them() {
        let cases: [(&[&str], &str); 6] = [
            (&["~> 3.39"], "~> 3.39"),
            (&["~> 3.39.0"], "~> 3.39.0"),
            (&["~> 3"], "~> 3.0"),
            (&[">= 2", "< 4.0", ">= 2.0.0"], ">= 2.0.0, < 4.0.0"),
            (&["= 3.39", "3.39.0"], "3.39.0"),
            (
                &["~> 3.0", ">= 3.1, != 3.5.0"],
                "~> 3.0, >= 3.1.0, != 3.5.0",
            ),
        ];
        for (given, expected) in cases {
            assert_eq!(canonical(given).unwrap(), expected, "{given:?}");
        }
    }

    #[test]
    fn versions_order_numerically() {
        assert_eq!(compare("1.10.0", "1.9.3"), Ok(Ordering::Greater));
        assert_eq!(compare("2.0.0-beta1", "2.0.0"), Ok(Ordering::Less));
        assert_eq!(compare("v1.0", "1.0.0"), Ok(Ordering::Equal));
        assert!(compare("x", "1").is_err());
    }

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
