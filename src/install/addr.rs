//! Provider source addresses and registry host names, normalised as Terraform does
//! (`hashicorp/aws` → `registry.terraform.io/hashicorp/aws`; host names lower-cased, IDNA to
//! punycode, the default HTTPS port dropped), and the `include`/`exclude` patterns of the CLI
//! configuration's installation methods (`registry.terraform.io/hashicorp/*`).

use std::fmt;

/// The public registry, the host of every source address written without one.
pub const DEFAULT_REGISTRY_HOST: &str = "registry.terraform.io";
/// The host of providers built into Terraform (`terraform.io/builtin/terraform`).
pub const BUILTIN_HOST: &str = "terraform.io";

/// A provider's source address: `<host>/<namespace>/<type>`, each part normalised.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ProviderAddr {
    pub host: String,
    pub namespace: String,
    pub provider_type: String,
}

impl ProviderAddr {
    /// Parses a `source` as written in `required_providers`: `type`, `namespace/type` or
    /// `host/namespace/type`. The error says what is wrong, for a diagnostic at the source.
    pub fn parse(source: &str) -> Result<ProviderAddr, String> {
        let parts: Vec<&str> = source.split('/').collect();
        let (host, namespace, provider_type) = match parts.as_slice() {
            [provider_type] => (DEFAULT_REGISTRY_HOST.to_string(), "hashicorp", *provider_type),
            [namespace, provider_type] => {
                (DEFAULT_REGISTRY_HOST.to_string(), *namespace, *provider_type)
            }
            [host, namespace, provider_type] => (normalize_host(host)?, *namespace, *provider_type),
            _ => {
                return Err(format!(
                    "`{source}` is not a provider source address: write `[hostname/]namespace/type`, like `hashicorp/aws`."
                ))
            }
        };
        let namespace = normalize_part(namespace, "namespace", source)?;
        let provider_type = normalize_part(provider_type, "type", source)?;
        if let Some(short) = provider_type.strip_prefix("terraform-provider-") {
            return Err(format!(
                "`{source}`: a provider type does not start with `terraform-provider-`; did you mean `{namespace}/{short}`?"
            ));
        }
        Ok(ProviderAddr {
            host,
            namespace,
            provider_type,
        })
    }

    /// The default address of a provider used without a `source` (`hashicorp/<name>`), or
    /// Terraform's built-in `terraform` provider.
    pub fn implied(local_name: &str) -> ProviderAddr {
        if local_name == "terraform" {
            return ProviderAddr::builtin("terraform");
        }
        ProviderAddr {
            host: DEFAULT_REGISTRY_HOST.into(),
            namespace: "hashicorp".into(),
            provider_type: local_name.to_string(),
        }
    }

    pub fn builtin(provider_type: &str) -> ProviderAddr {
        ProviderAddr {
            host: BUILTIN_HOST.into(),
            namespace: "builtin".into(),
            provider_type: provider_type.into(),
        }
    }

    /// Built into Terraform itself (never installed).
    pub fn is_builtin(&self) -> bool {
        self.host == BUILTIN_HOST && self.namespace == "builtin"
    }

    /// `hashicorp/aws` for the public registry, the full address elsewhere: how Terraform names
    /// a provider in `init`'s messages.
    pub fn for_display(&self) -> String {
        if self.host == DEFAULT_REGISTRY_HOST {
            format!("{}/{}", self.namespace, self.provider_type)
        } else {
            self.to_string()
        }
    }
}

impl fmt::Display for ProviderAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}", self.host, self.namespace, self.provider_type)
    }
}

/// A namespace or type: letters, digits and dashes, compared case-insensitively.
fn normalize_part(part: &str, what: &str, source: &str) -> Result<String, String> {
    let valid = !part.is_empty()
        && part.chars().all(|c| c.is_alphanumeric() || c == '-')
        && !part.starts_with('-')
        && !part.ends_with('-');
    if !valid {
        return Err(format!(
            "`{source}`: the provider {what} `{part}` may contain only letters, digits and dashes, and may not start or end with a dash."
        ));
    }
    Ok(part.to_lowercase())
}

/// A host name in the form Terraform compares (svchost's `ForComparison`): lower-case,
/// international names as punycode, an explicit port kept unless it is 443.
pub fn normalize_host(given: &str) -> Result<String, String> {
    let (name, port) = match given.rsplit_once(':') {
        Some((name, port)) => (name, Some(port)),
        None => (given, None),
    };
    let ascii =
        idna::domain_to_ascii(name).map_err(|_| format!("`{given}` is not a valid host name."))?;
    if ascii.is_empty()
        || ascii.starts_with('.')
        || ascii.ends_with('.')
        || !ascii
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
    {
        return Err(format!("`{given}` is not a valid host name."));
    }
    match port {
        None | Some("443") => Ok(ascii),
        Some(port) if !port.is_empty() && port.parse::<u16>().is_ok() => {
            Ok(format!("{ascii}:{port}"))
        }
        Some(port) => Err(format!("`{given}`: the port `{port}` is not a number.")),
    }
}

/// One `include`/`exclude` entry: an address whose namespace and type may be `*`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProviderPattern {
    host: String,
    namespace: String,
    provider_type: String,
}

impl ProviderPattern {
    /// Parses `[host/]namespace/type` where the namespace and type may be `*` (a `*` namespace
    /// needs a `*` type), as Terraform's `ParseMultiSourceMatchingPatterns`.
    pub fn parse(text: &str) -> Result<ProviderPattern, String> {
        let parts: Vec<&str> = text.split('/').collect();
        let (host, namespace, provider_type) = match parts.as_slice() {
            [namespace, provider_type] => (DEFAULT_REGISTRY_HOST.to_string(), *namespace, *provider_type),
            [host, namespace, provider_type] => (normalize_host(host)?, *namespace, *provider_type),
            _ => {
                return Err(format!(
                    "`{text}` is not a provider address pattern: write `[hostname/]namespace/type`, where namespace and type may be `*`."
                ))
            }
        };
        if namespace == "*" && provider_type != "*" {
            return Err(format!(
                "`{text}`: a pattern with a `*` namespace must have a `*` type too."
            ));
        }
        let part = |part: &str, what: &str| {
            if part == "*" {
                Ok("*".to_string())
            } else {
                normalize_part(part, what, text)
            }
        };
        Ok(ProviderPattern {
            host,
            namespace: part(namespace, "namespace")?,
            provider_type: part(provider_type, "type")?,
        })
    }

    pub fn matches(&self, addr: &ProviderAddr) -> bool {
        self.host == addr.host
            && (self.namespace == "*" || self.namespace == addr.namespace)
            && (self.provider_type == "*" || self.provider_type == addr.provider_type)
    }
}

impl fmt::Display for ProviderPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}", self.host, self.namespace, self.provider_type)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_are_normalised_as_terraform_does() {
        let cases = [
            ("hashicorp/aws", "registry.terraform.io/hashicorp/aws"),
            ("aws", "registry.terraform.io/hashicorp/aws"),
            ("HashiCorp/AWS", "registry.terraform.io/hashicorp/aws"),
            ("Example.COM/acme/thing", "example.com/acme/thing"),
            ("example.com:443/acme/thing", "example.com/acme/thing"),
            ("localhost:8443/acme/thing", "localhost:8443/acme/thing"),
            ("café.fr/acme/thing", "xn--caf-dma.fr/acme/thing"),
        ];
        for (source, expected) in cases {
            assert_eq!(
                ProviderAddr::parse(source).unwrap().to_string(),
                expected,
                "{source}"
            );
        }
        for bad in [
            "a/b/c/d",
            "hashicorp/terraform-provider-aws",
            "hashicorp/a_b",
            "-x/aws",
            "host:port/a/b",
        ] {
            assert!(ProviderAddr::parse(bad).is_err(), "{bad}");
        }
        assert!(ProviderAddr::implied("terraform").is_builtin());
        assert_eq!(
            ProviderAddr::parse("hashicorp/aws").unwrap().for_display(),
            "hashicorp/aws"
        );
    }

    #[test]
    fn patterns_match_with_wildcards() {
        let aws = ProviderAddr::parse("hashicorp/aws").unwrap();
        let other = ProviderAddr::parse("example.com/hashicorp/aws").unwrap();
        for (pattern, matches_aws, matches_other) in [
            ("registry.terraform.io/hashicorp/aws", true, false),
            ("hashicorp/*", true, false),
            ("*/*", true, false),
            ("example.com/*/*", false, true),
            ("hashicorp/random", false, false),
        ] {
            let pattern = ProviderPattern::parse(pattern).unwrap();
            assert_eq!(pattern.matches(&aws), matches_aws, "{pattern}");
            assert_eq!(pattern.matches(&other), matches_other, "{pattern}");
        }
        assert!(ProviderPattern::parse("*/aws").is_err());
        assert!(ProviderPattern::parse("aws").is_err());
    }
}
