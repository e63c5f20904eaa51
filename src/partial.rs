//! Partial result files: what one shard of a run writes (`--shard I/N --partial FILE`) and
//! `faasplan merge` reads.
//!
//! A partial is self-describing and versioned, and a checksum covers it whole:
//!
//! ```text
//! faasplan partial\n                       the magic line
//! {"format":2,"faasplan":"0.1.0",...}\n    the header: one line of JSON (see Header)
//! <payload>                                the shard's state (postcard), `payload_bytes` long
//! <section>...                             raw byte sections, as long as `sections` says
//!                                          (a simulate shard's level-change logs)
//! <crc32>                                  CRC-32 of everything before it, 4 bytes little-endian
//! ```
//!
//! The sections let a shard write what it spilled to a file during its run without holding it
//! (issue 16), and the merge read them without decoding them into a copy.
//!
//! `head -2 FILE` shows what a partial is. A truncated or corrupt file fails its checksum; one
//! from another version of faasplan or of the format is refused by name.

use std::path::{Path, PathBuf};

use crate::shard::Shard;

/// The first line of every partial.
pub const MAGIC: &[u8] = b"faasplan partial\n";
/// The layout of the header, payload and sections; any change to any of them bumps it.
pub const FORMAT: u32 = 2;
/// The version of faasplan that wrote a partial: only the same version merges it (the engine's
/// numbers may differ between versions).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The longest header line read (a real one is a few hundred bytes to a few kilobytes).
const MAX_HEADER: u64 = 1 << 20;

/// What a partial says about itself.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Header {
    pub format: u32,
    pub faasplan: String,
    /// The command whose shard this is (`simulate`, `sweep`).
    pub command: String,
    /// `I/N`.
    pub shard: String,
    /// A fingerprint of the input the shard read (hex), to check that every shard and the merge
    /// read the same data.
    pub input: String,
    /// The command's arguments, without the shard's own (`--shard`, `--partial`) and output
    /// options: every shard of one run has the same.
    pub args: Vec<String>,
    /// A fingerprint of the settings the arguments resolved to (hex), files they name included
    /// (an offering, an `empirical:` init file, a Power Tuning file): the same arguments over
    /// other files are other settings.
    pub settings: String,
    pub payload_bytes: u64,
    /// The raw sections after the payload: their lengths in bytes. (Format 1 had none: its
    /// header parses, and is refused by its format.)
    #[serde(default)]
    pub sections: Vec<u64>,
}

impl Header {
    pub fn new(
        command: &str,
        shard: Shard,
        input: u64,
        args: Vec<String>,
        settings: u64,
    ) -> Header {
        Header {
            format: FORMAT,
            faasplan: VERSION.to_string(),
            command: command.to_string(),
            shard: shard.to_string(),
            input: format!("{input:016x}"),
            args,
            settings: format!("{settings:016x}"),
            payload_bytes: 0,
            sections: Vec::new(),
        }
    }

    /// The shard, as written.
    pub fn shard(&self) -> Result<Shard, crate::shard::ShardError> {
        self.shard.parse()
    }
}

/// Why a partial could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum PartialError {
    #[error("{}: not a faasplan partial result (it does not start with \"faasplan partial\")", .0.display())]
    NotAPartial(PathBuf),
    #[error("{}: the partial is truncated or corrupt: {why}", .path.display())]
    Corrupt { path: PathBuf, why: String },
    #[error(
        "{}: written by faasplan {theirs} (partial format {their_format}); this is faasplan {VERSION} \
         (format {FORMAT}): merge partials with the version that wrote them",
        .path.display()
    )]
    OtherVersion {
        path: PathBuf,
        theirs: String,
        their_format: u32,
    },
    #[error("{}: cannot read: {err}", .path.display())]
    Io { path: PathBuf, err: std::io::Error },
    #[error(
        "{}: not a regular file: a merge reads a partial twice (its checksum, then its logs); \
         give it as a file",
        .0.display()
    )]
    NotAFile(PathBuf),
    #[error("cannot encode the partial: {0}")]
    Encode(String),
}

/// A fingerprint of resolved settings: a stable hash of their `Debug` form (which holds every
/// value, the contents of files the settings were read from included). Only the same version of
/// faasplan compares two (the version is checked first).
pub fn settings_fingerprint(settings: &impl std::fmt::Debug) -> u64 {
    crate::seed::hash_bytes(format!("{settings:?}").as_bytes())
}

/// A raw section of a partial, written after the payload.
pub trait Section {
    /// Bytes it writes.
    fn len(&self) -> u64;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The CRC-32 state of its bytes alone.
    fn crc(&self) -> crc32fast::Hasher;
    fn write_to(&self, w: &mut dyn std::io::Write) -> std::io::Result<()>;
}

impl Section for Vec<u8> {
    fn len(&self) -> u64 {
        Vec::len(self) as u64
    }
    fn crc(&self) -> crc32fast::Hasher {
        let mut h = crc32fast::Hasher::new();
        h.update(self);
        h
    }
    fn write_to(&self, w: &mut dyn std::io::Write) -> std::io::Result<()> {
        w.write_all(self)
    }
}

/// Encodes a partial: the header (its `payload_bytes` and `sections` set here), a payload and
/// raw sections.
pub fn encode<T: serde::Serialize>(
    header: Header,
    payload: &T,
    sections: &[&dyn Section],
) -> Result<Vec<u8>, PartialError> {
    let e = Encoded::new(header, payload, sections)?;
    let mut out = Vec::with_capacity(e.len() as usize);
    e.write_to(&mut out)
        .map_err(|e| PartialError::Encode(e.to_string()))?;
    Ok(out)
}

/// A partial in its parts (the bytes [`encode`] gives, not put together): a shard of a large
/// run writes hundreds of megabytes, and holding them once, sized exactly, or not at all (a
/// section spilled to a file), is what keeps its memory near its engine's (issue 16).
pub struct Encoded<'a> {
    head: Vec<u8>,
    body: Vec<u8>,
    sections: &'a [&'a dyn Section],
    crc: [u8; 4],
}

impl<'a> Encoded<'a> {
    pub fn new<T: serde::Serialize>(
        mut header: Header,
        payload: &T,
        sections: &'a [&'a dyn Section],
    ) -> Result<Encoded<'a>, PartialError> {
        let encode_error = |e: postcard::Error| PartialError::Encode(e.to_string());
        let size = postcard::experimental::serialized_size(payload).map_err(encode_error)?;
        let body = postcard::to_extend(payload, Vec::with_capacity(size)).map_err(encode_error)?;
        header.payload_bytes = body.len() as u64;
        header.sections = sections.iter().map(|s| s.len()).collect();
        let mut head = MAGIC.to_vec();
        serde_json::to_writer(&mut head, &header)
            .map_err(|e| PartialError::Encode(e.to_string()))?;
        head.push(b'\n');
        let mut crc = crc32fast::Hasher::new();
        crc.update(&head);
        crc.update(&body);
        for s in sections {
            crc.combine(&s.crc());
        }
        Ok(Encoded {
            head,
            body,
            sections,
            crc: crc.finalize().to_le_bytes(),
        })
    }

    /// Bytes in all.
    pub fn len(&self) -> u64 {
        (self.head.len() + self.body.len() + self.crc.len()) as u64
            + self.sections.iter().map(|s| s.len()).sum::<u64>()
    }

    pub fn is_empty(&self) -> bool {
        false
    }

    pub fn write_to(&self, w: &mut dyn std::io::Write) -> std::io::Result<()> {
        w.write_all(&self.head)?;
        w.write_all(&self.body)?;
        for s in self.sections {
            s.write_to(w)?;
        }
        w.write_all(&self.crc)
    }
}

/// A partial read back: its header, payload and sections.
#[derive(Debug)]
pub struct Read {
    pub header: Header,
    pub payload: Vec<u8>,
    pub sections: Vec<Vec<u8>>,
}

/// A partial checked and indexed: its header and payload, and where its sections are in the
/// file (offset, length), not read; and the file, opened once, the checksum read through it.
#[derive(Debug)]
pub struct Indexed {
    pub header: Header,
    pub payload: Vec<u8>,
    pub sections: Vec<(u64, u64)>,
    pub file: std::fs::File,
}

/// Reads a partial and checks its checksum and version. The file is read in its parts, each
/// into its own buffer, once its length is known to fit the file's.
pub fn read(path: &Path) -> Result<Read, PartialError> {
    let mut sections = Vec::new();
    let (header, payload, _, _) = read_parts(path, Some(&mut sections))?;
    Ok(Read {
        header,
        payload,
        sections,
    })
}

/// [`read`], holding only the header and the payload: the sections are read a block at a time
/// for the checksum, and their places given, for a reader that reads them again as it needs
/// them (the merge: a shard's log is most of its partial).
pub fn index(path: &Path) -> Result<Indexed, PartialError> {
    let (header, payload, sections, file) = read_parts(path, None)?;
    Ok(Indexed {
        header,
        payload,
        sections,
        file,
    })
}

/// Reads and checks a partial: its header, its payload, its sections' places and the file it
/// read; the sections' bytes go to `hold` if given.
#[allow(clippy::type_complexity)]
fn read_parts(
    path: &Path,
    mut hold: Option<&mut Vec<Vec<u8>>>,
) -> Result<(Header, Vec<u8>, Vec<(u64, u64)>, std::fs::File), PartialError> {
    use std::io::{BufRead, Read as _};
    let io = |err| PartialError::Io {
        path: path.to_path_buf(),
        err,
    };
    let corrupt = |why: &str| PartialError::Corrupt {
        path: path.to_path_buf(),
        why: why.to_string(),
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let meta = file.metadata().map_err(io)?;
    if !meta.is_file() {
        return Err(PartialError::NotAFile(path.to_path_buf()));
    }
    let size = meta.len();
    let mut r = std::io::BufReader::new(&file);
    let mut crc = crc32fast::Hasher::new();
    let mut magic = Vec::new();
    (&mut r)
        .take(MAGIC.len() as u64)
        .read_to_end(&mut magic)
        .map_err(io)?;
    if magic != MAGIC {
        return Err(PartialError::NotAPartial(path.to_path_buf()));
    }
    crc.update(&magic);
    // The header is a line of a few hundred bytes: a file without one is not read whole.
    let mut line = Vec::new();
    (&mut r)
        .take(MAX_HEADER)
        .read_until(b'\n', &mut line)
        .map_err(io)?;
    crc.update(&line);
    let mut at = (magic.len() + line.len()) as u64;
    if line.pop() != Some(b'\n') {
        return Err(corrupt("it has no header line"));
    }
    let header: Header =
        serde_json::from_slice(&line).map_err(|e| corrupt(&format!("its header: {e}")))?;
    // The lengths the header gives must add up to the file's before anything is allocated
    // for them (a corrupt header may claim any).
    let parts: Option<u64> = std::iter::once(header.payload_bytes)
        .chain(header.sections.iter().copied())
        .try_fold(at + 4, |a, b| a.checked_add(b));
    if parts != Some(size) {
        // A header of another format may not say its lengths so: name the version first.
        if header.format == FORMAT && header.faasplan == VERSION {
            return Err(corrupt("its length is not the one its header gives"));
        }
    }
    if header.format != FORMAT || header.faasplan != VERSION {
        return Err(PartialError::OtherVersion {
            path: path.to_path_buf(),
            theirs: header.faasplan,
            their_format: header.format,
        });
    }
    let ends_early = |e: std::io::Error| match e.kind() {
        std::io::ErrorKind::UnexpectedEof => corrupt("it ends early"),
        _ => io(e),
    };
    let mut payload = vec![0u8; header.payload_bytes as usize];
    r.read_exact(&mut payload).map_err(ends_early)?;
    crc.update(&payload);
    at += header.payload_bytes;
    let mut places = Vec::with_capacity(header.sections.len());
    for &n in &header.sections {
        places.push((at, n));
        at += n;
        match hold.as_deref_mut() {
            Some(held) => {
                let mut buf = vec![0u8; n as usize];
                r.read_exact(&mut buf).map_err(ends_early)?;
                crc.update(&buf);
                held.push(buf);
            }
            None => {
                let mut left = n;
                while left > 0 {
                    let buf = r.fill_buf().map_err(io)?;
                    if buf.is_empty() {
                        return Err(corrupt("it ends early"));
                    }
                    let k = buf.len().min(left as usize);
                    crc.update(&buf[..k]);
                    r.consume(k);
                    left -= k as u64;
                }
            }
        }
    }
    let mut want = [0u8; 4];
    r.read_exact(&mut want)
        .map_err(|_| corrupt("it ends early"))?;
    if crc.finalize() != u32::from_le_bytes(want) {
        return Err(corrupt("its CRC-32 checksum does not match"));
    }
    drop(r);
    Ok((header, payload, places, file))
}

/// Decodes a payload read by [`read`].
pub fn decode<T: serde::de::DeserializeOwned>(
    path: &Path,
    payload: &[u8],
) -> Result<T, PartialError> {
    postcard::from_bytes(payload).map_err(|e| PartialError::Corrupt {
        path: path.to_path_buf(),
        why: format!("its payload: {e}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<u8> {
        let h = Header::new(
            "simulate",
            Shard::new(1, 4).unwrap(),
            0xabc,
            vec!["t.csv".into()],
            7,
        );
        let (log, empty) = (b"log bytes".to_vec(), Vec::new());
        encode(h, &(7u32, vec![1u64, 2, 3]), &[&log, &empty]).unwrap()
    }

    fn write(bytes: &[u8]) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("p.fpp");
        std::fs::write(&p, bytes).unwrap();
        (dir, p)
    }

    #[test]
    fn a_partial_reads_back() {
        let (_d, p) = write(&sample());
        let back = read(&p).unwrap();
        let h = &back.header;
        assert_eq!(h.shard().unwrap(), Shard::new(1, 4).unwrap());
        assert_eq!(h.input, "0000000000000abc");
        let v: (u32, Vec<u64>) = decode(&p, &back.payload).unwrap();
        assert_eq!(v, (7, vec![1, 2, 3]));
        assert_eq!(back.sections, vec![b"log bytes".to_vec(), Vec::new()]);
        // Indexed, the sections are where their bytes are in the file.
        let ix = index(&p).unwrap();
        assert_eq!((ix.header, ix.payload), (back.header, back.payload));
        let file = std::fs::read(&p).unwrap();
        for ((off, len), bytes) in ix.sections.iter().zip(&back.sections) {
            assert_eq!(&file[*off as usize..(off + len) as usize], &bytes[..]);
        }
    }

    /// A format-1 partial (no sections in its header) is refused by its format, not called
    /// corrupt; so is any other version's.
    #[test]
    fn a_partial_of_another_format_is_refused_by_name() {
        let mut bytes = MAGIC.to_vec();
        bytes.extend_from_slice(
            br#"{"format":1,"faasplan":"0.1.0","command":"simulate","shard":"0/2","input":"00","args":[],"settings":"00","payload_bytes":3}"#,
        );
        bytes.extend_from_slice(b"\nabc");
        let crc = crc32fast::hash(&bytes);
        bytes.extend_from_slice(&crc.to_le_bytes());
        let (_d, p) = write(&bytes);
        for e in [read(&p).unwrap_err(), index(&p).unwrap_err()] {
            assert!(
                matches!(
                    e,
                    PartialError::OtherVersion {
                        their_format: 1,
                        ..
                    }
                ),
                "{e}"
            );
            assert!(e.to_string().contains("partial format 1"), "{e}");
        }
    }

    #[test]
    fn a_partial_that_is_not_a_regular_file_is_refused_clearly() {
        let dir = tempfile::tempdir().unwrap();
        let e = index(dir.path()).unwrap_err();
        assert!(e.to_string().contains("not a regular file"), "{e}");
    }

    #[test]
    fn every_truncation_and_every_flipped_byte_is_refused() {
        let good = sample();
        for n in 0..good.len() {
            let (_d, p) = write(&good[..n]);
            assert!(read(&p).is_err(), "truncated to {n}");
            assert!(index(&p).is_err(), "truncated to {n}");
        }
        for i in 0..good.len() {
            let mut bad = good.clone();
            bad[i] ^= 0x10;
            let (_d, p) = write(&bad);
            assert!(read(&p).is_err(), "byte {i} flipped");
            assert!(index(&p).is_err(), "byte {i} flipped");
        }
    }
}
