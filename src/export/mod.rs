//! Turning an outcome into what users read and share: the summary (one serde struct, written as a
//! table, JSON or CSV) and the per-minute series. One file per format.

pub mod bill;
pub mod csv;
pub mod exporter;
pub mod json;
pub mod markdown;
pub mod page;
pub mod per_minute;
pub mod results;
pub mod summary;
pub mod table;

use std::io::Write;
use std::path::Path;

/// Writes `path` atomically: the bytes go to a temporary file beside it, which is renamed into
/// place only when complete, so a failed run never leaves half a file behind.
///
/// `-` means stdout. A path that exists and is not a regular file (`/dev/stdout`, `/dev/null`, a
/// pipe) is written in place: renaming over it would replace the device with a file.
/// A temporary-file builder whose files and directories get the modes the umask gives ordinary
/// ones (0666 / 0777 less the umask) rather than tempfile's private 0600 / 0700: they become the
/// user's outputs when renamed into place.
pub fn temp_builder() -> tempfile::Builder<'static, 'static> {
    let mut b = tempfile::Builder::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        b.permissions(std::fs::Permissions::from_mode(0o666));
    }
    b
}

/// As [`temp_builder`], for a directory (0777 less the umask).
pub fn temp_dir_builder() -> tempfile::Builder<'static, 'static> {
    let mut b = tempfile::Builder::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        b.permissions(std::fs::Permissions::from_mode(0o777));
    }
    b
}

pub fn write_atomic(
    path: &Path,
    fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(), crate::error::WriteError> {
    use crate::error::WriteError;
    let at = |what: &str| {
        let what = format!("{}: {what}", path.display());
        move |e| WriteError::io(what, e)
    };
    if path.as_os_str() == "-" {
        let stdout = std::io::stdout();
        let mut w = std::io::BufWriter::new(stdout.lock());
        fill(&mut w)
            .and_then(|()| w.flush())
            .map_err(|e| WriteError::io("cannot write to stdout", e))?;
        return Ok(());
    }
    if let Ok(meta) = std::fs::metadata(path)
        && !meta.is_file()
    {
        if meta.is_dir() {
            return Err(WriteError {
                what: format!("{}: is a directory, not a file", path.display()),
                source: None,
            });
        }
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .map_err(at("cannot open for writing"))?;
        let mut w = std::io::BufWriter::new(file);
        fill(&mut w)
            .and_then(|()| w.flush())
            .map_err(at("write failed"))?;
        return Ok(());
    }
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    // Created as open(2) would create the file itself (0666 less the umask), not tempfile's
    // private 0600: the output is the user's file, renamed into place.
    let mut tmp = temp_builder().tempfile_in(dir).map_err(at(&format!(
        "cannot create a temporary file in {}",
        dir.display()
    )))?;
    {
        let mut w = std::io::BufWriter::new(tmp.as_file_mut());
        fill(&mut w).map_err(at("write failed"))?;
        w.flush().map_err(at("write failed"))?;
    }
    tmp.persist(path)
        .map_err(|e| at("cannot move the finished file into place")(e.error))?;
    Ok(())
}
