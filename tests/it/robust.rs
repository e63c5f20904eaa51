//! Issue 14's minor defects, one regression test each: outputs that would overwrite an input,
//! negative SLO bounds, a killed run's temporary files, messages without a place (`file:0:`,
//! invalid UTF-8 with no line), and init-table errors blamed on the wrong flag. Crashes the fuzz
//! targets found (`fuzz/`), each pinned by a test named after it.

use std::path::Path;

use faasplan::sweep::Slo;

use crate::common::{faasplan, stderr};

const SNAPSHOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/snapshot.csv");

fn path_str(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 temporary path")
}

#[test]
fn per_minute_onto_the_trace_itself_is_refused_and_the_trace_kept() {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("t.csv");
    std::fs::copy(SNAPSHOT, &trace).unwrap();
    let before = std::fs::read(&trace).unwrap();
    // Spelled differently (`./`), and through a hard link: still the same file.
    let dotted = dir.path().join(".").join("t.csv");
    let link = dir.path().join("link.csv");
    std::fs::hard_link(&trace, &link).unwrap();
    for out in [&trace, &dotted, &link] {
        let o = faasplan(&["simulate", path_str(&trace), "--per-minute", path_str(out)]);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        let err = stderr(&o);
        assert!(
            err.contains("--per-minute") && err.contains("input"),
            "{err}"
        );
        assert_eq!(std::fs::read(&trace).unwrap(), before, "the trace changed");
    }
}

#[test]
fn per_minute_onto_an_init_sample_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let init = dir.path().join("init.txt");
    std::fs::write(&init, "100\n200\n").unwrap();
    let spec = format!("empirical:{}", path_str(&init));
    let o = faasplan(&[
        "simulate",
        SNAPSHOT,
        "--init-ms",
        &spec,
        "--per-minute",
        path_str(&init),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(&init).unwrap(), "100\n200\n");
}

#[test]
fn generate_out_onto_its_own_spec_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("w.toml");
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/workloads/api-backend.toml"
    ))
    .unwrap();
    std::fs::write(&spec, &text).unwrap();
    let o = faasplan(&["generate", path_str(&spec), "--out", path_str(&spec)]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--out"), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(&spec).unwrap(), text);
}

#[test]
fn a_negative_or_minus_zero_slo_bound_is_refused() {
    for s in [
        "p90<-0",
        "p90<=-0ms",
        "p99<=-5ms",
        "cost<=-1",
        "cold_start_ratio<=-0",
        "cold_start_ratio<=-0%",
    ] {
        let e = Slo::parse(s).expect_err(s);
        assert!(e.to_string().contains(">= 0"), "{s}: {e}");
    }
    // Zero itself stays a valid bound.
    assert_eq!(Slo::parse("throttle_ratio<=0").unwrap().bound, 0.0);
    assert!(!Slo::parse("p90<=0ms").unwrap().bound.is_sign_negative());
}

#[test]
fn a_killed_runs_temporary_files_are_removed_by_the_next_write() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.csv");
    // No process has id 4_294_967_295 (Linux's pid_max is at most 2^22), so these are a dead
    // run's; ours (this process, alive) must stay, as must another output's leftovers.
    let dead_file = dir.path().join(".out.csv.faasplan-4294967295-tmp-AbC123");
    let dead_dir = dir.path().join(".out.csv.faasplan-4294967295-tmp-XyZ789");
    let live = dir
        .path()
        .join(format!(".out.csv.faasplan-{}-tmp-live", std::process::id()));
    let other = dir.path().join(".other.csv.faasplan-4294967295-tmp-AbC123");
    std::fs::write(&dead_file, "half a file").unwrap();
    std::fs::create_dir(&dead_dir).unwrap();
    std::fs::write(dead_dir.join("chart.png"), "x").unwrap();
    std::fs::write(&live, "being written").unwrap();
    std::fs::write(&other, "x").unwrap();
    faasplan::export::write_atomic(&out, |w| w.write_all(b"ok\n")).unwrap();
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "ok\n");
    let on_linux = Path::new("/proc/self").exists();
    assert_eq!(dead_file.exists(), !on_linux);
    assert_eq!(dead_dir.exists(), !on_linux);
    assert!(live.exists());
    assert!(other.exists());
    // The write's own temporary file is gone (renamed into place).
    let left: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".out.csv.") && !n.contains("-live"))
        .collect();
    assert!(left.is_empty() || !on_linux, "{left:?}");
}

#[test]
fn a_killed_reports_staging_directory_is_removed_by_the_next_report() {
    let dir = tempfile::tempdir().unwrap();
    let stale = dir.path().join(".rep.faasplan-4294967295-tmp-AbC123");
    std::fs::create_dir(&stale).unwrap();
    std::fs::write(stale.join("index.html"), "half").unwrap();
    let rep = dir.path().join("rep");
    let o = faasplan(&["simulate", SNAPSHOT, "--report", path_str(&rep)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(rep.join("index.html").exists());
    if Path::new("/proc/self").exists() {
        assert!(!stale.exists());
    }
}

#[test]
fn the_temporary_directory_message_reads_as_a_sentence() {
    let e = faasplan::report::ReportError::Io {
        path: "/x".into(),
        action: "cannot create a temporary directory here",
        error: std::io::Error::other("denied"),
    };
    assert_eq!(
        e.to_string(),
        "/x: cannot create a temporary directory here: denied"
    );
    // And the source says so where the report is staged.
    let src =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/report/dir.rs")).unwrap();
    assert!(!src.contains("temporary directory in\""));
}

#[test]
fn an_unreadable_init_file_is_named_without_line_zero() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.txt");
    let e = faasplan::dist::read_samples_ms(&missing).unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.starts_with(&format!("{}: ", missing.display())),
        "{msg}"
    );
    assert!(!msg.contains(":0:"), "{msg}");
    let empty = dir.path().join("empty.txt");
    std::fs::write(&empty, "# nothing\n").unwrap();
    let msg = faasplan::dist::read_samples_ms(&empty)
        .unwrap_err()
        .to_string();
    assert!(!msg.contains(":0:"), "{msg}");
}

#[test]
fn invalid_utf8_in_an_init_file_names_line_and_byte() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("init.txt");
    std::fs::write(&f, b"100\n20\xff0\n").unwrap();
    let msg = faasplan::dist::read_samples_ms(&f).unwrap_err().to_string();
    assert!(
        msg.contains("invalid UTF-8 at line 2, byte 3 of the line (byte 7 of the file)"),
        "{msg}"
    );
}

#[test]
fn invalid_utf8_in_an_offering_or_workload_toml_names_line_and_byte() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("bad.toml");
    std::fs::write(&f, b"name = \"x\"\n\xfe = 3\n").unwrap();
    let msg = faasplan::offering::load_path(&f).unwrap_err().to_string();
    assert!(msg.contains("line 2, byte 1 of the line"), "{msg}");
    let msg = faasplan::workload::spec::load(&f).unwrap_err().to_string();
    assert!(msg.contains("line 2, byte 1 of the line"), "{msg}");
    let msg = faasplan::servers::find("c7g.large", std::slice::from_ref(&f))
        .unwrap_err()
        .to_string();
    assert!(msg.contains("line 2, byte 1 of the line"), "{msg}");
}

#[test]
fn a_bad_arch_or_package_is_reported_as_that_flag_not_runtime() {
    let o = faasplan(&["simulate", SNAPSHOT, "--arch", "sparc"]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("--arch") && !err.contains("--runtime"),
        "{err}"
    );
    assert!(err.contains("arm64") && err.contains("x86_64"), "{err}");
    let o = faasplan(&["simulate", SNAPSHOT, "--package", "jar"]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("--package") && !err.contains("--runtime"),
        "{err}"
    );
    assert!(err.contains("zip"), "{err}");
    let o = faasplan(&["simulate", SNAPSHOT, "--runtime", "cobol"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--runtime"), "{}", stderr(&o));
}

/// A spec of `n` functions named f0, f1, ...; the last one is named `last`.
fn many_function_spec(n: usize, last: &str) -> String {
    let mut s = String::from("version = 1\nduration = \"1h\"\nseed = 1\n");
    for i in 0..n {
        let name = if i + 1 == n {
            last.to_string()
        } else {
            format!("f{i}")
        };
        s.push_str(&format!(
            "\n[[function]]\nname = \"{name}\"\nmemory_mb = 128\ntrigger = \"sync\"\n\
             duration_ms = {{ dist = \"exponential\", mean_ms = 25 }}\n\n\
             [[function.arrivals]]\nprocess = \"poisson\"\nrate_per_s = 0.001\n"
        ));
    }
    s
}

/// D9: the duplicate-name check is a set now (linear); it must still find a duplicate anywhere
/// in a large spec and name the second occurrence's line, and accept every unique name. The
/// speed itself is in BENCHMARKS.md.
#[test]
fn a_spec_with_many_functions_keeps_every_name_and_finds_a_late_duplicate() {
    let n = 5_000;
    let spec = many_function_spec(n, "last");
    let wl = faasplan::workload::spec::parse(&spec, Path::new("many.toml")).unwrap();
    assert_eq!(wl.functions.len(), n);
    assert_eq!(wl.functions[0].name, "f0");
    assert_eq!(wl.functions[n - 1].name, "last");
    let dup = many_function_spec(n, "f0");
    let e = faasplan::workload::spec::parse(&dup, Path::new("many.toml"))
        .unwrap_err()
        .to_string();
    // The last table's `name` line, 1-based.
    let line = dup[..dup.rfind("name = \"f0\"").unwrap()]
        .matches('\n')
        .count()
        + 1;
    assert!(
        e.starts_with(&format!("many.toml:{line}:")) && e.contains("\"f0\" is used twice"),
        "{e}"
    );
}

/// Found by the `flags` fuzz target: a schedule time with an hour beyond 24 (here 19 digits)
/// overflowed computing its microseconds before the range check refused it, a panic in a debug
/// build and a wrapped time in a release one.
#[test]
fn a_schedule_hour_too_large_to_compute_is_refused_not_an_overflow() {
    let value = "22:00-4484719642925276249:00=3";
    let e = faasplan::engine::Schedule::parse(value)
        .unwrap_err()
        .to_string();
    assert!(e.contains(value) && e.contains("HH:MM"), "{e}");
}

/// An Azure 2019 invocations file (and its durations file) in `dir`: one row per `(name, busy
/// minutes, count per busy minute)`.
fn azure_2019_files(dir: &Path, rows: &[(&str, usize, u64)]) -> (String, String) {
    let inv = dir.join("inv.csv");
    let dur = dir.join("dur.csv");
    let header: Vec<String> = (1..=1440).map(|m| format!("minute_{m}")).collect();
    let mut text = format!("HashFunction,HashApp,HashOwner,{}\n", header.join(","));
    let mut d = String::from(
        "HashFunction,HashApp,HashOwner,Count,Average,Minimum,Maximum,percentile_Average_0,\
         percentile_Average_1,percentile_Average_25,percentile_Average_50,percentile_Average_75,\
         percentile_Average_99,percentile_Average_100\n",
    );
    for &(name, busy_minutes, count) in rows {
        let counts: Vec<String> = (0..1440)
            .map(|m| {
                if m < busy_minutes {
                    count.to_string()
                } else {
                    "0".into()
                }
            })
            .collect();
        text.push_str(&format!("{name},app-{name},owner,{}\n", counts.join(",")));
        d.push_str(&format!(
            "{name},app-{name},owner,3,65,65,65,65,65,65,65,65,65,65\n"
        ));
    }
    std::fs::write(&inv, text).unwrap();
    std::fs::write(&dur, d).unwrap();
    (path_str(&inv).to_owned(), path_str(&dur).to_owned())
}

/// A tiny Azure 2019 file can ask for billions of invocations (up to 60,000,000 a minute): the
/// reader refuses the row that crosses its bound (what fits in the available memory, at most 2
/// billion), naming file and line, before taking the memory (it used to abort allocating).
#[test]
fn an_azure_2019_trace_too_large_to_hold_is_refused_at_its_row() {
    let dir = tempfile::tempdir().unwrap();
    // Row 2: 10 minutes of 1,000 (fits); row 3: 34 minutes of 60,000,000 = 2.04 billion.
    let (inv, dur) = azure_2019_files(
        dir.path(),
        &[("small", 10, 1_000), ("huge", 34, 60_000_000)],
    );
    // `simulate`, `compare` and `sweep` stream an Azure 2019 trace (holding about a minute of
    // it); expanded whole, as `--read-first` and `breakeven` do, it is held.
    let out = faasplan(&["simulate", &inv, "--durations", &dur, "--read-first"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains(&format!("{inv}:3:"))
            && err.contains("invocations")
            && (err.contains("available memory") || err.contains("the most faasplan holds"))
            && err.contains("without --read-first or --resample stream them"),
        "{err}"
    );
}

/// Issue 14: two minutes of 60,000,000 (120 million invocations, about 3 GB held) on a machine
/// with less available used to abort; `--max-invocations` is the bound a user sets, checked
/// before expanding: one over the trace's size refuses at the row, the exact size runs.
#[test]
fn max_invocations_bounds_what_an_azure_2019_trace_expands_into() {
    let dir = tempfile::tempdir().unwrap();
    let (inv, dur) = azure_2019_files(dir.path(), &[("a", 2, 500), ("b", 3, 500)]);
    let run = |max: &str| {
        faasplan(&[
            "simulate",
            &inv,
            "--durations",
            &dur,
            "--read-first",
            "--max-invocations",
            max,
        ])
    };
    let out = run("2499");
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains(&format!("{inv}:3:"))
            && err.contains("past the 2499 invocations")
            && err.contains("--max-invocations"),
        "{err}"
    );
    let out = run("2500");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = run("0");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("--max-invocations"),
        "{}",
        stderr(&out)
    );
}

/// Issue 14: a five-line spec asking for a million a second for a day (86.4 billion
/// invocations) used to abort allocating; it is refused before generating, naming the spec and
/// the function, in well under a second.
#[test]
fn a_spec_that_expects_more_invocations_than_fit_is_refused_before_generating() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("huge.toml");
    std::fs::write(
        &spec,
        "version = 1\nduration = \"1d\"\n[[function]]\nname = \"quiet\"\n\
         duration_ms = { dist = \"exponential\", mean_ms = 25 }\n[[function.arrivals]]\n\
         process = \"poisson\"\nrate_per_s = 1\n[[function]]\nname = \"flood\"\n\
         duration_ms = { dist = \"exponential\", mean_ms = 25 }\n[[function.arrivals]]\n\
         process = \"poisson\"\nrate_per_s = 1000000\n",
    )
    .unwrap();
    let started = std::time::Instant::now();
    let out = faasplan(&["simulate", path_str(&spec)]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains(path_str(&spec))
            && err.contains("expects about 86400086400 invocations")
            && err.contains("\"flood\""),
        "{err}"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
}

/// The expected count can be under the bound while the draws go over it: the replay stops at
/// the bound and says so. The bound is exact: the drawn count itself runs.
#[test]
fn a_spec_whose_draws_pass_the_bound_is_refused_and_its_exact_count_runs() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("poisson.toml");
    // 10 a second for 100 s: 1,000 expected.
    std::fs::write(
        &spec,
        "version = 1\nduration = \"100s\"\n[[function]]\nname = \"api\"\n\
         duration_ms = { dist = \"exponential\", mean_ms = 25 }\n[[function.arrivals]]\n\
         process = \"poisson\"\nrate_per_s = 10\n",
    )
    .unwrap();
    let csv = dir.path().join("rows.csv");
    // A seed whose draw is well over the expected 1,000 (the count is Poisson, sd about 32).
    let (seed, rows) = (1..200)
        .map(|seed| {
            let out = faasplan(&[
                "generate",
                path_str(&spec),
                "--seed",
                &seed.to_string(),
                "--out",
                path_str(&csv),
            ]);
            assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
            let text = std::fs::read_to_string(&csv).unwrap();
            (seed, text.lines().count() as u64 - 1)
        })
        .find(|&(_, rows)| rows > 1010)
        .expect("a draw above 1,010 in 200 seeds");
    let run = |max: u64| {
        faasplan(&[
            "simulate",
            path_str(&spec),
            "--seed",
            &seed.to_string(),
            "--max-invocations",
            &max.to_string(),
        ])
    };
    let out = run(rows - 1);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("drew more than") && err.contains("\"api\""),
        "{err}"
    );
    let out = run(rows);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}
