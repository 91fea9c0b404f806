//! The observation period: comparing bundles over time. `diff` compares two bundles of one
//! account or organization; each bundle is reduced to a [`snapshot::Snapshot`] first.

pub mod diff;
pub mod html;
pub mod snapshot;
pub mod timeline;

use std::path::{Path, PathBuf};

use crate::bundle::files;
use crate::error::Error;

/// Writes `contents` (name, bytes) into `out`, created if missing. A name already taken is
/// refused before anything is written, and a failed write takes back what was written: the
/// files appear all or none.
pub(crate) fn write_outputs(
    out: &Path,
    contents: &[(&str, Vec<u8>)],
) -> Result<Vec<PathBuf>, Error> {
    for (name, _) in contents {
        if std::fs::symlink_metadata(out.join(name)).is_ok() {
            return Err(Error::BundleExists {
                path: out.join(name),
            });
        }
    }
    crate::bundle::writer::check_out_dir(out)?;
    files::create_dir_all(out).map_err(|e| Error::OutputDir {
        path: out.to_path_buf(),
        reason: format!("cannot create it: {e}"),
    })?;
    let mut written = Vec::new();
    for (name, bytes) in contents {
        if let Err(e) = files::write_file(out, name, bytes, None) {
            for path in &written {
                let _ = std::fs::remove_file(path);
            }
            return Err(e);
        }
        written.push(out.join(name));
    }
    Ok(written)
}
