//! The package hashes of `.terraform.lock.hcl`, as Terraform computes them
//! (`internal/getproviders/hash.go`):
//! - `h1:` Go's `dirhash.Hash1` over the package's files: the SHA-256 of the lines
//!   `<hex sha256 of the file>  <path>\n`, paths relative with `/`, sorted, base64-encoded. The
//!   same for a directory and for a zip of it, so an unpacked and a packed package agree.
//! - `zh:` the hex SHA-256 of the zip archive itself (what a registry's SHA256SUMS lists).

use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::Path;

/// `h1:` over `(path, content reader)` pairs.
fn hash1<R: Read>(mut files: Vec<(String, R)>) -> Result<String, String> {
    files.sort_by(|a, b| a.0.cmp(&b.0));
    let mut summary = Sha256::new();
    for (name, mut reader) in files {
        if name.contains('\n') {
            return Err(format!("the file name {name:?} contains a line break"));
        }
        let mut file_hash = Sha256::new();
        std::io::copy(&mut reader, &mut file_hash)
            .map_err(|error| format!("cannot read {name}: {error}"))?;
        summary.update(format!("{:x}  {name}\n", file_hash.finalize()));
    }
    use base64::Engine as _;
    Ok(format!(
        "h1:{}",
        base64::engine::general_purpose::STANDARD.encode(summary.finalize())
    ))
}

/// `h1:` of an unpacked package directory (symbolic links followed, as Terraform resolves the
/// directory itself and reads linked files).
pub fn h1_dir(dir: &Path) -> Result<String, String> {
    let dir = std::fs::canonicalize(dir)
        .map_err(|error| format!("cannot read {}: {error}", dir.display()))?;
    let mut names = Vec::new();
    collect_files(&dir, "", &mut names)?;
    let mut files = Vec::new();
    for name in names {
        let file = std::fs::File::open(dir.join(&name))
            .map_err(|error| format!("cannot read {name}: {error}"))?;
        files.push((name, file));
    }
    hash1(files)
}

/// Files below `dir`, as `prefix/...` paths; directories are walked, not listed (Go's
/// `filepath.Walk` with `Lstat`: a link to a directory is not descended into).
fn collect_files(dir: &Path, prefix: &str, out: &mut Vec<String>) -> Result<(), String> {
    let entries = std::fs::read_dir(dir)
        .map_err(|error| format!("cannot read {}: {error}", dir.display()))?;
    for entry in entries {
        let entry = entry.map_err(|error| format!("cannot read {}: {error}", dir.display()))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = if prefix.is_empty() {
            name
        } else {
            format!("{prefix}/{name}")
        };
        let file_type = entry
            .file_type()
            .map_err(|error| format!("cannot read {path}: {error}"))?;
        if file_type.is_dir() {
            collect_files(&entry.path(), &path, out)?;
        } else {
            out.push(path);
        }
    }
    Ok(())
}

/// `h1:` of a zip archive's contents (Go's `dirhash.HashZip`).
pub fn h1_zip(archive: &Path) -> Result<String, String> {
    let file = std::fs::File::open(archive)
        .map_err(|error| format!("cannot read {}: {error}", archive.display()))?;
    let mut zip = zip::ZipArchive::new(file)
        .map_err(|error| format!("{} is not a zip archive: {error}", archive.display()))?;
    let mut contents = Vec::new();
    for index in 0..zip.len() {
        let mut entry = zip
            .by_index(index)
            .map_err(|error| format!("{}: {error}", archive.display()))?;
        let mut bytes = Vec::new();
        entry
            .read_to_end(&mut bytes)
            .map_err(|error| format!("{}: {error}", archive.display()))?;
        contents.push((entry.name().to_string(), std::io::Cursor::new(bytes)));
    }
    hash1(contents)
}

/// The hex SHA-256 of a file.
pub fn sha256_file(path: &Path) -> Result<String, String> {
    let mut file = std::fs::File::open(path)
        .map_err(|error| format!("cannot read {}: {error}", path.display()))?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher)
        .map_err(|error| format!("cannot read {}: {error}", path.display()))?;
    Ok(format!("{:x}", hasher.finalize()))
}

/// `zh:` of a zip archive.
pub fn zh(archive: &Path) -> Result<String, String> {
    Ok(format!("zh:{}", sha256_file(archive)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn h1_agrees_for_a_directory_and_its_zip() {
        let dir = tempfile::tempdir().unwrap();
        let package = dir.path().join("package");
        std::fs::create_dir_all(package.join("sub")).unwrap();
        std::fs::write(package.join("terraform-provider-x_v1.0.0"), b"binary").unwrap();
        std::fs::write(package.join("sub/README"), b"hello\n").unwrap();
        let archive = dir.path().join("package.zip");
        let mut zip = zip::ZipWriter::new(std::fs::File::create(&archive).unwrap());
        for (name, content) in [
            ("terraform-provider-x_v1.0.0", &b"binary"[..]),
            ("sub/README", b"hello\n"),
        ] {
            zip.start_file(name, zip::write::SimpleFileOptions::default())
                .unwrap();
            zip.write_all(content).unwrap();
        }
        zip.finish().unwrap();
        let from_dir = h1_dir(&package).unwrap();
        assert_eq!(from_dir, h1_zip(&archive).unwrap());
        // The value Go's dirhash.Hash1 gives for these two files (computed by hand from its
        // definition: sha256 of "<hex>  sub/README\n<hex>  terraform-provider-x_v1.0.0\n").
        let mut summary = Sha256::new();
        summary.update(format!(
            "{:x}  sub/README\n{:x}  terraform-provider-x_v1.0.0\n",
            Sha256::digest(b"hello\n"),
            Sha256::digest(b"binary")
        ));
        use base64::Engine as _;
        assert_eq!(
            from_dir,
            format!(
                "h1:{}",
                base64::engine::general_purpose::STANDARD.encode(summary.finalize())
            )
        );
        assert_eq!(
            zh(&archive).unwrap(),
            format!("zh:{:x}", Sha256::digest(std::fs::read(&archive).unwrap()))
        );
    }
}
