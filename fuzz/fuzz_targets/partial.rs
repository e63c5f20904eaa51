//! A partial result as `faasplan merge` reads it: the file (magic, header, sections, checksum;
//! indexed and its logs read from it, as the merge does),
//! and, since random bytes rarely pass a CRC-32, its parts on their own too: a 4-byte
//! little-endian payload length, the payload, then the two level-change logs' bytes (as long
//! as the payload says), decoded and merged into a collector (the logs' reader). Nothing may
//! panic, however the bytes were forged.
#![no_main]

use faasplan::outcome::Collector;
use faasplan::outcome::shard::ShardOutcome;
use faasplan::time::MINUTE;
use faasplan_fuzz::scratch;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = scratch("part.fpp", data);
    if let Ok(read) = faasplan::partial::read(&path) {
        let _ = ShardOutcome::from_partial(&path, &read.payload, read.sections);
    }
    // As the merge reads it: indexed, the logs read from the file as they are applied.
    if let Ok(ix) = faasplan::partial::index(&path) {
        let file = faasplan::outcome::shard::SectionFile {
            file: std::sync::Arc::new(ix.file),
            path: path.clone(),
        };
        if let Ok(part) = ShardOutcome::from_partial_file(&file, &ix.payload, &ix.sections)
            && let Ok(mut col) = Collector::from_shards(MINUTE, Some(60 * MINUTE), &[&part])
        {
            col.finish(60 * MINUTE);
        }
    }
    let Some((len, rest)) = data.split_first_chunk::<4>() else {
        return;
    };
    let Some((payload, rest)) = rest.split_at_checked(u32::from_le_bytes(*len) as usize) else {
        return;
    };
    let Ok(part) = faasplan::partial::decode::<ShardOutcome>(&path, payload) else {
        return;
    };
    let n = usize::try_from(part.log.bytes()).unwrap_or(usize::MAX);
    let Some((log, finish_log)) = rest.split_at_checked(n.min(rest.len())) else {
        return;
    };
    let sections = vec![log.to_vec(), finish_log.to_vec()];
    if let Ok(part) = ShardOutcome::from_partial(&path, payload, sections) {
        // The merge's clip is its own (a validated horizon), never the partial's.
        if let Ok(mut col) = Collector::from_shards(MINUTE, Some(60 * MINUTE), &[&part, &part]) {
            col.finish(60 * MINUTE);
        }
    }
});
