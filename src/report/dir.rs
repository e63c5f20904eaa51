//! Where a report goes, and writing it atomically: everything is built in a temporary directory
//! beside the target and renamed into place at the end, so a failed run leaves nothing behind and
//! a reader never sees half a report. An existing report is replaced only with `--force`, and
//! only when it is one (it has the marker file): `--force` never deletes a directory faasplan did
//! not write.

use std::fs;
use std::path::{Path, PathBuf};

use super::{Block, Document, ReportError, html, markdown, render};

/// The file that marks a directory as a faasplan report (so `--force` may replace it).
pub const MARKER: &str = ".faasplan-report";

/// `reports/<command>-<trace file stem>`, the default `--report` directory.
pub fn default_dir(command: &str, trace: &Path) -> PathBuf {
    let stem = trace
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let clean: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let clean = clean.trim_matches('.');
    if clean.is_empty() {
        PathBuf::from("reports").join(command)
    } else {
        PathBuf::from("reports").join(format!("{command}-{clean}"))
    }
}

/// A report directory that has been checked, before any work is done, to be writable: it does
/// not exist yet, or `--force` was given and it is a faasplan report (or empty).
#[derive(Debug, Clone)]
pub struct ReportTarget {
    dir: PathBuf,
    force: bool,
}

/// What a report write produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub dir: PathBuf,
    /// File names inside `dir`, in the order written (charts, then `index.html`, `summary.md`).
    pub files: Vec<String>,
}

impl Written {
    pub fn index(&self) -> PathBuf {
        self.dir.join("index.html")
    }
}

impl ReportTarget {
    /// Checks `dir` now, so that a long run does not end in "already exists".
    pub fn new(dir: impl Into<PathBuf>, force: bool) -> Result<ReportTarget, ReportError> {
        let dir = dir.into();
        if dir.file_name().is_none() {
            return Err(ReportError::BadDir { dir });
        }
        let t = ReportTarget { dir, force };
        t.check()?;
        Ok(t)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Ok when the directory can be (re)placed; returns whether something is there now.
    fn check(&self) -> Result<bool, ReportError> {
        let meta = match fs::symlink_metadata(&self.dir) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(ReportError::io(&self.dir, "cannot inspect", e)),
        };
        if !self.force {
            return Err(ReportError::Exists {
                dir: self.dir.clone(),
            });
        }
        if !meta.is_dir() {
            return Err(ReportError::NotAReport {
                dir: self.dir.clone(),
            });
        }
        let is_report = self.dir.join(MARKER).is_file();
        let empty = fs::read_dir(&self.dir)
            .map_err(|e| ReportError::io(&self.dir, "cannot list", e))?
            .next()
            .is_none();
        if is_report || empty {
            Ok(true)
        } else {
            Err(ReportError::NotAReport {
                dir: self.dir.clone(),
            })
        }
    }

    fn parent(&self) -> PathBuf {
        match self.dir.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        }
    }

    /// Renders every chart and writes the HTML, the Markdown and the marker into a temporary
    /// directory beside the target, then moves it into place.
    pub(crate) fn write(&self, doc: &Document) -> Result<Written, ReportError> {
        self.check()?;
        let parent = self.parent();
        fs::create_dir_all(&parent).map_err(|e| ReportError::io(&parent, "cannot create", e))?;
        let name = self
            .dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        crate::export::remove_stale_staging(&parent, &name);
        let staging = crate::export::temp_dir_builder()
            .prefix(&crate::export::staging_prefix(&name, "tmp"))
            .tempdir_in(&parent)
            .map_err(|e| ReportError::io(&parent, "cannot create a temporary directory here", e))?;
        let mut files = Vec::new();
        for block in &doc.blocks {
            if let Block::Chart(c) = block {
                render::render_png(&staging.path().join(&c.file), &*c.draw)?;
                files.push(c.file.clone());
            }
        }
        let put = |file: &str, bytes: &[u8]| {
            let p = staging.path().join(file);
            fs::write(&p, bytes).map_err(|e| ReportError::io(&p, "cannot write", e))
        };
        put("index.html", html::render(doc).as_bytes())?;
        put("summary.md", markdown::render(doc).as_bytes())?;
        put(
            MARKER,
            b"written by faasplan --report; --force may replace this directory\n",
        )?;
        files.push("index.html".into());
        files.push("summary.md".into());
        self.commit(staging, &parent, &name)?;
        Ok(Written {
            dir: self.dir.clone(),
            files,
        })
    }

    /// Moves the finished staging directory into place, replacing an old report if `--force`
    /// allowed it. On failure the old report is put back.
    fn commit(
        &self,
        staging: tempfile::TempDir,
        parent: &Path,
        name: &str,
    ) -> Result<(), ReportError> {
        let exists = self.check()?;
        if !exists {
            fs::rename(staging.path(), &self.dir)
                .map_err(|e| ReportError::io(&self.dir, "cannot move the finished report to", e))?;
            let _kept = staging.keep();
            return Ok(());
        }
        // Move the old report aside (rename does not replace a non-empty directory), move the
        // new one in, then delete the old one.
        let old = tempfile::Builder::new()
            .prefix(&crate::export::staging_prefix(name, "old"))
            .tempdir_in(parent)
            .map_err(|e| ReportError::io(parent, "cannot create a temporary directory here", e))?;
        let old_path = old.path().join(name);
        fs::rename(&self.dir, &old_path)
            .map_err(|e| ReportError::io(&self.dir, "cannot move the old report aside", e))?;
        if let Err(e) = fs::rename(staging.path(), &self.dir) {
            // Put the old report back; if even that fails, say where it is.
            return match fs::rename(&old_path, &self.dir) {
                Ok(()) => Err(ReportError::io(
                    &self.dir,
                    "cannot move the finished report to",
                    e,
                )),
                Err(_) => {
                    let kept = old.keep();
                    Err(ReportError::io(
                        &kept.join(name),
                        "the new report could not be moved in; the old report is kept at",
                        e,
                    ))
                }
            };
        }
        let _kept = staging.keep();
        // `old` (with the previous report inside) is deleted when dropped.
        drop(old);
        Ok(())
    }
}
