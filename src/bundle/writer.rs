//! Atomic bundle writing: everything is built in a hidden sibling of the final directory and
//! renamed into place only when complete, so a final name never holds a partial bundle.

use std::fs;
use std::io::{Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use zip::write::SimpleFileOptions;

use super::files::{self, create_dir_all, FILE_MODE};
use super::manifest::MANIFEST_FILE;
use super::signature::SIGNATURE_FILE;
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

/// The marker file a run writes into its temporary bundle directory first thing, and removes
/// just before that directory becomes the bundle. A leftover is recognised by this marker, never
/// by its name alone: a folder merely named like a temporary one (a bundle of that name, say) is
/// never removed. The marker is never part of a bundle or its zip.
pub const STAGING_MARKER: &str = ".soc2-evidence-staging";
pub const MARKER_TEXT: &str =
    "soc2-evidence: this folder is the temporary bundle of a run; a later run removes it if that run was killed\n";

impl Staging {
    /// Creates the output directory if needed and the temporary bundle directory in it, after
    /// removing what killed runs left there.
    pub fn create(out: &Path, name: &str) -> Result<Self, Error> {
        let out_err = |reason: String| Error::OutputDir {
            path: out.to_path_buf(),
            reason,
        };
        check_out_dir(out)?;
        create_dir_all(out).map_err(|e| out_err(format!("cannot create it: {e}")))?;
        remove_leftovers(out);
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
            .map_err(|e| {
                out_err(format!(
                    "cannot create the temporary bundle {tag} in it: {e}"
                ))
            })?;
        let staging = Staging {
            out: out.to_path_buf(),
            name: name.to_string(),
            tmp_zip: out.join(format!("{tag}.zip")),
            tmp_sha: out.join(format!("{tag}.zip.sha256")),
            root,
            finished: false,
        };
        // Dropping `staging` on error removes the directory just created.
        write_new(&staging.root.join(STAGING_MARKER), MARKER_TEXT.as_bytes())?;
        Ok(staging)
    }

    /// The directory collectors write into; it becomes the bundle directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Writes the manifest, the zip and its checksum, and moves all three into place.
    ///
    /// The zip comes first, then its checksum, then the directory: each appears under its final
    /// name only complete, and a process killed between two of these steps leaves at most a
    /// complete zip (with its checksum) whose temporary directory the next run removes. Files are
    /// placed by hard link, which never replaces an existing name; if one step finds its name
    /// taken, the names already placed are taken back.
    pub fn finish<M: serde::Serialize>(self, manifest: &M) -> Result<BundlePaths, Error> {
        self.finish_signed(&manifest_bytes(manifest), None)
    }

    /// [`Staging::finish`] with the manifest's bytes as [`manifest_bytes`] made them (the bytes
    /// a signer signed) and, when given, the signature file ([`SIGNATURE_FILE`]) beside the
    /// manifest, in the directory and in the zip (so the zip's checksum covers it).
    pub fn finish_signed(
        mut self,
        manifest: &[u8],
        signature: Option<&[u8]>,
    ) -> Result<BundlePaths, Error> {
        files::write_file(&self.root, MANIFEST_FILE, manifest, None)?;
        if let Some(signature) = signature {
            files::write_file(&self.root, SIGNATURE_FILE, signature, None)?;
        }

        let zip_sha256 = write_zip(&self.root, &self.name, &self.tmp_zip)?;
        let (directory, zip, sha256_file) = final_paths(&self.out, &self.name);
        let zip_name = zip.file_name().expect("zip has a name").to_string_lossy();
        let line = format!("{zip_sha256}  {zip_name}\n");
        write_new(&self.tmp_sha, line.as_bytes())?;

        let mut placed: Vec<&Path> = Vec::new();
        let mut place = || -> Result<(), Error> {
            place_file(&self.tmp_zip, &zip)?;
            placed.push(&zip);
            place_file(&self.tmp_sha, &sha256_file)?;
            placed.push(&sha256_file);
            // rename(2) would replace an empty directory of the same name (never a non-empty
            // one), so the name is checked first: only an empty directory created in between
            // could be replaced, and it holds nothing.
            if fs::symlink_metadata(&directory).is_ok() {
                return Err(Error::BundleExists {
                    path: directory.clone(),
                });
            }
            // The temporary names of the zip and the checksum are second links to the final
            // files: they go while the marked directory still vouches for them, then the marker,
            // and the directory becomes the bundle.
            for path in [&self.tmp_zip, &self.tmp_sha] {
                if let Err(e) = fs::remove_file(path) {
                    tracing::warn!(path = %path.display(), error = %e, "could not remove a temporary name of the finished bundle; remove it by hand");
                }
            }
            fs::remove_file(self.root.join(STAGING_MARKER))
                .map_err(|e| Error::write(self.root.join(STAGING_MARKER), e))?;
            fs::rename(&self.root, &directory).map_err(|e| Error::write(&directory, e))
        };
        if let Err(err) = place() {
            for path in placed {
                let _ = fs::remove_file(path);
            }
            return Err(err);
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
        if self.finished {
            return;
        }
        let removed = [
            (&self.root, fs::remove_dir_all(&self.root)),
            (&self.tmp_zip, fs::remove_file(&self.tmp_zip)),
            (&self.tmp_sha, fs::remove_file(&self.tmp_sha)),
        ];
        for (path, result) in removed {
            if let Err(e) = result {
                if e.kind() != std::io::ErrorKind::NotFound {
                    tracing::warn!(
                        "could not remove the temporary bundle entry {}: {e}; the next run removes it, or remove it by hand",
                        path.display()
                    );
                }
            }
        }
    }
}

/// Links `from` to the new name `to`, failing if `to` exists. On file systems without hard
/// links, renames instead after checking that `to` is free.
fn place_file(from: &Path, to: &Path) -> Result<(), Error> {
    match fs::hard_link(from, to) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(Error::BundleExists {
            path: to.to_path_buf(),
        }),
        Err(e)
            if e.kind() == std::io::ErrorKind::Unsupported
                || e.kind() == std::io::ErrorKind::PermissionDenied =>
        {
            if fs::symlink_metadata(to).is_ok() {
                return Err(Error::BundleExists {
                    path: to.to_path_buf(),
                });
            }
            fs::rename(from, to).map_err(|e| Error::write(to, e))
        }
        Err(e) => Err(Error::write(to, e)),
    }
}

/// The exact bytes [`Staging::finish`] writes as `manifest.json`: pretty JSON and a newline.
pub fn manifest_bytes<M: serde::Serialize>(manifest: &M) -> Vec<u8> {
    let mut bytes = serde_json::to_vec_pretty(manifest).expect("manifest serializes");
    bytes.push(b'\n');
    bytes
}

/// Checks, without creating anything, that `out` can be the output directory: neither a file
/// nor below one. `collect` runs it before any AWS call, so a wrong `--out` costs no time.
pub fn check_out_dir(out: &Path) -> Result<(), Error> {
    let reason = if out.exists() && !out.is_dir() {
        Some("it is a file, not a directory".to_string())
    } else {
        out.ancestors()
            .skip(1)
            .find(|a| a.exists() && !a.is_dir())
            .map(|file| format!("{} is a file, not a directory", file.display()))
    };
    match reason {
        Some(reason) => Err(Error::OutputDir {
            path: out.to_path_buf(),
            reason,
        }),
        None => Ok(()),
    }
}

/// Removes what killed runs left in `out`: temporary bundle directories that hold the marker a
/// run writes ([`STAGING_MARKER`]) and whose process is gone, with the temporary zip and checksum
/// of the same name. Entries of a process that still exists (another run at work), entries
/// without the marker (a folder merely named like ours) and anything not named like ours are
/// left alone; they never collide with the names of a new bundle.
fn remove_leftovers(out: &Path) {
    let Ok(entries) = fs::read_dir(out) else {
        return;
    };
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let Some(name) = file_name.to_str() else {
            continue;
        };
        let Some(pid) = leftover_pid(name) else {
            continue;
        };
        if name.ends_with(".zip") || name.ends_with(".zip.sha256") {
            continue; // removed with their directory, below
        }
        if pid == std::process::id() || process_exists(pid) {
            continue;
        }
        let path = entry.path();
        if !is_marked(&path) {
            tracing::debug!(
                "left {} alone: named like a temporary bundle but without the marker a run writes",
                path.display()
            );
            continue;
        }
        let zip = out.join(format!("{name}.zip"));
        let sha = out.join(format!("{name}.zip.sha256"));
        for (path, result) in [
            (&zip, remove_regular_file(&zip)),
            (&sha, remove_regular_file(&sha)),
            (&path, fs::remove_dir_all(&path).map(|()| true)),
        ] {
            match result {
                Ok(true) => tracing::warn!(
                    "removed {}, left by an interrupted run (process {pid} no longer exists)",
                    path.display()
                ),
                Ok(false) => {}
                Err(e) => tracing::warn!(
                    "could not remove {}, left by an interrupted run: {e}",
                    path.display()
                ),
            }
        }
    }
}

/// Whether `dir` is a real directory (not a link) holding the marker a run writes.
fn is_marked(dir: &Path) -> bool {
    let is_dir = fs::symlink_metadata(dir).is_ok_and(|m| m.is_dir());
    let marker = dir.join(STAGING_MARKER);
    is_dir
        && fs::symlink_metadata(&marker)
            .is_ok_and(|m| m.is_file() && m.len() == MARKER_TEXT.len() as u64)
        && fs::read(&marker).is_ok_and(|text| text == MARKER_TEXT.as_bytes())
}

/// Removes `path` if it is a regular file; `Ok(false)` when there is none.
fn remove_regular_file(path: &Path) -> std::io::Result<bool> {
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.is_file() => fs::remove_file(path).map(|()| true),
        Ok(_) => Ok(false),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

/// The process id in a temporary entry's name, `<TEMP_PREFIX><bundle name>-<pid>` with
/// `.zip` or `.zip.sha256` for the zip and its checksum; `None` for any other name.
fn leftover_pid(name: &str) -> Option<u32> {
    let rest = name.strip_prefix(TEMP_PREFIX)?;
    let stem = rest
        .strip_suffix(".zip.sha256")
        .or_else(|| rest.strip_suffix(".zip"))
        .unwrap_or(rest);
    let (bundle, pid) = stem.rsplit_once('-')?;
    if !bundle.starts_with("soc2-evidence-") || !pid.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    pid.parse().ok()
}

/// Whether a process with this id exists: `/proc` where there is one, else `kill -0`. When in
/// doubt, it exists.
fn process_exists(pid: u32) -> bool {
    if Path::new("/proc/self").exists() {
        return Path::new("/proc").join(pid.to_string()).exists();
    }
    match std::process::Command::new("kill")
        .args(["-0", &pid.to_string()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
    {
        Ok(status) => status.success(),
        Err(_) => true,
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

    let mut rel_files = list_files(root).map_err(err)?;
    rel_files.retain(|rel| rel != STAGING_MARKER);
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::bundle::manifest::{
        Account, BundleStatus, FindingsSummary, Manifest, Run, RunOptions, Tool, SCHEMA_VERSION,
    };

    const NAME: &str = "soc2-evidence-123456789012-20261122T070509Z";

    fn manifest() -> Manifest {
        Manifest {
            schema_version: SCHEMA_VERSION,
            tool: Tool {
                name: "soc2-evidence".into(),
                version: "0".into(),
            },
            run: Run {
                id: "run".into(),
                started_at: String::new(),
                finished_at: String::new(),
                duration_ms: 0,
                api_calls: 0,
                api_retries: 0,
                options: RunOptions::default(),
            },
            account: Account {
                id: "123456789012".into(),
                partition: "aws".into(),
                caller_arn: String::new(),
                aliases: None,
            },
            regions: Vec::new(),
            status: BundleStatus::Complete,
            collectors: Vec::new(),
            files: Vec::new(),
            findings_summary: FindingsSummary::default(),
            controls: BTreeMap::new(),
            derived_from: None,
            table_cells: None,
        }
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_finished_bundle_has_three_final_names_and_no_temporary_one() {
        let out = tempfile::tempdir().unwrap();
        let staging = Staging::create(out.path(), NAME).unwrap();
        files::write_file(staging.root(), "evidence/x/a.json", b"{}\n", None).unwrap();
        let paths = staging.finish(&manifest()).unwrap();
        assert_eq!(
            names(out.path()),
            [
                NAME.to_string(),
                format!("{NAME}.zip"),
                format!("{NAME}.zip.sha256")
            ]
        );
        use std::os::unix::fs::MetadataExt;
        assert_eq!(fs::metadata(&paths.zip).unwrap().nlink(), 1);
        assert!(paths.directory.join("manifest.json").is_file());
    }

    #[test]
    fn a_name_taken_while_the_bundle_was_built_is_left_alone_and_nothing_is_placed() {
        for (taken, kind) in [
            (format!("{NAME}.zip"), "zip"),
            (format!("{NAME}.zip.sha256"), "checksum"),
            (NAME.to_string(), "directory"),
        ] {
            let out = tempfile::tempdir().unwrap();
            let staging = Staging::create(out.path(), NAME).unwrap();
            files::write_file(staging.root(), "evidence/x/a.json", b"{}\n", None).unwrap();
            // Another run of the same account in the same second got there first.
            if kind == "directory" {
                fs::create_dir(out.path().join(&taken)).unwrap();
                fs::write(out.path().join(&taken).join("theirs"), "theirs").unwrap();
            } else {
                fs::write(out.path().join(&taken), "theirs").unwrap();
            }
            let err = staging.finish(&manifest()).unwrap_err();
            assert!(
                matches!(&err, Error::BundleExists { path } if path.ends_with(&taken)),
                "{kind}: {err}"
            );
            assert_eq!(names(out.path()), vec![taken.clone()], "{kind}");
            let theirs = if kind == "directory" {
                out.path().join(&taken).join("theirs")
            } else {
                out.path().join(&taken)
            };
            assert_eq!(fs::read_to_string(theirs).unwrap(), "theirs", "{kind}");
        }
    }

    #[test]
    fn placing_a_file_never_replaces_one() {
        let dir = tempfile::tempdir().unwrap();
        let (from, to) = (dir.path().join("new"), dir.path().join("old"));
        fs::write(&from, "new").unwrap();
        fs::write(&to, "old").unwrap();
        assert!(matches!(
            place_file(&from, &to),
            Err(Error::BundleExists { .. })
        ));
        assert_eq!(fs::read_to_string(&to).unwrap(), "old");
    }

    #[test]
    fn an_unfinished_bundle_removes_its_temporary_entries() {
        let out = tempfile::tempdir().unwrap();
        let staging = Staging::create(out.path(), NAME).unwrap();
        files::write_file(staging.root(), "evidence/x/a.json", b"{}\n", None).unwrap();
        fs::write(&staging.tmp_zip, "half a zip").unwrap();
        assert_eq!(names(out.path()).len(), 2);
        drop(staging);
        assert_eq!(names(out.path()), Vec::<String>::new());
    }

    #[test]
    fn the_staging_marker_is_in_the_temporary_bundle_but_never_in_the_finished_one() {
        let out = tempfile::tempdir().unwrap();
        let staging = Staging::create(out.path(), NAME).unwrap();
        assert!(is_marked(staging.root()));
        files::write_file(staging.root(), "evidence/x/a.json", b"{}\n", None).unwrap();
        let paths = staging.finish(&manifest()).unwrap();
        assert!(!paths.directory.join(STAGING_MARKER).exists());
        let zip = zip::ZipArchive::new(fs::File::open(&paths.zip).unwrap()).unwrap();
        assert!(zip.file_names().all(|n| !n.contains(STAGING_MARKER)));
    }

    #[test]
    fn temporary_names_carry_the_pid_of_their_run() {
        let stem = format!("{TEMP_PREFIX}{NAME}-4242");
        assert_eq!(leftover_pid(&stem), Some(4242));
        assert_eq!(leftover_pid(&format!("{stem}.zip")), Some(4242));
        assert_eq!(leftover_pid(&format!("{stem}.zip.sha256")), Some(4242));
        for foreign in [
            NAME.to_string(),
            format!("{NAME}.zip"),
            format!("{TEMP_PREFIX}notes"),
            format!("{TEMP_PREFIX}other-tool-4242"),
            format!("{TEMP_PREFIX}{NAME}-"),
            format!("{TEMP_PREFIX}{NAME}-42x"),
            format!("{stem}.tar"),
        ] {
            assert_eq!(leftover_pid(&foreign), None, "{foreign}");
        }
    }

    #[test]
    fn leftovers_of_gone_processes_are_removed_and_those_of_live_ones_kept() {
        let out = tempfile::tempdir().unwrap();
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let gone = child.id();
        child.wait().unwrap();
        assert!(!process_exists(gone), "pid {gone} was reused at once");
        let live = std::process::id();
        assert!(process_exists(live));
        for pid in [gone, live] {
            let stem = format!("{TEMP_PREFIX}{NAME}-{pid}");
            fs::create_dir_all(out.path().join(&stem).join("evidence")).unwrap();
            fs::write(out.path().join(&stem).join(STAGING_MARKER), MARKER_TEXT).unwrap();
            fs::write(out.path().join(format!("{stem}.zip")), "zip").unwrap();
        }
        // Named like a leftover of a gone process, but not marked: a bundle of that name.
        let unmarked = format!("{TEMP_PREFIX}{NAME}-report-20261122T070509Z-2");
        fs::create_dir_all(out.path().join(&unmarked).join("evidence")).unwrap();
        fs::write(out.path().join(format!("{unmarked}.zip")), "zip").unwrap();
        remove_leftovers(out.path());
        assert_eq!(
            names(out.path()),
            [
                format!("{TEMP_PREFIX}{NAME}-{live}"),
                format!("{TEMP_PREFIX}{NAME}-{live}.zip"),
                unmarked.clone(),
                format!("{unmarked}.zip"),
            ]
        );
    }

    #[test]
    fn an_output_path_that_is_or_lies_below_a_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("file");
        fs::write(&file, "").unwrap();
        for (out, reason) in [
            (file.clone(), "it is a file, not a directory".to_string()),
            (
                file.join("a/b"),
                format!("{} is a file, not a directory", file.display()),
            ),
        ] {
            match check_out_dir(&out) {
                Err(Error::OutputDir { reason: got, .. }) => assert_eq!(got, reason),
                other => panic!("{out:?}: {other:?}"),
            }
        }
        assert!(check_out_dir(&dir.path().join("new/evidence")).is_ok());
    }
}
