//! `provisioner "TYPE" { ... }` and `connection { ... }` blocks of a managed resource, decoded
//! as Terraform decodes them (`internal/configs/provisioner.go`): the meta-arguments `when` and
//! `on_failure` are keywords, a provisioner may carry its own `connection` block (whose arguments
//! mask those of the resource's), and a destroy-time provisioner (with its connection blocks) may
//! only refer to `self`, `count.index`, `each.key`, `path` and `terraform`.
//!
//! The provisioner's own arguments stay unevaluated; their names are checked here against the
//! built-in provisioner's schema ([`crate::provisioners::schema`]), so a typo is a load error
//! with its place rather than a failure in the middle of an apply.

use super::shape::Shape;
use super::Body;
use crate::diagnostics::{did_you_mean, Diagnostic, Diagnostics, SourceFile, Span};
use crate::lang::{self, Referenceable};
use hcl_edit::expr::Expression;
use hcl_edit::structure::Block;
use hcl_edit::Span as _;
use std::sync::Arc;

/// When a provisioner runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum When {
    /// After the object is created (the default).
    #[default]
    Create,
    /// Before the object is destroyed.
    Destroy,
}

/// What a failed provisioner does to the operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum OnFailure {
    /// The operation fails (a created object is tainted): the default.
    #[default]
    Fail,
    /// The failure is ignored.
    Continue,
}

/// A `connection { ... }` block: how `file` and `remote-exec` reach the machine.
#[derive(Clone, Debug)]
pub struct Connection {
    pub body: Body,
    pub span: Span,
}

/// A `provisioner "TYPE" { ... }` block.
#[derive(Clone, Debug)]
pub struct Provisioner {
    /// `local-exec`, `file` or `remote-exec`.
    pub type_name: String,
    /// The provisioner's own arguments (meta-arguments and the connection block removed).
    pub body: Body,
    pub connection: Option<Connection>,
    pub when: When,
    pub on_failure: OnFailure,
    /// The block header (`provisioner "local-exec"`).
    pub span: Span,
}

/// The provisioners and the resource-level connection block of one resource.
#[derive(Clone, Debug, Default)]
pub struct Provisioning {
    pub provisioners: Vec<Provisioner>,
    pub connection: Option<Connection>,
}

impl Provisioning {
    /// Every provisioner and connection body, for the references they make.
    pub fn bodies(&self) -> impl Iterator<Item = &Body> {
        let own = self
            .provisioners
            .iter()
            .flat_map(|p| std::iter::once(&p.body).chain(p.connection.iter().map(|c| &c.body)));
        own.chain(self.connection.iter().map(|c| &c.body))
    }
}

/// Every argument a connection block may have, for SSH and WinRM alike (Terraform's
/// `connectionBlockSupersetSchema`).
pub const CONNECTION_ARGUMENTS: &[&str] = &[
    "type",
    "user",
    "password",
    "host",
    "port",
    "timeout",
    "script_path",
    "private_key",
    "certificate",
    "host_key",
    "agent",
    "agent_identity",
    "proxy_scheme",
    "proxy_host",
    "proxy_port",
    "proxy_user_name",
    "proxy_user_password",
    "bastion_host",
    "bastion_host_key",
    "bastion_port",
    "bastion_user",
    "bastion_password",
    "bastion_private_key",
    "bastion_certificate",
    "target_platform",
    "https",
    "insecure",
    "use_ntlm",
    "cacert",
];

/// Provisioner types Terraform removed in 0.15: named so the error says so.
const REMOVED_TYPES: &[&str] = &["chef", "habitat", "puppet", "salt-masterless"];

/// Takes the `provisioner` and `connection` blocks out of a resource body. A data source has
/// neither (`managed` false): any such block is an error there.
pub(super) fn take_provisioning(
    body: &mut hcl_edit::structure::Body,
    file: &Arc<SourceFile>,
    managed: bool,
    diagnostics: &mut Diagnostics,
) -> Provisioning {
    let mut decoder = Decoder { file, diagnostics };
    let mut provisioning = Provisioning::default();
    for block in body.remove_blocks("connection") {
        if !managed {
            decoder.not_in_data_source(&block);
        } else if let Some(first) = &provisioning.connection {
            decoder.duplicate_connection(&block, first, "resource");
        } else {
            provisioning.connection = Some(decoder.connection(&block));
        }
    }
    for block in body.remove_blocks("provisioner") {
        if !managed {
            decoder.not_in_data_source(&block);
        } else if let Some(provisioner) = decoder.provisioner(&block) {
            provisioning.provisioners.push(provisioner);
        }
    }
    let has_destroy_time = provisioning
        .provisioners
        .iter()
        .any(|p| p.when == When::Destroy);
    if let (true, Some(connection)) = (has_destroy_time, &provisioning.connection) {
        decoder.only_self_references(&connection.body.body);
    }
    provisioning
}

/// The `provisioner` and `connection` blocks of a `removed` block: destroy-time provisioners
/// only, and only when it removes a managed resource (`from` is its address, when valid).
pub(super) fn take_removed_provisioning(
    block: &Block,
    from: Option<&str>,
    file: &Arc<SourceFile>,
    diagnostics: &mut Diagnostics,
) -> Provisioning {
    let mut body = block.body.clone();
    let has_any = body.has_blocks("provisioner") || body.has_blocks("connection");
    let managed = matches!(
        from.map(crate::addrs::Target::parse),
        Some(Ok(crate::addrs::Target::Resource(r))) if r.resource.mode == crate::addrs::ResourceMode::Managed
    );
    if !has_any {
        return Provisioning::default();
    }
    if !managed {
        let span = block.ident.span().map(|range| file.span(range));
        diagnostics.push(
            Diagnostic::error("Invalid provisioner block")
                .with_detail("Provisioners and connection blocks are valid only when a removed block targets a managed resource.")
                .with_span_opt(span),
        );
        return Provisioning::default();
    }
    let provisioning = take_provisioning(&mut body, file, true, diagnostics);
    for provisioner in &provisioning.provisioners {
        if provisioner.when != When::Destroy {
            diagnostics.push(
                Diagnostic::error("Invalid provisioner block")
                    .with_detail("Only destroy-time provisioners are valid in \"removed\" blocks. To declare a destroy-time provisioner, use:\n    when = destroy")
                    .with_span(provisioner.span.clone()),
            );
        }
    }
    provisioning
}

struct Decoder<'a> {
    file: &'a Arc<SourceFile>,
    diagnostics: &'a mut Diagnostics,
}

impl Decoder<'_> {
    fn span(&self, range: Option<std::ops::Range<usize>>) -> Option<Span> {
        range.map(|range| self.file.span(range))
    }

    fn header(&self, block: &Block) -> Span {
        super::load::header_span(self.file, block)
    }

    fn error(&mut self, summary: &str, detail: impl Into<String>, span: Option<Span>) {
        self.diagnostics.push(
            Diagnostic::error(summary)
                .with_detail(detail)
                .with_span_opt(span),
        );
    }

    fn not_in_data_source(&mut self, block: &Block) {
        let name = block.ident.as_str();
        let span = self.span(block.ident.span());
        self.error(
            "Unsupported block type",
            format!("Blocks of type \"{name}\" are not expected in a data block: only managed resources have provisioners."),
            span,
        );
    }

    fn duplicate_connection(&mut self, block: &Block, first: &Connection, owner: &str) {
        let span = self.header(block);
        self.error(
            "Duplicate connection block",
            format!(
                "This {owner} already has a connection block at {}:{}.",
                first.span.file, first.span.start.line
            ),
            Some(span),
        );
    }

    fn connection(&mut self, block: &Block) -> Connection {
        if let Some(label) = block.labels.first() {
            let span = self.span(label.span());
            self.error(
                "Extraneous label for connection",
                "No labels are expected for connection blocks.",
                span,
            );
        }
        self.check_arguments(&block.body, CONNECTION_ARGUMENTS, "a connection block");
        Connection {
            body: Body {
                file: self.file.clone(),
                body: block.body.clone(),
            },
            span: self.header(block),
        }
    }

    fn provisioner(&mut self, block: &Block) -> Option<Provisioner> {
        let span = self.header(block);
        let [label] = block.labels.as_slice() else {
            self.error(
                "Invalid provisioner block",
                "A provisioner block has one label, its type: provisioner \"local-exec\" { ... }.",
                Some(span),
            );
            return None;
        };
        let type_name = label.as_str().to_string();
        let type_span = self.span(label.span());
        let Some(schema) = crate::provisioners::schema(&type_name) else {
            self.unknown_type(&type_name, type_span);
            return None;
        };
        let mut body = block.body.clone();
        let when = body
            .remove_attribute("when")
            .map(|a| self.keyword(&a.value, "when", &["create", "destroy"]));
        let when = match when.flatten().as_deref() {
            Some("destroy") => When::Destroy,
            _ => When::Create,
        };
        let on_failure = body
            .remove_attribute("on_failure")
            .map(|a| self.keyword(&a.value, "on_failure", &["continue", "fail"]));
        let on_failure = match on_failure.flatten().as_deref() {
            Some("continue") => OnFailure::Continue,
            _ => OnFailure::Fail,
        };
        // `_ { ... }` escapes arguments whose names are meta-arguments: they join the body.
        for escaped in body.remove_blocks("_") {
            for attribute in escaped.body.attributes() {
                body.push(attribute.clone());
            }
        }
        let mut connection: Option<Connection> = None;
        for nested in body.remove_blocks("connection") {
            match &connection {
                Some(first) => self.duplicate_connection(&nested, first, "provisioner"),
                None => connection = Some(self.connection(&nested)),
            }
        }
        for nested in body.remove_blocks("lifecycle") {
            let span = self.span(nested.ident.span());
            self.error(
                "Reserved block type name in provisioner block",
                "The block type name \"lifecycle\" is reserved for use by Terraform in a future version.",
                span,
            );
        }
        let names: Vec<&str> = schema.attributes.keys().map(String::as_str).collect();
        self.check_arguments(&body, &names, &format!("a {type_name} provisioner"));
        if when == When::Destroy {
            self.only_self_references(&body);
            if let Some(connection) = &connection {
                self.only_self_references(&connection.body.body);
            }
        }
        Some(Provisioner {
            type_name,
            body: Body {
                file: self.file.clone(),
                body,
            },
            connection,
            when,
            on_failure,
            span,
        })
    }

    fn unknown_type(&mut self, type_name: &str, span: Option<Span>) {
        if REMOVED_TYPES.contains(&type_name) {
            self.error(
                &format!("The \"{type_name}\" provisioner has been removed"),
                format!("The \"{type_name}\" provisioner was deprecated in Terraform 0.13.4 and has been removed. Configure the machine with a remote-exec or local-exec provisioner, or with the machine's own startup configuration (user data, cloud-init)."),
                span,
            );
            return;
        }
        let known = crate::provisioners::TYPES;
        let diagnostic = Diagnostic::error("Unknown provisioner type")
            .with_detail(format!(
                "There is no provisioner named \"{type_name}\". The provisioners are {}.",
                known
                    .iter()
                    .map(|t| format!("\"{t}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
            .with_span_opt(span)
            .with_suggestion(did_you_mean(type_name, known.iter().copied()));
        self.diagnostics.push(diagnostic);
    }

    /// `when = destroy`: a keyword (the quoted form of Terraform 0.11 too).
    fn keyword(&mut self, value: &Expression, name: &str, allowed: &[&str]) -> Option<String> {
        let word = match value {
            Expression::Variable(v) => Some(v.as_str().to_string()),
            Expression::String(s) => {
                let span = self.span(value.span());
                self.diagnostics.push(
                    Diagnostic::warning("Quoted keywords are deprecated")
                        .with_detail("In this context, keywords are expected literally rather than in quotes. Terraform 0.11 and earlier required quotes, but quoted keywords are now deprecated and will be removed in a future version of Terraform. Remove the quotes surrounding this keyword to silence this warning.")
                        .with_span_opt(span),
                );
                Some(s.value().to_string())
            }
            _ => None,
        };
        match word {
            Some(word) if allowed.contains(&word.as_str()) => Some(word),
            _ => {
                let span = self.span(value.span());
                self.error(
                    &format!("Invalid \"{name}\" keyword"),
                    format!(
                        "The \"{name}\" argument requires one of the following keywords: {}.",
                        allowed.join(" or ")
                    ),
                    span,
                );
                None
            }
        }
    }

    fn check_arguments(&mut self, body: &hcl_edit::structure::Body, names: &[&str], what: &str) {
        let shape = Shape {
            what,
            attributes: names,
            blocks: &[],
        };
        shape.check(self.file, body, self.diagnostics);
    }

    /// Terraform's `onlySelfRefs`: the arguments of a destroy-time provisioner and of its
    /// connection blocks refer to nothing but the object being destroyed.
    fn only_self_references(&mut self, body: &hcl_edit::structure::Body) {
        for attribute in body.attributes() {
            let expr = super::Expr {
                file: self.file.clone(),
                expr: attribute.value.clone(),
            };
            let invalid = lang::references(&expr).into_iter().any(|reference| {
                !matches!(
                    reference.subject,
                    Referenceable::SelfObject
                        | Referenceable::Path(_)
                        | Referenceable::TerraformWorkspace
                        | Referenceable::CountIndex
                        | Referenceable::EachKey
                )
            });
            if invalid {
                let span = self.span(attribute.value.span());
                self.error(
                    "Invalid reference from destroy provisioner",
                    "Destroy-time provisioners and their connection configurations may only reference attributes of the related resource, via 'self', 'count.index', or 'each.key'.\n\nReferences to other resources during the destroy phase can cause dependency cycles and interact poorly with create_before_destroy. Copy what the provisioner needs into an argument of the resource (terraform_data's input, null_resource's triggers) and refer to it through self.",
                    span,
                );
            }
        }
    }
}
