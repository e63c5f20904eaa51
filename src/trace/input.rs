//! A trace input, opened once: a regular file, a pipe or FIFO (`/dev/stdin`, `<(cmd)`), or
//! standard input (`-`).
//!
//! Sniffing the format reads a head of the input, and the reader then continues from that head:
//! nothing is opened or read twice, so a pipe loses no rows and a FIFO does not hang waiting for a
//! second writer.

use std::io::{Chain, Cursor, Read};
use std::path::{Path, PathBuf};

use crate::error::TraceError;

/// The name standard input goes by in messages.
pub const STDIN_NAME: &str = "<stdin>";

/// The whole of an input as a reader: the head already read, then the rest.
pub type InputReader = Chain<Cursor<Vec<u8>>, Box<dyn Read + Send>>;

/// An opened trace input and the bytes already taken from it.
pub struct Input {
    /// How messages name it: the path as given, or [`STDIN_NAME`] for `-`.
    path: PathBuf,
    head: Vec<u8>,
    head_read: bool,
    rest: Box<dyn Read + Send>,
    /// The size of a regular file; `None` for pipes, FIFOs, sockets and terminals.
    regular_len: Option<u64>,
}

impl std::fmt::Debug for Input {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Input")
            .field("path", &self.path)
            .field("head", &self.head.len())
            .field("regular_len", &self.regular_len)
            .finish()
    }
}

impl Input {
    /// Opens `path`; `-` is standard input. A directory is refused here, by name.
    pub fn open(path: &Path) -> Result<Input, TraceError> {
        if path.as_os_str() == "-" {
            return Ok(Input::from_reader(
                Path::new(STDIN_NAME),
                Box::new(std::io::stdin()),
            ));
        }
        let io = |error| TraceError::Io {
            path: path.to_path_buf(),
            error,
        };
        let file = std::fs::File::open(path).map_err(io)?;
        let meta = file.metadata().map_err(io)?;
        if meta.is_dir() {
            return Err(TraceError::Invalid {
                path: path.to_path_buf(),
                reason: "is a directory, not a trace file".into(),
            });
        }
        let mut input = Input::from_reader(path, Box::new(file));
        input.regular_len = meta.is_file().then_some(meta.len());
        Ok(input)
    }

    /// An input read from `reader`, named `path` in messages (a test's bytes, a decompressor).
    pub fn from_reader(path: &Path, reader: Box<dyn Read + Send>) -> Input {
        Input {
            path: path.to_path_buf(),
            head: Vec::new(),
            head_read: false,
            rest: reader,
            regular_len: None,
        }
    }

    /// How messages name the input.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The size of a regular file; `None` when the input can only be read once, front to back.
    pub fn regular_len(&self) -> Option<u64> {
        self.regular_len
    }

    /// The first `max` bytes (fewer if the input is shorter), read on the first call; later calls
    /// return the same bytes whatever `max` they give. The reader still sees them.
    pub fn head(&mut self, max: usize) -> Result<&[u8], TraceError> {
        if !self.head_read {
            self.head_read = true;
            let mut taken = (&mut self.rest).take(max as u64);
            taken
                .read_to_end(&mut self.head)
                .map_err(|error| TraceError::Io {
                    path: self.path.clone(),
                    error,
                })?;
        }
        Ok(&self.head)
    }

    /// The whole input from its first byte: the head already read, then the rest.
    pub fn into_reader(self) -> InputReader {
        Cursor::new(self.head).chain(self.rest)
    }

    /// The path and the reader (see [`Input::into_reader`]).
    pub fn into_parts(self) -> (PathBuf, InputReader) {
        let path = self.path.clone();
        (path, self.into_reader())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(bytes: &'static [u8]) -> Input {
        Input::from_reader(Path::new("t.csv"), Box::new(bytes))
    }

    #[test]
    fn the_reader_continues_from_the_head() {
        let mut i = input(b"abcdefgh");
        assert_eq!(i.head(3).unwrap(), b"abc");
        // A second look gives the same head, not more of the input.
        assert_eq!(i.head(100).unwrap(), b"abc");
        let mut all = String::new();
        i.into_reader().read_to_string(&mut all).unwrap();
        assert_eq!(all, "abcdefgh");
    }

    #[test]
    fn a_head_longer_than_the_input_is_the_input() {
        let mut i = input(b"ab");
        assert_eq!(i.head(10).unwrap(), b"ab");
        let mut all = Vec::new();
        i.into_reader().read_to_end(&mut all).unwrap();
        assert_eq!(all, b"ab");
    }

    #[test]
    fn a_directory_is_refused_by_name() {
        let e = Input::open(Path::new("src")).unwrap_err().to_string();
        assert!(e.contains("src") && e.contains("directory"), "{e}");
    }
}
