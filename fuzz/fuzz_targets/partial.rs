//! A partial result as `faasplan merge` reads it: the file (magic, header, checksum), and, since
//! random bytes rarely pass a CRC-32, the payload decoded on its own too, then merged into a
//! collector (the level-change log's reader). Nothing may panic, however the bytes were forged.
#![no_main]

use faasplan::outcome::Collector;
use faasplan::outcome::shard::ShardOutcome;
use faasplan::time::MINUTE;
use faasplan_fuzz::scratch;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = scratch("part.fpp", data);
    if let Ok((_, payload)) = faasplan::partial::read(&path) {
        let _ = faasplan::partial::decode::<ShardOutcome>(&path, &payload);
    }
    if let Ok(part) = faasplan::partial::decode::<ShardOutcome>(&path, data) {
        // The merge's clip is its own (a validated horizon), never the partial's.
        if let Ok(mut col) = Collector::from_shards(MINUTE, Some(60 * MINUTE), &[&part, &part]) {
            col.finish(60 * MINUTE);
        }
    }
});
