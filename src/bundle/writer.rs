//! Atomic bundle writing: everything is built in a hidden sibling of the final directory and
//! renamed into place only when complete, so a final name never holds a partial bundle.

use std::fs;
use std::io::{Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use zip::write::SimpleFileOptions;

use super::files::{self, create_dir_all, FILE_MODE};
use super::manifest::{Manifest, MANIFEST_FILE};
use crate::error::Error;

/// Where a finished bundle lives.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BundlePaths {
    pub directory: PathBuf,
    pub zip: PathBuf,
    pub sha256_file: PathBuf,
    /// SHA-256 of the zip, as written in the `.zip.sha256` file.
    pub zip_sha256: String,
}

/// A bundle under construction. Dropping it unfinished removes everything it wrote.
#[derive(Debug)]
pub struct Staging {
    out: PathBuf,
    name: String,
    root: PathBuf,
    tmp_zip: PathBuf,
    tmp_sha: PathBuf,
    finished: bool,
}

/// The prefix of every temporary entry a run leaves in the output directory while it works.
pub const TEMP_PREFIX: &str = ".soc2-evidence-partial-";

impl Staging {
    /// Creates the output directory if needed and the temporary bundle directory in it.
    pub fn create(out: &Path, name: &str) -> Result<Self, Error> {
        let out_err = |source| Error::OutputDir {
            path: out.to_path_buf(),
            source,
        };
        if out.exists() && !out.is_dir() {
            return Err(out_err(std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                "it exists and is not a directory",
            )));
        }
        create_dir_all(out).map_err(out_err)?;
        let paths = final_paths(out, name);
        for path in [&paths.0, &paths.1, &paths.2] {
            if fs::symlink_metadata(path).is_ok() {
                return Err(Error::BundleExists { path: path.clone() });
            }
        }
        let tag = format!("{TEMP_PREFIX}{name}-{}", std::process::id());
        let root = out.join(&tag);
        fs::DirBuilder::new()
            .mode(files::DIR_MODE)
            .create(&root)
            .map_err(out_err)?;
        Ok(Staging {
            out: out.to_path_buf(),
            name: name.to_string(),
            tmp_zip: out.join(format!("{tag}.zip")),
            tmp_sha: out.join(format!("{tag}.zip.sha256")),
            root,
            finished: false,
        })
    }

    /// The directory collectors write into; it becomes the bundle directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Writes the manifest, the zip and its checksum, and moves all three into place.
    pub fn finish(mut self, manifest: &Manifest) -> Result<BundlePaths, Error> {
        let mut bytes = serde_json::to_vec_pretty(manifest).expect("manifest serializes");
        bytes.push(b'\n');
        files::write_file(&self.root, MANIFEST_FILE, &bytes, None)?;

        let zip_sha256 = write_zip(&self.root, &self.name, &self.tmp_zip)?;
        let (directory, zip, sha256_file) = final_paths(&self.out, &self.name);
        let zip_name = zip.file_name().expect("zip has a name").to_string_lossy();
        let line = format!("{zip_sha256}  {zip_name}\n");
        write_new(&self.tmp_sha, line.as_bytes())?;

        for (from, to) in [
            (&self.root, &directory),
            (&self.tmp_zip, &zip),
            (&self.tmp_sha, &sha256_file),
        ] {
            if fs::symlink_metadata(to).is_ok() {
                return Err(Error::BundleExists { path: to.clone() });
            }
            fs::rename(from, to).map_err(|e| Error::write(to, e))?;
        }
        self.finished = true;
        Ok(BundlePaths {
            directory,
            zip,
            sha256_file,
            zip_sha256,
        })
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.finished {
            let _ = fs::remove_dir_all(&self.root);
            let _ = fs::remove_file(&self.tmp_zip);
            let _ = fs::remove_file(&self.tmp_sha);
        }
    }
}

fn final_paths(out: &Path, name: &str) -> (PathBuf, PathBuf, PathBuf) {
    (
        out.join(name),
        out.join(format!("{name}.zip")),
        out.join(format!("{name}.zip.sha256")),
    )
}

fn write_new(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(FILE_MODE)
        .open(path)
        .map_err(|e| Error::write(path, e))?;
    file.write_all(bytes)
        .and_then(|_| file.sync_all())
        .map_err(|e| Error::write(path, e))
}

/// Every regular file below `root`, as sorted `/`-separated relative paths.
pub fn list_files(root: &Path) -> std::io::Result<Vec<String>> {
    let mut out = Vec::new();
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        for entry in fs::read_dir(root.join(&rel))? {
            let entry = entry?;
            let rel_child = rel.join(entry.file_name());
            let kind = entry.file_type()?;
            if kind.is_dir() {
                stack.push(rel_child);
            } else {
                out.push(rel_child.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Zips the tree below `root` under the single folder `name`, with sorted entries, fixed entry
/// times and owner-only permissions, and returns the zip's SHA-256.
fn write_zip(root: &Path, name: &str, zip_path: &Path) -> Result<String, Error> {
    let err = |e: std::io::Error| Error::write(zip_path, e);
    let zip_err = |e: zip::result::ZipError| Error::write(zip_path, std::io::Error::other(e));
    let file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(FILE_MODE)
        .open(zip_path)
        .map_err(err)?;
    let mut zip = zip::ZipWriter::new(file);
    let file_options = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(zip::DateTime::default())
        .unix_permissions(FILE_MODE);
    let dir_options = file_options.unix_permissions(files::DIR_MODE);

    let rel_files = list_files(root).map_err(err)?;
    let mut dirs_done = std::collections::BTreeSet::new();
    zip.add_directory(format!("{name}/"), dir_options)
        .map_err(zip_err)?;
    let mut buffer = Vec::new();
    for rel in &rel_files {
        // Directory entries first, so every unzip tool recreates the folders owner-only.
        let mut prefix = String::new();
        for part in rel.split('/').collect::<Vec<_>>().split_last().unwrap().1 {
            prefix.push_str(part);
            prefix.push('/');
            if dirs_done.insert(prefix.clone()) {
                zip.add_directory(format!("{name}/{prefix}"), dir_options)
                    .map_err(zip_err)?;
            }
        }
        zip.start_file(format!("{name}/{rel}"), file_options)
            .map_err(zip_err)?;
        buffer.clear();
        fs::File::open(root.join(rel))
            .and_then(|mut f| f.read_to_end(&mut buffer))
            .map_err(err)?;
        zip.write_all(&buffer).map_err(err)?;
    }
    let file = zip.finish().map_err(zip_err)?;
    file.sync_all().map_err(err)?;
    drop(file);

    let mut hasher = Sha256::new();
    let mut reader = fs::File::open(zip_path).map_err(err)?;
    std::io::copy(&mut reader, &mut hasher).map_err(err)?;
    Ok(files::hex(&hasher.finalize()))
}
