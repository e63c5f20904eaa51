//! Offering files: every shipped file loads and carries its provenance; malformed files are
//! rejected with the file and the key in the message.

use std::path::{Path, PathBuf};

use faasplan::offering::{self, MemoryRule, Offering, shipped};

fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// Every `.toml` directly under `pricing/`.
fn pricing_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(repo("pricing"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_file_in_pricing_loads_and_has_provenance_on_every_price() {
    let files = pricing_files();
    assert!(files.len() >= 10, "{files:?}");
    for path in files {
        let o = offering::load_path(&path).unwrap_or_else(|e| panic!("{e}"));
        let stem = path.file_stem().unwrap().to_str().unwrap();
        assert_eq!(
            o.meta.name,
            stem,
            "{}: name must match the file name",
            path.display()
        );
        for p in [
            &o.meta.provenance,
            &o.behaviour.provenance,
            &o.memory.provenance,
        ] {
            assert!(!p.source.trim().is_empty() && !p.as_of.trim().is_empty());
        }
        assert!(!o.prices.is_empty());
        for price in &o.prices {
            assert!(
                !price.provenance.source.trim().is_empty(),
                "{}: {} has no source",
                path.display(),
                price.item
            );
            assert!(!price.provenance.as_of.trim().is_empty());
            assert!(price.tiers.iter().all(|t| t.rate >= 0.0));
        }
    }
}

#[test]
fn the_embedded_list_matches_the_pricing_folder() {
    let on_disk: Vec<String> = pricing_files()
        .iter()
        .map(|p| p.file_stem().unwrap().to_str().unwrap().to_string())
        .collect();
    let mut embedded: Vec<String> = shipped::names().iter().map(|s| s.to_string()).collect();
    embedded.sort();
    assert_eq!(
        embedded, on_disk,
        "add new files to src/offering/shipped.rs"
    );
    for s in shipped::ALL {
        let from_disk = std::fs::read_to_string(repo(&s.display_path())).unwrap();
        assert_eq!(s.text, from_disk, "{} is stale in the binary", s.name);
    }
}

#[test]
fn names_and_paths_resolve() {
    let o = Offering::resolve("aws-lambda-x86").unwrap();
    assert_eq!(o.meta.file, "pricing/aws-lambda-x86.toml");
    let path = repo("tests/data/pricing/good.toml");
    let o = Offering::resolve(path.to_str().unwrap()).unwrap();
    assert_eq!(o.meta.name, "test-good");
    let err = Offering::resolve("aws-lambda-x68").unwrap_err().to_string();
    assert!(
        err.contains("unknown offering") && err.contains("aws-lambda-x86"),
        "{err}"
    );
    let err = Offering::resolve("no/such/file.toml")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("no/such/file.toml") && err.contains("cannot read"),
        "{err}"
    );
}

/// Loads a bad fixture and checks that the error names the file and every `expected` fragment.
fn check_rejected(fixture: &str, expected: &[&str]) {
    let path = repo(&format!("tests/data/pricing/{fixture}"));
    let err = offering::load_path(&path).expect_err(fixture).to_string();
    assert!(
        err.contains(fixture),
        "{fixture}: the message must name the file: {err}"
    );
    for e in expected {
        assert!(err.contains(e), "{fixture}: expected {e:?} in: {err}");
    }
}

#[test]
fn malformed_files_are_rejected_naming_file_and_key() {
    offering::load_path(&repo("tests/data/pricing/good.toml")).unwrap();
    check_rejected("missing-rate.toml", &["prices.duration.rate: missing"]);
    check_rejected(
        "timeout-below-default.toml",
        &["timeout.max_s", "below timeout.default_s"],
    );
    check_rejected(
        "negative-rate.toml",
        &["prices.duration.rate: ", "must be >= 0"],
    );
    check_rejected(
        "unknown-unit.toml",
        &["prices.duration.unit: unknown unit \"GB-min\""],
    );
    check_rejected(
        "unknown-key.toml",
        &["unknown-key.toml:46:1", "unknown field `discount`"],
    );
    check_rejected("missing-source.toml", &["prices.duration.source: missing"]);
    check_rejected("no-prices.toml", &["prices: missing"]);
    check_rejected("bad-version.toml", &["version: 2"]);
    check_rejected(
        "negative-tier.toml",
        &["prices.duration.tiers[1].up_to", "ascend"],
    );
    check_rejected(
        "unverified-without-note.toml",
        &["prices.duration.note: missing"],
    );
}

#[test]
fn unverified_values_say_so() {
    // PRICING-FACTS marks the arm64 provisioned-concurrency rates NV; the file must too.
    let o = Offering::resolve("aws-lambda-arm64").unwrap();
    let pc = o
        .prices
        .iter()
        .find(|p| p.item == "provisioned-concurrency")
        .unwrap();
    assert_eq!(pc.provenance.confidence, offering::Confidence::NV);
    assert!(pc.provenance.note.is_some());
}

#[test]
fn memory_rules_pick_the_billed_size() {
    let azure = Offering::resolve("azure-functions-consumption").unwrap();
    // Observed memory rounds up to 128 MB steps, capped at 1,536 MB.
    assert_eq!(azure.memory.billed(1).0.memory_mb, 128);
    assert_eq!(azure.memory.billed(129).0.memory_mb, 256);
    assert_eq!(azure.memory.billed(1536).0.memory_mb, 1536);
    assert_eq!(
        azure.memory.billed(3000),
        (azure.memory.billed(1536).0, true)
    );
    let flex = Offering::resolve("azure-functions-flex").unwrap();
    assert!(flex.memory.is_fixed_sizes());
    assert_eq!(flex.memory.billed(128).0.memory_mb, 512);
    assert_eq!(flex.memory.billed(1024).0.memory_mb, 2048);
    assert_eq!(flex.memory.billed(4096).0.memory_mb, 4096);
    let gcf = Offering::resolve("gcp-cloud-functions-gen1").unwrap();
    let s = gcf.memory.billed(300).0;
    assert_eq!((s.memory_mb, s.ghz), (512, Some(0.8)));
    let ep1 = Offering::resolve("azure-functions-premium-ep1").unwrap();
    assert!(matches!(ep1.memory.rule, MemoryRule::Sizes(ref v) if v.len() == 1));
    assert_eq!(ep1.memory.billed(128).0.memory_mb, 3584);
}

// ---------------------------------------------------------------------------------------------
// The command line
// ---------------------------------------------------------------------------------------------

fn faasplan(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_faasplan"))
        .args(args)
        .current_dir(std::env::temp_dir()) // shipped offerings are embedded: any directory works
        .output()
        .expect("run the faasplan binary")
}

fn trace_path() -> String {
    repo("workloads/api-steady.csv").display().to_string()
}

fn json(out: &std::process::Output) -> serde_json::Value {
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn offerings_lists_every_shipped_offering_with_region_and_as_of() {
    let out = faasplan(&["offerings"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    for name in shipped::names() {
        assert!(text.contains(name), "{name} missing from:\n{text}");
    }
    assert!(
        text.contains("us-east-1") && text.contains("2025-08"),
        "{text}"
    );
    let rows = json(&faasplan(&["offerings", "--format", "json"]));
    assert_eq!(rows.as_array().unwrap().len(), shipped::ALL.len());
    assert!(rows[0]["as_of"].is_string() && rows[0]["region"].is_string());
}

#[test]
fn servers_lists_every_catalogued_type_with_its_price_and_billing_rule() {
    let all = faasplan::servers::shipped().unwrap();
    let rows = json(&faasplan(&["servers", "--format", "json"]));
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), all.len());
    for (row, s) in rows.iter().zip(&all) {
        assert_eq!(row["name"], s.name.as_str());
        assert_eq!(row["usd_per_hour"].as_f64(), Some(s.usd_per_hour));
        // A 730-hour month of the on-demand price.
        let month = row["usd_per_month"].as_f64().unwrap();
        assert!((month - s.usd_per_hour * 730.0).abs() < 1e-9, "{row}");
    }
    let t4g = rows.iter().find(|r| r["name"] == "t4g.small").unwrap();
    // 24 credits an hour pay for 0.4 vCPU of its 2: a 20 % baseline.
    assert!((t4g["burstable_baseline"].as_f64().unwrap() - 0.2).abs() < 1e-12);
    assert_eq!(t4g["billing"], "per second, 60 s minimum");
    // A user catalog joins the list, and its billing rule is its own.
    let dir = tempfile::tempdir().unwrap();
    let cat = dir.path().join("hourly.toml");
    let text = std::fs::read_to_string(repo("pricing/servers/gcp-vm-us-central1.toml"))
        .unwrap()
        .replace("per_second = true", "per_second = false")
        .replace("minimum_s = 60", "minimum_s = 0")
        .replace("e2-small", "hourly-small");
    std::fs::write(&cat, text).unwrap();
    let rows = json(&faasplan(&[
        "servers",
        "--servers",
        cat.to_str().unwrap(),
        "--provider",
        "gcp",
        "--format",
        "json",
    ]));
    let rows = rows.as_array().unwrap();
    assert!(rows.iter().all(|r| r["provider"] == "gcp"));
    let mine = rows.iter().find(|r| r["name"] == "hourly-small").unwrap();
    assert_eq!(mine["billing"], "per started hour");
    // An unknown provider names the flag and the ones there are.
    let out = faasplan(&["servers", "--provider", "ibm"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--provider") && err.contains("aws"), "{err}");
}

#[test]
fn simulate_with_an_offering_adds_the_bill() {
    let t = trace_path();
    let v = json(&faasplan(&[
        "simulate",
        &t,
        "--offering",
        "aws-lambda-x86",
        "--format",
        "json",
    ]));
    let cost = &v["cost"];
    assert_eq!(cost["offering"], "aws-lambda-x86");
    assert_eq!(cost["free_tier_applied"], false);
    assert!(cost["window_usd"].as_f64().unwrap() > 0.0);
    assert!(cost["monthly_usd"].as_f64().unwrap() > cost["window_usd"].as_f64().unwrap());
    let lines = cost["lines"].as_array().unwrap();
    let sum: f64 = lines
        .iter()
        .map(|l| l["amount_usd"].as_f64().unwrap())
        .sum();
    assert!((sum - cost["window_usd"].as_f64().unwrap()).abs() < 1e-12);
    for l in lines {
        for k in [
            "item",
            "quantity",
            "unit",
            "rate_usd",
            "amount_usd",
            "monthly_usd",
        ] {
            assert!(!l[k].is_null(), "line without {k}: {l}");
        }
    }
    let free = json(&faasplan(&[
        "simulate",
        &t,
        "--offering",
        "aws-lambda-x86",
        "--free-tier",
        "--format",
        "json",
    ]));
    assert_eq!(free["cost"]["free_tier_applied"], true);
    // Without --offering there is no bill.
    let plain = json(&faasplan(&["simulate", &t, "--format", "json"]));
    assert!(plain.get("cost").is_none());
    // The table shows it.
    let out = faasplan(&["simulate", &t, "--offering", "gcp-cloud-run-request"]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("bill: gcp-cloud-run-request") && text.contains("total"),
        "{text}"
    );
}

#[test]
fn several_offerings_replay_the_trace_on_each_with_its_own_behaviour() {
    let t = trace_path();
    let v = json(&faasplan(&[
        "simulate",
        &t,
        "--offering",
        "aws-lambda-x86",
        "--offering",
        "gcp-cloud-run-request",
        "--format",
        "json",
    ]));
    let runs = v["offerings"].as_array().unwrap();
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[0]["cost"]["offering"], "aws-lambda-x86");
    assert_eq!(runs[0]["run"]["per_instance_concurrency"], 1);
    assert_eq!(runs[1]["run"]["per_instance_concurrency"], 80);
    // A flag the user gives overrides every offering's default.
    let v = json(&faasplan(&[
        "simulate",
        &t,
        "--offering",
        "aws-lambda-x86",
        "--offering",
        "gcp-cloud-run-request",
        "--per-instance-concurrency",
        "4",
        "--format",
        "json",
    ]));
    for run in v["offerings"].as_array().unwrap() {
        assert_eq!(run["run"]["per_instance_concurrency"], 4);
    }
    let out = faasplan(&[
        "simulate",
        &t,
        "--offering",
        "aws-lambda-x86",
        "--offering",
        "azure-functions-flex",
    ]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("cold %") && text.contains("p99 ms") && text.contains("throttled"));
    assert!(text.contains("azure-functions-flex"), "{text}");
}

#[test]
fn bad_offerings_exit_2_naming_the_problem() {
    let t = trace_path();
    let bad = repo("tests/data/pricing/unknown-unit.toml")
        .display()
        .to_string();
    for (args, expected) in [
        (
            vec!["--offering", "aws-lambda-x68"],
            "unknown offering \"aws-lambda-x68\"",
        ),
        (
            vec!["--offering", bad.as_str()],
            "prices.duration.unit: unknown unit",
        ),
        (
            vec![
                "--offering",
                "aws-lambda-x86",
                "--offering",
                "aws-lambda-x86",
            ],
            "given twice",
        ),
        (
            vec![
                "--offering",
                "aws-lambda-x86",
                "--ephemeral-storage-mb",
                "100",
            ],
            "--ephemeral-storage-mb",
        ),
    ] {
        let mut all = vec!["simulate", t.as_str()];
        all.extend(args);
        let out = faasplan(&all);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains(expected), "expected {expected:?} in {err}");
        assert!(out.stdout.is_empty());
    }
}

/// Platform flags over an offering's behaviour defaults: the offering fills in what the user did
/// not give; an explicit flag wins.
#[test]
fn behaviour_defaults_build_the_platform_and_flags_override_them() {
    use faasplan::engine::{InitDist, ScalingRate};
    use faasplan::plan::{PlatformOverrides, platform_config};
    use faasplan::time::SECOND;
    let with = |o: &PlatformOverrides, offering: Option<&str>| {
        let offering = offering.map(|n| Offering::resolve(n).unwrap());
        platform_config(o, offering.as_ref()).unwrap()
    };
    // The flags each case gave, as the typed settings `faasplan` parses them into.
    let config = |extra: &[&str]| {
        let offering = extra
            .iter()
            .position(|a| *a == "--offering")
            .map(|i| extra[i + 1]);
        let o = if extra.len() > 2 {
            PlatformOverrides {
                per_instance_concurrency: Some(1),
                memory_mb: Some(1024),
                init: Some(InitDist::parse("50").unwrap()),
                account_concurrency: Some(Some(10)),
                max_concurrency: Some(7),
                keep_alive: Some(60 * SECOND),
                scaling: Some(ScalingRate::parse("10/1s").unwrap()),
                ..PlatformOverrides::default()
            }
        } else {
            PlatformOverrides::default()
        };
        with(&o, offering)
    };
    let lambda = config(&[]);
    assert_eq!(
        (lambda.memory_mb, lambda.account_concurrency),
        (128, Some(1000))
    );
    let run = config(&["--offering", "gcp-cloud-run-request"]);
    assert_eq!(run.per_instance_concurrency, 80);
    assert_eq!(run.memory_mb, 512);
    assert_eq!(run.max_concurrency, Some(100));
    assert_eq!(run.account_concurrency, None);
    assert_eq!(run.scaling, None);
    assert!(
        run.init.describe().contains("p50=500ms"),
        "{}",
        run.init.describe()
    );
    let flex = config(&["--offering", "azure-functions-flex"]);
    assert_eq!((flex.memory_mb, flex.per_instance_concurrency), (2048, 16));
    let premium = config(&["--offering", "azure-functions-premium-ep2"]);
    assert_eq!(premium.provisioned, 1);
    let arm = config(&["--offering", "aws-lambda-arm64"]);
    let x86 = config(&["--offering", "aws-lambda-x86"]);
    assert_ne!(
        arm.init.describe(),
        x86.init.describe(),
        "arm64 uses the arm64 init row"
    );
    let given = config(&[
        "--offering",
        "gcp-cloud-run-request",
        "--per-instance-concurrency",
        "1",
        "--memory-mb",
        "1024",
        "--init-ms",
        "50",
        "--account-concurrency",
        "10",
        "--max-concurrency",
        "7",
        "--keep-alive",
        "60",
        "--scaling-rate",
        "10/1s",
    ]);
    assert_eq!(given.per_instance_concurrency, 1);
    assert_eq!(given.memory_mb, 1024);
    assert_eq!(given.init.describe(), "constant(50ms)");
    assert_eq!(given.account_concurrency, Some(10));
    assert_eq!(given.max_concurrency, Some(7));
    assert_eq!(given.keep_alive.describe(), "fixed 60 s");
    assert!(given.scaling.is_some());
}
