//! The file behind `--init-ms empirical:FILE`: one init time (ms) per line, `#` comments, an
//! optional header; then the empirical distribution built from its samples.
#![no_main]

use faasplan::dist::read_samples_ms;
use faasplan::engine::InitDist;
use faasplan_fuzz::{check_file_error, scratch};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = scratch("inits.txt", data);
    let result = read_samples_ms(&path).and_then(|samples| InitDist::empirical(&path, samples));
    if let Err(e) = result {
        check_file_error(&e, &path, data);
    }
});
