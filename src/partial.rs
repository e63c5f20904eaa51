//! Partial result files: what one shard of a run writes (`--shard I/N --partial FILE`) and
//! `faasplan merge` reads.
//!
//! A partial is self-describing and versioned, and a checksum covers it whole:
//!
//! ```text
//! faasplan partial\n                       the magic line
//! {"format":1,"faasplan":"0.1.0",...}\n    the header: one line of JSON (see Header)
//! <payload>                                the shard's state (postcard), `payload_bytes` long
//! <crc32>                                  CRC-32 of everything before it, 4 bytes little-endian
//! ```
//!
//! `head -2 FILE` shows what a partial is. A truncated or corrupt file fails its checksum; one
//! from another version of faasplan or of the format is refused by name.

use std::path::{Path, PathBuf};

use crate::shard::Shard;

/// The first line of every partial.
pub const MAGIC: &[u8] = b"faasplan partial\n";
/// The layout of the header and payload; any change to either bumps it.
pub const FORMAT: u32 = 1;
/// The version of faasplan that wrote a partial: only the same version merges it (the engine's
/// numbers may differ between versions).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

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
    #[error("{}: the partial is truncated or corrupt: its checksum does not match ({why})", .path.display())]
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
    #[error("cannot encode the partial: {0}")]
    Encode(String),
}

/// A fingerprint of resolved settings: a stable hash of their `Debug` form (which holds every
/// value, the contents of files the settings were read from included). Only the same version of
/// faasplan compares two (the version is checked first).
pub fn settings_fingerprint(settings: &impl std::fmt::Debug) -> u64 {
    crate::seed::hash_bytes(format!("{settings:?}").as_bytes())
}

/// Encodes a partial: the header (its `payload_bytes` set here) and a payload.
pub fn encode<T: serde::Serialize>(header: Header, payload: &T) -> Result<Vec<u8>, PartialError> {
    let e = Encoded::new(header, payload)?;
    let mut out = Vec::with_capacity(e.len());
    out.extend_from_slice(&e.head);
    out.extend_from_slice(&e.body);
    out.extend_from_slice(&e.crc);
    Ok(out)
}

/// A partial in its three parts (the bytes [`encode`] gives, not put together): a shard of a
/// large run writes hundreds of megabytes, and holding them once, sized exactly, is what keeps
/// its memory near its engine's (issue 16).
pub struct Encoded {
    head: Vec<u8>,
    body: Vec<u8>,
    crc: [u8; 4],
}

impl Encoded {
    pub fn new<T: serde::Serialize>(
        mut header: Header,
        payload: &T,
    ) -> Result<Encoded, PartialError> {
        let encode_error = |e: postcard::Error| PartialError::Encode(e.to_string());
        let size = postcard::experimental::serialized_size(payload).map_err(encode_error)?;
        let body = postcard::to_extend(payload, Vec::with_capacity(size)).map_err(encode_error)?;
        header.payload_bytes = body.len() as u64;
        let mut head = MAGIC.to_vec();
        serde_json::to_writer(&mut head, &header)
            .map_err(|e| PartialError::Encode(e.to_string()))?;
        head.push(b'\n');
        let mut crc = crc32fast::Hasher::new();
        crc.update(&head);
        crc.update(&body);
        Ok(Encoded {
            head,
            body,
            crc: crc.finalize().to_le_bytes(),
        })
    }

    /// Bytes in all.
    pub fn len(&self) -> usize {
        self.head.len() + self.body.len() + self.crc.len()
    }

    pub fn is_empty(&self) -> bool {
        false
    }

    pub fn write_to(&self, w: &mut dyn std::io::Write) -> std::io::Result<()> {
        w.write_all(&self.head)?;
        w.write_all(&self.body)?;
        w.write_all(&self.crc)
    }
}

/// Reads a partial's header and checks its checksum and version; returns the payload's bytes.
pub fn read(path: &Path) -> Result<(Header, Vec<u8>), PartialError> {
    let bytes = std::fs::read(path).map_err(|err| PartialError::Io {
        path: path.to_path_buf(),
        err,
    })?;
    let corrupt = |why: &str| PartialError::Corrupt {
        path: path.to_path_buf(),
        why: why.to_string(),
    };
    if !bytes.starts_with(MAGIC) {
        return Err(PartialError::NotAPartial(path.to_path_buf()));
    }
    if bytes.len() < MAGIC.len() + 4 {
        return Err(corrupt("too short"));
    }
    let (content, crc) = bytes.split_at(bytes.len() - 4);
    let want = u32::from_le_bytes([crc[0], crc[1], crc[2], crc[3]]);
    if crc32fast::hash(content) != want {
        return Err(corrupt("CRC-32"));
    }
    let rest = &content[MAGIC.len()..];
    let eol = rest
        .iter()
        .position(|&b| b == b'\n')
        .ok_or_else(|| corrupt("no header line"))?;
    let header: Header =
        serde_json::from_slice(&rest[..eol]).map_err(|e| corrupt(&format!("header: {e}")))?;
    if header.format != FORMAT || header.faasplan != VERSION {
        return Err(PartialError::OtherVersion {
            path: path.to_path_buf(),
            theirs: header.faasplan,
            their_format: header.format,
        });
    }
    let payload = &rest[eol + 1..];
    if payload.len() as u64 != header.payload_bytes {
        return Err(corrupt("payload length"));
    }
    Ok((header, payload.to_vec()))
}

/// Decodes a payload read by [`read`].
pub fn decode<T: serde::de::DeserializeOwned>(
    path: &Path,
    payload: &[u8],
) -> Result<T, PartialError> {
    postcard::from_bytes(payload).map_err(|e| PartialError::Corrupt {
        path: path.to_path_buf(),
        why: format!("payload: {e}"),
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
        encode(h, &(7u32, vec![1u64, 2, 3])).unwrap()
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
        let (h, payload) = read(&p).unwrap();
        assert_eq!(h.shard().unwrap(), Shard::new(1, 4).unwrap());
        assert_eq!(h.input, "0000000000000abc");
        let v: (u32, Vec<u64>) = decode(&p, &payload).unwrap();
        assert_eq!(v, (7, vec![1, 2, 3]));
    }

    #[test]
    fn every_truncation_and_every_flipped_byte_is_refused() {
        let good = sample();
        for n in 0..good.len() {
            let (_d, p) = write(&good[..n]);
            assert!(read(&p).is_err(), "truncated to {n}");
        }
        for i in 0..good.len() {
            let mut bad = good.clone();
            bad[i] ^= 0x10;
            let (_d, p) = write(&bad);
            assert!(read(&p).is_err(), "byte {i} flipped");
        }
    }
}
