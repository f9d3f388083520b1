//! Module installation as `terraform init` / `terraform get` do it, and the lookup that loading
//! uses to find an installed module.
//!
//! [`install`] walks the configuration from the root module: each module call gets a key (the
//! call names from the root joined by `.`), and each non-local module is fetched into
//! `.terraform/modules/<key>` (the whole package: a git repository, an archive, a registry
//! module's download) with the module in its `//subdir`. A local path inside a fetched package
//! resolves within that package and may not climb out of it (Terraform's "module package" rule).
//! What was installed is recorded in `modules.json` ([`super::manifest`]); a module already
//! recorded with the same source (and a version still matching the constraint) is kept unless
//! `upgrade` is set. The same package fetched for two keys is downloaded once and copied.
//!
//! [`InstalledModules::resolve`] is the seam `config::load` calls for each module call: local
//! paths resolve against the caller's directory, every other source through the manifest, with
//! an error telling the user to run `strata init` when it is missing or out of date.

use super::manifest::{Manifest, Record, MODULES_DIR};
use super::module_source::{
    clean_path, ModuleSource, RegistrySource, RemoteSource, DEFAULT_REGISTRY_HOST,
};
use crate::config::load::{display_path, load_module};
use crate::config::{Module, ModuleCall};
use crate::diagnostics::{Diagnostic, Diagnostics, SourceMap};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

const RUN_INIT: &str = "Run `strata init` to install all modules required by this configuration.";

/// What loading knows of the installed modules of a working directory.
pub struct InstalledModules {
    root: PathBuf,
    manifest: Result<Manifest, String>,
}

impl InstalledModules {
    /// Reads `root/.terraform/modules/modules.json` (none is an empty manifest).
    pub fn open(root: &Path) -> InstalledModules {
        InstalledModules {
            root: root.to_path_buf(),
            manifest: Manifest::read(root).map_err(|error| error.to_string()),
        }
    }

    /// The directory of the module `call`, whose key is `key` (`a.b`). Errors carry no span;
    /// the caller adds the call's.
    pub fn resolve(&self, key: &str, call: &ModuleCall) -> Result<PathBuf, Diagnostic> {
        let source = parse_call_source(call)?;
        if source.is_local() {
            return Ok(call.source_dir.clone());
        }
        let manifest = self.manifest.as_ref().map_err(|error| {
            Diagnostic::error("Failed to read the modules manifest").with_detail(error.clone())
        })?;
        let normalised = source.to_string();
        let Some(record) = manifest.get(key) else {
            return Err(not_installed(call, &normalised));
        };
        if record.source != normalised {
            return Err(Diagnostic::error("Module source has changed")
                .with_detail(format!(
                    "The source address of module \"{}\" was changed since it was installed (from \"{}\" to \"{normalised}\").",
                    call.name, record.source
                ))
                .with_help(RUN_INIT));
        }
        if let (Some(constraint), Some(installed)) = (&call.version, &record.version) {
            if !version_matches(constraint, installed) {
                return Err(Diagnostic::error("Module version requirements have changed")
                    .with_detail(format!(
                        "The version requirements of module \"{}\" have changed since it was installed, and the installed version ({installed}) does not match \"{constraint}\".",
                        call.name
                    ))
                    .with_help(RUN_INIT));
            }
        }
        let dir = self.root.join(&record.dir);
        if !dir.is_dir() {
            return Err(not_installed(call, &normalised));
        }
        Ok(dir)
    }
}

fn not_installed(call: &ModuleCall, source: &str) -> Diagnostic {
    Diagnostic::error("Module not installed")
        .with_detail(format!(
            "Module \"{}\" (source \"{source}\") is not yet installed in .terraform/modules.",
            call.name
        ))
        .with_help(RUN_INIT)
}

/// The call's source, checked against its `version` argument as Terraform checks it.
pub fn parse_call_source(call: &ModuleCall) -> Result<ModuleSource, Diagnostic> {
    let source = ModuleSource::parse(&call.source, call.version.is_some()).map_err(|error| {
        let summary = if call.version.is_some() {
            "Invalid registry module source address"
        } else {
            "Invalid module source address"
        };
        Diagnostic::error(summary).with_detail(format!("Module \"{}\": {error}.", call.name))
    })?;
    let Some(constraint) = &call.version else {
        return Ok(source);
    };
    match &source {
        ModuleSource::Local(_) => Err(Diagnostic::error("Invalid version constraint").with_detail(format!(
            "Cannot apply a version constraint to module \"{}\" because it has a relative local path.",
            call.name
        ))),
        ModuleSource::Remote(_) => Err(Diagnostic::error("Invalid version constraint").with_detail(format!(
            "Cannot apply a version constraint to module \"{}\" because it doesn't come from a module registry.",
            call.name
        ))),
        ModuleSource::Registry(_) => match crate::config::version::satisfies(constraint, "0.0.0") {
            Ok(_) => Ok(source),
            Err(error) => Err(Diagnostic::error("Invalid version constraint").with_detail(format!(
                "The version constraint \"{constraint}\" of module \"{}\" does not use correct version constraint syntax: {error}. Write it like \"~> 1.2\" or \">= 1.0, < 2.0\".",
                call.name
            ))),
        },
    }
}

fn version_matches(constraint: &str, version: &str) -> bool {
    crate::config::version::satisfies(constraint, version).unwrap_or(false)
}

/// What the installer reports while it works (the CLI prints these lines).
pub trait InstallReport {
    /// Installation starts (the root module calls at least one module).
    fn begin(&mut self);
    /// `Downloading <source> for <key>...` (with the version for registry modules).
    fn downloading(&mut self, key: &str, source: &str, version: Option<&str>);
    /// `- <key> in <dir>`.
    fn installed(&mut self, key: &str, dir: &str);
}

/// A package's place while walking: where it was installed, to keep local paths inside it.
#[derive(Clone)]
struct Package {
    /// The package's installation directory relative to the root (`None` for the root
    /// module's own files, which may use any relative path).
    root: Option<String>,
    address: String,
}

/// The installer's state for one run.
struct Installer<'r> {
    root: PathBuf,
    upgrade: bool,
    manifest: Manifest,
    /// Package address → where this run fetched it (relative to the root), to copy it again.
    fetched: HashMap<String, String>,
    remote: super::fetch::Fetcher,
    sources: &'r mut SourceMap,
    diagnostics: Diagnostics,
    report: &'r mut dyn InstallReport,
}

/// Installs every module the root module in `root` calls, recursively, and writes the manifest.
/// Returns the warnings; on errors the manifest is left as it was.
pub async fn install(
    root: &Path,
    upgrade: bool,
    sources: &mut SourceMap,
    report: &mut dyn InstallReport,
) -> Result<Diagnostics, Diagnostics> {
    let manifest = Manifest::read(root).map_err(|error| {
        Diagnostics::from(
            Diagnostic::error("Failed to read the modules manifest").with_detail(error.to_string()),
        )
    })?;
    let mut installer = Installer {
        root: root.to_path_buf(),
        upgrade,
        manifest,
        fetched: HashMap::new(),
        remote: super::fetch::Fetcher::new(),
        sources,
        diagnostics: Diagnostics::new(),
        report,
    };
    installer.manifest.insert(Record {
        key: String::new(),
        source: String::new(),
        version: None,
        dir: ".".into(),
    });
    let root_module = installer.load(root);
    if let Some(module) = root_module.filter(|module| !module.module_calls.is_empty()) {
        installer.report.begin();
        let package = Package {
            root: None,
            address: String::new(),
        };
        installer.walk(&module, "", ".", &package).await;
    }
    // As Terraform 1.15: a failed installation leaves the previous manifest in place.
    if installer.diagnostics.has_errors() {
        return Err(installer.diagnostics);
    }
    if let Err(error) = installer.manifest.write(root) {
        installer.diagnostics.push(
            Diagnostic::error("Failed to update the modules manifest")
                .with_detail(error.to_string()),
        );
        return Err(installer.diagnostics);
    }
    Ok(installer.diagnostics)
}

impl Installer<'_> {
    /// A module's files, its errors kept for the result.
    fn load(&mut self, dir: &Path) -> Option<Module> {
        match load_module(dir, self.sources) {
            Ok(module) => {
                self.diagnostics.extend(module.warnings.clone());
                Some(module)
            }
            Err(errors) => {
                self.diagnostics.extend(errors);
                None
            }
        }
    }

    /// Installs the calls of `module` (at `dir`, relative to the root, key `key`), then theirs.
    fn walk<'a>(
        &'a mut self,
        module: &'a Module,
        key: &'a str,
        dir: &'a str,
        package: &'a Package,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + 'a>> {
        Box::pin(async move {
            let mut names: Vec<&String> = module.module_calls.keys().collect();
            names.sort();
            for name in names {
                let call = &module.module_calls[name];
                let child_key = if key.is_empty() {
                    name.clone()
                } else {
                    format!("{key}.{name}")
                };
                let span = module
                    .call_source_spans
                    .get(name)
                    .cloned()
                    .unwrap_or_else(|| call.span.clone());
                match self.install_call(call, &child_key, dir, package).await {
                    Ok(Some((child_dir, child_package))) => {
                        if let Some(child) = self.load(&self.root.join(&child_dir)) {
                            self.walk(&child, &child_key, &child_dir, &child_package)
                                .await;
                        }
                    }
                    Ok(None) => {}
                    Err(diagnostic) => self.diagnostics.push(diagnostic.with_span(span)),
                }
            }
        })
    }

    /// Installs one call (or keeps its installation); its directory and package.
    async fn install_call(
        &mut self,
        call: &ModuleCall,
        key: &str,
        parent_dir: &str,
        parent_package: &Package,
    ) -> Result<Option<(String, Package)>, Diagnostic> {
        let source = parse_call_source(call)?;
        let normalised = source.to_string();
        let install_path = format!("{MODULES_DIR}/{key}");
        if let Some(kept) = self.kept(call, key, &normalised, &source, parent_package) {
            return Ok(Some(kept));
        }
        self.manifest.remove_with_descendants(key);
        let (dir, version, package) = match &source {
            ModuleSource::Local(path) => {
                let dir = local_dir(call, parent_dir, path, parent_package)?;
                (dir, None, parent_package.clone())
            }
            ModuleSource::Remote(remote) => {
                self.report.downloading(key, &remote_display(remote), None);
                let dir = self.fetch_remote(call, remote, &install_path).await?;
                (
                    dir,
                    None,
                    Package {
                        root: Some(install_path),
                        address: remote.package.clone(),
                    },
                )
            }
            ModuleSource::Registry(registry) => {
                let constraint = call.version.clone().unwrap_or_default();
                let (version, location) = self
                    .remote
                    .registry_location(call, registry, &constraint)
                    .await?;
                self.report
                    .downloading(key, &registry_display(registry), Some(&version));
                let mut remote = location;
                if !registry.subdir.is_empty() {
                    remote.subdir = if remote.subdir.is_empty() {
                        registry.subdir.clone()
                    } else {
                        clean_path(&format!("{}/{}", remote.subdir, registry.subdir))
                    };
                }
                let dir = self.fetch_remote(call, &remote, &install_path).await?;
                (
                    dir,
                    Some(version),
                    Package {
                        root: Some(install_path),
                        address: registry.package(),
                    },
                )
            }
        };
        if !self.root.join(&dir).is_dir() {
            return Err(
                Diagnostic::error("Unreadable module directory").with_detail(format!(
                    "The directory `{dir}` of module \"{}\" does not exist{}.",
                    call.name,
                    if source.is_local() {
                        ""
                    } else {
                        ": the module's subdirectory is not in the downloaded package"
                    }
                )),
            );
        }
        self.report.installed(key, &dir);
        self.manifest.insert(Record {
            key: key.to_string(),
            source: normalised,
            version,
            dir: dir.clone(),
        });
        Ok(Some((dir, package)))
    }

    /// The recorded installation of `key`, when it is current and `upgrade` is off.
    fn kept(
        &self,
        call: &ModuleCall,
        key: &str,
        normalised: &str,
        source: &ModuleSource,
        parent_package: &Package,
    ) -> Option<(String, Package)> {
        if self.upgrade && !source.is_local() {
            return None;
        }
        let record = self.manifest.get(key)?;
        let version_ok = match (&record.version, &call.version) {
            (Some(version), Some(constraint)) => version_matches(constraint, version),
            _ => true,
        };
        if record.source != normalised || !version_ok || !self.root.join(&record.dir).is_dir() {
            return None;
        }
        let package = match source {
            ModuleSource::Local(_) => parent_package.clone(),
            ModuleSource::Remote(remote) => Package {
                root: Some(format!("{MODULES_DIR}/{key}")),
                address: remote.package.clone(),
            },
            ModuleSource::Registry(registry) => Package {
                root: Some(format!("{MODULES_DIR}/{key}")),
                address: registry.package(),
            },
        };
        Some((record.dir.clone(), package))
    }

    /// Fetches (or copies) the package of `remote` into `install_path`; the module's directory.
    async fn fetch_remote(
        &mut self,
        call: &ModuleCall,
        remote: &RemoteSource,
        install_path: &str,
    ) -> Result<String, Diagnostic> {
        let target = self.root.join(install_path);
        remove_dir(&target)?;
        let result = match self.fetched.get(&remote.package) {
            Some(previous) => super::fetch::copy_package(&self.root.join(previous), &target),
            None => self.remote.fetch(&remote.package, &target).await,
        };
        result.map_err(|error| {
            Diagnostic::error("Failed to download module").with_detail(format!(
                "Could not download module \"{}\" from \"{}\": {error}",
                call.name,
                remote_display(remote)
            ))
        })?;
        self.fetched
            .insert(remote.package.clone(), install_path.to_string());
        if remote.subdir.is_empty() {
            return Ok(install_path.to_string());
        }
        let subdir = super::fetch::expand_subdir(&target, &remote.subdir).map_err(|error| {
            Diagnostic::error("Unreadable module subdirectory").with_detail(format!(
                "Module \"{}\": {error} in the package downloaded from \"{}\".",
                call.name, remote.package
            ))
        })?;
        Ok(format!("{install_path}/{subdir}"))
    }
}

/// A registry address as Terraform shows it: without the default host.
fn registry_display(registry: &RegistrySource) -> String {
    let shown = RegistrySource {
        subdir: String::new(),
        ..registry.clone()
    };
    if registry.host == DEFAULT_REGISTRY_HOST {
        shown.package_path()
    } else {
        shown.to_string()
    }
}

/// A source as Terraform shows it while downloading: the package and its subdirectory.
fn remote_display(remote: &RemoteSource) -> String {
    remote.package.clone()
}

/// The directory of a local call inside the caller's package, relative to the root.
fn local_dir(
    call: &ModuleCall,
    parent_dir: &str,
    path: &str,
    package: &Package,
) -> Result<String, Diagnostic> {
    let joined = clean_path(&format!("{parent_dir}/{path}"));
    if let Some(package_root) = &package.root {
        let inside = joined == *package_root || joined.starts_with(&format!("{package_root}/"));
        if !inside {
            return Err(Diagnostic::error("Local module path escapes module package").with_detail(format!(
                "The source directory \"{path}\" of module \"{}\" would be outside of its containing package \"{}\". Local source addresses starting with \"../\" must stay within the same package that the calling module belongs to.",
                call.name, package.address
            )));
        }
    }
    Ok(joined)
}

fn remove_dir(path: &Path) -> Result<(), Diagnostic> {
    let result = match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() || meta.is_file() => std::fs::remove_file(path),
        Ok(_) => std::fs::remove_dir_all(path),
        Err(_) => Ok(()),
    };
    result.map_err(|error| {
        Diagnostic::error("Failed to remove local module cache").with_detail(format!(
            "Strata tried to remove `{}` in order to reinstall this module, but: {error}.",
            display_path(path)
        ))
    })
}
