//! The TOML files faasplan loads: offerings (`--offering FILE`), server catalogues (`--servers
//! FILE`) and workload specs (`generate SPEC`). The first byte picks the kind; the rest is the
//! file, read from disk like the real one (invalid UTF-8 included). Every error names the file,
//! and a line within it when it names one.
#![no_main]

use faasplan::dist::read_text;
use faasplan::error::ConfigError;
use faasplan::offering::{Offering, OfferingError};
use faasplan::servers::parse_catalog;
use faasplan::workload::spec::{self, SpecError};
use faasplan_fuzz::{check_file_error, check_named, lines, scratch, split};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((which, data)) = split(data) else {
        return;
    };
    let path = scratch("file.toml", data);
    let name = path.display().to_string();
    match which % 3 {
        0 => {
            if let Err(e) = Offering::resolve(&name) {
                let msg = e.to_string();
                check_named(&msg, &name);
                if let OfferingError::Unknown { .. } = e {
                    panic!("a file is not looked up by name: {msg}");
                }
            }
        }
        1 => {
            let r = read_text(&path)
                .map_err(|e| ConfigError::File {
                    path: path.clone(),
                    line: 0,
                    reason: e.to_string(),
                })
                .and_then(|text| parse_catalog(&path, &text));
            if let Err(e) = r {
                check_file_error(&e, &path, data);
            }
        }
        _ => match spec::load(&path) {
            Ok(_) => {}
            Err(SpecError::At { line, column, .. }) => {
                assert!(line >= 1 && line as u64 <= lines(data) + 1, "line {line}");
                assert!(column >= 1, "column {column}");
            }
            Err(e @ SpecError::Io { .. }) => {
                check_named(&e.to_string(), &name);
            }
        },
    }
});
