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

/// True when `a` and `b` name the same existing file (the same device and inode on Unix, the
/// same canonical path elsewhere), however they are spelled: `t.csv`, `./t.csv`, a hard link or
/// a symlink. An output path that does not exist yet, or `-`, is no input's.
pub fn same_file(a: &Path, b: &Path) -> bool {
    if a.as_os_str() == "-" || b.as_os_str() == "-" {
        return false;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        match (std::fs::metadata(a), std::fs::metadata(b)) {
            (Ok(x), Ok(y)) => x.dev() == y.dev() && x.ino() == y.ino(),
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
            (Ok(x), Ok(y)) => x == y,
            _ => false,
        }
    }
}

/// The name prefix of a temporary file or directory that will become `.../NAME`:
/// `.NAME.faasplan-PID-KIND-` (KIND `tmp` for what is being written, `old` for a report moved
/// aside). The process id lets a later run tell a killed run's leftovers from a live run's.
pub fn staging_prefix(name: &str, kind: &str) -> String {
    format!(".{name}.faasplan-{}-{kind}-", std::process::id())
}

/// Removes what a killed run left in `dir` while writing `NAME`: the temporary files and
/// directories named by [`staging_prefix`] whose process is gone. A kill cannot be caught, so
/// the next run that writes the same output cleans up instead. Only processes known dead count:
/// where that cannot be told (no `/proc`, so outside Linux) nothing is removed. An `old` report
/// is removed only when NAME exists again (otherwise it is the only copy; it stays for the user).
/// Errors are ignored: cleaning up is a courtesy, and the write itself reports real problems.
pub fn remove_stale_staging(dir: &Path, name: &str) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let ours = format!(".{name}.faasplan-");
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let Some(rest) = file_name.to_str().and_then(|f| f.strip_prefix(&ours)) else {
            continue;
        };
        let mut parts = rest.splitn(3, '-');
        let (Some(pid), Some(kind)) = (parts.next(), parts.next()) else {
            continue;
        };
        let Ok(pid) = pid.parse::<u32>() else {
            continue;
        };
        if pid == std::process::id() || !process_is_gone(pid) {
            continue;
        }
        let stale = entry.path();
        match kind {
            "tmp" => {}
            "old" if dir.join(name).exists() => {}
            _ => continue,
        }
        let _ignored = if stale.is_dir() {
            std::fs::remove_dir_all(&stale)
        } else {
            std::fs::remove_file(&stale)
        };
    }
}

/// True only when process `pid` is known not to exist.
fn process_is_gone(pid: u32) -> bool {
    let proc = Path::new("/proc");
    proc.join("self").exists() && !proc.join(pid.to_string()).exists()
}

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

/// Writes `path` atomically: the bytes go to a temporary file beside it, which is renamed into
/// place only when complete, so a failed run never leaves half a file behind.
///
/// `-` means stdout. A path that exists and is not a regular file (`/dev/stdout`, `/dev/null`, a
/// pipe) is written in place: renaming over it would replace the device with a file.
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
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    remove_stale_staging(dir, &name);
    let mut tmp = temp_builder()
        .prefix(&staging_prefix(&name, "tmp"))
        .tempfile_in(dir)
        .map_err(at(&format!(
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
