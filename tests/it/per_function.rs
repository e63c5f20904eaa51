//! Per-function settings (`--provisioned api=20,webhook=0`, `--memory-mb '*=1024'`,
//! `--max-concurrency NAME=N`): each function runs and is billed with its own, checked by hand;
//! names and globs that match nothing, or match ambiguously, are refused.

use crate::common::{faasplan, json_out, stderr};

/// Two functions, `api` every second and `webhook` once a minute, 50 ms each, for an hour.
fn trace(dir: &tempfile::TempDir) -> String {
    let mut csv = String::from("timestamp_ms,function,duration_ms\n");
    for s in 0..3600u64 {
        csv.push_str(&format!("{},api,50\n", s * 1000));
        if s % 60 == 30 {
            csv.push_str(&format!("{},webhook,50\n", s * 1000 + 1));
        }
    }
    let p = dir.path().join("two.csv");
    std::fs::write(&p, csv).unwrap();
    p.to_str().unwrap().to_string()
}

fn run(t: &str, extra: &[&str]) -> serde_json::Value {
    let mut args = vec![
        "simulate",
        t,
        "--offering",
        "aws-lambda-x86",
        "--warmup",
        "none",
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    json_out(&faasplan(&args))
}

fn function<'a>(v: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    v["functions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == name)
        .unwrap_or_else(|| panic!("{name} in {v}"))
}

#[test]
fn each_function_is_provisioned_and_billed_at_its_own_level() {
    let dir = tempfile::tempdir().unwrap();
    let t = trace(&dir);
    let v = run(
        &t,
        &["--provisioned", "api=3,webhook=0", "--memory-mb", "1024"],
    );
    // api never cold-starts on its 3 provisioned instances; webhook's first request does.
    assert_eq!(function(&v, "api")["cold_starts"], 0, "{v}");
    assert_eq!(function(&v, "webhook")["cold_starts"], 1, "{v}");
    // Provisioned concurrency is billed on api's 3 instances only: 3 x 1 GB for the window.
    let window_s = v["window_s"].as_f64().unwrap();
    let line = v["cost"]["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["item"] == "provisioned-concurrency")
        .unwrap_or_else(|| panic!("{v}"))
        .clone();
    let gb_s = line["quantity"].as_f64().unwrap();
    assert!(
        (gb_s - 3.0 * window_s).abs() < 1e-6,
        "{gb_s} GB-s against 3 x {window_s}"
    );
    // The same level for both would bill twice the instance-time of one: the old behaviour.
    let both = run(&t, &["--provisioned", "3", "--memory-mb", "1024"]);
    let both_gb_s = both["cost"]["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["item"] == "provisioned-concurrency")
        .unwrap()["quantity"]
        .as_f64()
        .unwrap();
    assert!((both_gb_s - 6.0 * window_s).abs() < 1e-6);
    // The outputs say which function got what.
    assert!(
        v["notes"]
            .to_string()
            .contains("per-function settings: api: provisioned 3")
    );
}

#[test]
fn an_exact_name_takes_the_fields_it_does_not_set_from_a_glob() {
    let dir = tempfile::tempdir().unwrap();
    let t = trace(&dir);
    let v = run(&t, &["--memory-mb", "*=2048", "--provisioned", "api=1"]);
    // Both run at 2,048 MB; api also has its provisioned instance.
    for name in ["api", "webhook"] {
        let sizes = v["run"]["memory_sizes_mb"].to_string();
        assert!(sizes.contains("2048"), "{name}: {sizes}");
    }
    assert_eq!(function(&v, "api")["cold_starts"], 0, "{v}");
    let notes = v["notes"].to_string();
    assert!(notes.contains("api: 2048 MB, provisioned 1"), "{notes}");
}

#[test]
fn names_that_match_nothing_or_twice_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let t = trace(&dir);
    for (args, want) in [
        (
            vec!["--provisioned", "checkout=2"],
            "\"checkout\" matches no function",
        ),
        (vec!["--provisioned", "a*=1,*i=2"], "matches both"),
        (vec!["--provisioned", "=2"], "no function name"),
        (
            vec!["--max-concurrency", "api=1", "--provisioned", "api=2"],
            "below the provisioned",
        ),
    ] {
        let mut all = vec!["simulate", t.as_str()];
        all.extend(args.iter().copied());
        let out = faasplan(&all);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: {err}");
    }
}

#[test]
fn a_sweep_varies_the_others_while_a_named_function_keeps_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let t = trace(&dir);
    let v = json_out(&faasplan(&[
        "sweep",
        &t,
        "--offering",
        "aws-lambda-x86",
        "--provisioned",
        "0,2,api=1",
        "--replicas",
        "1",
        "--format",
        "json",
    ]));
    let grid = v["grid"].as_array().unwrap();
    assert_eq!(grid.len(), 2, "{v}");
}

/// `--timeout 100ms,checkout=none`: every execution longer than 100 ms is cut except
/// checkout's. The oracle is the trace itself: its rows longer than the timeout, by function.
#[test]
fn a_function_keeps_its_own_timeout() {
    let t = "workloads/multi-function.csv";
    let text = std::fs::read_to_string(t).unwrap();
    let (mut all, mut checkout) = (0u64, 0u64);
    for line in text.lines().skip(1) {
        let cols: Vec<&str> = line.split(',').collect();
        if cols[2].parse::<f64>().unwrap() > 100.0 {
            all += 1;
            if cols[1] == "checkout" {
                checkout += 1;
            }
        }
    }
    assert!(checkout > 0 && all > checkout);
    let timed_out = |flag: &str| {
        let out = faasplan(&["simulate", t, "--timeout", flag, "--format", "json"]);
        json_out(&out)["timed_out"].as_u64().unwrap()
    };
    assert_eq!(timed_out("100ms"), all);
    assert_eq!(timed_out("100ms,checkout=none"), all - checkout);
    assert_eq!(timed_out("none,checkout=100ms"), checkout);
    assert_eq!(timed_out("100ms,check*=none"), all - checkout);
    // Bad items name the flag and the item.
    for (bad, says) in [
        ("1s,2s", "one value for every function"),
        ("=1s", "no function name"),
        ("checkout=soon", "checkout=soon"),
    ] {
        let out = faasplan(&["simulate", t, "--timeout", bad]);
        assert_eq!(out.status.code(), Some(2), "{bad}");
        let err = stderr(&out);
        assert!(
            err.contains("--timeout") && err.contains(says),
            "{bad}: {err}"
        );
    }
}

/// `--cpu-bound 0,checkout=1` at 3,538 MB (2 vCPU on Lambda): only checkout's executions run
/// faster, each by its row's vCPUs over the run's (one thread: min(c_row, 1) / min(2, 1)). The
/// oracle is the trace: the busy instance-time changes by Σ over checkout's rows of
/// d × (factor − 1), within a microsecond per row (each scaled duration is whole microseconds).
#[test]
fn a_function_keeps_its_own_cpu_profile() {
    let t = "workloads/multi-function.csv";
    let text = std::fs::read_to_string(t).unwrap();
    let mut change_s = 0.0;
    let mut rows = 0u64;
    for line in text.lines().skip(1) {
        let cols: Vec<&str> = line.split(',').collect();
        if cols[1] != "checkout" {
            continue;
        }
        let d_s = cols[2].parse::<f64>().unwrap() / 1e3;
        let mb = cols[3].parse::<f64>().unwrap();
        let factor = (mb / 1769.0).min(1.0) / 1.0;
        change_s += d_s * (factor - 1.0);
        rows += 1;
    }
    assert!(rows > 1000 && change_s < -1.0, "{rows} {change_s}");
    let busy = |cpu: &str| {
        let out = faasplan(&[
            "simulate",
            t,
            "--memory-mb",
            "3538",
            "--cpu-bound",
            cpu,
            "--format",
            "json",
        ]);
        let v = json_out(&out);
        assert_eq!(v["timed_out"].as_u64(), Some(0));
        v["instance_seconds"]["on_demand_busy"].as_f64().unwrap()
    };
    let (base, own) = (busy("0"), busy("0,checkout=1"));
    let tolerance = rows as f64 * 1e-6 + 1e-6;
    assert!(
        (own - base - change_s).abs() <= tolerance,
        "busy {base} -> {own}: changed {}, expected {change_s} ± {tolerance}",
        own - base
    );
    // All functions CPU-bound but checkout: checkout keeps its durations.
    let all_but = busy("1,checkout=0");
    let all = busy("1");
    assert!(
        (all - all_but - change_s).abs() <= tolerance,
        "{all} vs {all_but}: {}",
        all - all_but
    );
    // The note says who got what.
    let out = faasplan(&[
        "simulate",
        t,
        "--memory-mb",
        "3538",
        "--cpu-bound",
        "0,checkout=1",
    ]);
    assert!(
        stderr(&out).contains("checkout: CPU-bound fraction 1"),
        "{}",
        stderr(&out)
    );
    let out = faasplan(&["simulate", t, "--cpu-bound", "0,checkout=x"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--cpu-bound") && stderr(&out).contains("checkout=x"));
}

/// `--init-ms 100 --init-ms-for checkout=2000`: checkout's cold starts take 2 s, the others'
/// 0.1 s, so the run's mean init time is exactly (100 × others' + 2000 × checkout's instances
/// started) / all instances started (every start is one init).
#[test]
fn a_function_keeps_its_own_init_time() {
    let t = "workloads/multi-function.csv";
    let out = faasplan(&[
        "simulate",
        t,
        "--init-ms",
        "100",
        "--init-ms-for",
        "check*=2000",
        "--format",
        "json",
    ]);
    let v = json_out(&out);
    let all = v["instances_started"].as_f64().unwrap();
    let own = function(&v, "checkout")["instances_started"]
        .as_f64()
        .unwrap();
    assert!(own > 0.0 && all > own, "{all} {own}");
    let mean = v["init_ms"]["mean"].as_f64().unwrap();
    let want = (100.0 * (all - own) + 2000.0 * own) / all;
    assert!(
        (mean - want).abs() < 1e-3,
        "mean init {mean}, expected {want}"
    );
    assert_eq!(v["init_ms"]["max"].as_f64(), Some(2000.0));
    assert!(
        stderr(&out).contains("init constant(2000ms)"),
        "{}",
        stderr(&out)
    );
    for (bad, says) in [
        ("checkout", "NAME=SPEC"),
        ("=100", "no function name"),
        ("checkout=lognormal:5", "checkout="),
    ] {
        let out = faasplan(&["simulate", t, "--init-ms-for", bad]);
        assert_eq!(out.status.code(), Some(2), "{bad}");
        let err = stderr(&out);
        assert!(
            err.contains("--init-ms-for") && err.contains(says),
            "{bad}: {err}"
        );
    }
    let out = faasplan(&["simulate", t, "--init-ms-for", "nosuch=100"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("nosuch"));
}

/// `--trigger-for checkout=queue`: checkout's rows (sync in the trace) come through a queue, so
/// the queue in front of the functions (`--queue sqs`) carries them too. The oracle is the trace:
/// the SQS requests scale from its queue and async rows to those plus checkout's, exactly; an
/// exact name wins over a glob.
#[test]
fn a_function_keeps_its_own_trigger() {
    let t = "workloads/multi-function.csv";
    let text = std::fs::read_to_string(t).unwrap();
    let (mut events, mut checkout) = (0u64, 0u64);
    for line in text.lines().skip(1) {
        let cols: Vec<&str> = line.split(',').collect();
        match (cols[1], cols[4]) {
            ("checkout", "sync") => checkout += 1,
            (_, "queue" | "async") => events += 1,
            _ => {}
        }
    }
    assert!(events > 0 && checkout > 0);
    let sqs = |extra: &[&str]| -> u64 {
        let mut args = vec![
            "simulate",
            t,
            "--offering",
            "aws-lambda-x86",
            "--queue",
            "sqs",
            "--format",
            "json",
        ];
        args.extend_from_slice(extra);
        let v = json_out(&faasplan(&args));
        let line = v["cost"]["lines"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["item"] == "sqs requests")
            .cloned()
            .unwrap();
        (line["quantity"].as_f64().unwrap() * 1e6).round() as u64
    };
    let base = sqs(&[]);
    let own = sqs(&["--trigger-for", "checkout=queue"]);
    assert_eq!(base % events, 0, "{base} SQS requests for {events} events");
    assert_eq!(own, base / events * (events + checkout));
    assert_eq!(
        sqs(&[
            "--trigger-for",
            "check*=queue",
            "--trigger-for",
            "checkout=sync"
        ]),
        base
    );
    for (bad, says) in [
        (
            &["--trigger-for", "checkout=later"][..],
            "sync, async or queue",
        ),
        (&["--trigger-for", "checkout"][..], "NAME=TRIGGER"),
        (
            &["--trigger-for", "nosuch=queue"][..],
            "matches no function",
        ),
        (
            &[
                "--trigger-for",
                "check*=queue",
                "--trigger-for",
                "*out=async",
            ][..],
            "matches both",
        ),
    ] {
        let mut args = vec!["simulate", t];
        args.extend_from_slice(bad);
        let out = faasplan(&args);
        assert_eq!(out.status.code(), Some(2), "{bad:?}");
        let err = stderr(&out);
        assert!(
            err.contains("--trigger-for") && err.contains(says),
            "{bad:?}: {err}"
        );
    }
}
