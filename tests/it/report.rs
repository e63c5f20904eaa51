//! `--report DIR`: every chart is a real 1600×900 picture (decodes, many colours, pixels vary),
//! `summary.md` matches its snapshot, `index.html` uses nothing but the files beside it, the
//! directory is written whole or not at all, and an existing one is replaced only with `--force`.
//! The compare, sweep and breakeven pages are checked on synthetic inputs.
//!
//! The `summary.md` snapshots are insta snapshots in `tests/it/snapshots/`.

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use faasplan::report::breakeven::{BreakevenCrossing, BreakevenPage, BreakevenPoint};
use faasplan::report::compare::{CompareEntry, ComparePage, LatencyMs};
use faasplan::report::sweep::{SweepMetric, SweepPage};
use faasplan::report::{self, ReportError, ReportTarget};
use faasplan::sweep::{Estimate, PointResult, Slo, cheapest_meeting, pareto};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn faasplan(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_faasplan"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("the faasplan binary runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Checks that `path` is a PNG of the chart size that shows something: many distinct colours
/// (text and lines are antialiased) and pixels that vary.
fn check_png(path: &Path) {
    let file = fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let decoder = png::Decoder::new(std::io::BufReader::new(file));
    let mut reader = decoder
        .read_info()
        .unwrap_or_else(|e| panic!("{}: not a PNG: {e}", path.display()));
    let mut buf = vec![0; reader.output_buffer_size().expect("a sane size")];
    let info = reader.next_frame(&mut buf).expect("decodes");
    assert_eq!(
        (info.width, info.height),
        (report::WIDTH, report::HEIGHT),
        "{}",
        path.display()
    );
    assert_eq!(info.color_type, png::ColorType::Rgb, "{}", path.display());
    let px: Vec<[u8; 3]> = buf[..info.line_size * info.height as usize]
        .chunks_exact(3)
        .map(|c| [c[0], c[1], c[2]])
        .collect();
    let colours: HashSet<[u8; 3]> = px.iter().copied().collect();
    assert!(
        colours.len() >= 50,
        "{}: only {} distinct colours",
        path.display(),
        colours.len()
    );
    let lum: Vec<f64> = px
        .iter()
        .map(|p| 0.299 * p[0] as f64 + 0.587 * p[1] as f64 + 0.114 * p[2] as f64)
        .collect();
    let mean = lum.iter().sum::<f64>() / lum.len() as f64;
    let var = lum.iter().map(|l| (l - mean).powi(2)).sum::<f64>() / lum.len() as f64;
    assert!(var > 100.0, "{}: pixel variance {var:.1}", path.display());
    let inked = px.iter().filter(|p| p.iter().any(|&c| c < 200)).count();
    assert!(
        inked * 100 > px.len(),
        "{}: only {inked} non-white pixels",
        path.display()
    );
}

/// Every file a report must have, and the charts checked as pictures.
fn check_report(dir: &Path, charts: &[&str]) {
    for c in charts {
        check_png(&dir.join(c));
    }
    let html = fs::read_to_string(dir.join("index.html")).expect("index.html");
    let md = fs::read_to_string(dir.join("summary.md")).expect("summary.md");
    for c in charts {
        assert!(
            html.contains(&format!("src=\"{c}\"")),
            "index.html shows {c}"
        );
        assert!(md.contains(&format!("]({c})")), "summary.md links {c}");
    }
    // Self-contained: no network, no script, and every image is a file beside it.
    for bad in ["http://", "https://", "<script", "//cdn"] {
        assert!(!html.contains(bad), "index.html contains {bad}");
    }
    for src in html.split("src=\"").skip(1) {
        let file = src.split('"').next().unwrap_or_default();
        assert!(
            dir.join(file).is_file(),
            "index.html refers to missing {file}"
        );
    }
    let pngs = fs::read_dir(dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "png"))
        })
        .count();
    assert_eq!(pngs, charts.len(), "exactly the expected charts");
}

/// Nothing but `keep` in `dir`: no temporary directory was left behind.
fn assert_no_leftovers(dir: &Path, keep: &[&str]) {
    let names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    for n in &names {
        assert!(
            keep.contains(&n.as_str()),
            "left behind: {n} (in {names:?})"
        );
    }
}

/// Compares `got` with its insta snapshot (`tests/it/snapshots/`); `cargo insta review` or
/// `INSTA_UPDATE=always cargo test report` updates it after a deliberate change.
fn check_snapshot(name: &str, got: &str) {
    insta::assert_snapshot!(name.trim_end_matches(".md"), got);
}

const SIMULATE_CHARTS: [&str; 3] = ["concurrency.png", "per_minute.png", "latency_cdf.png"];

#[test]
fn simulate_report_has_every_chart_and_matches_the_snapshot() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("api");
    let o = faasplan(&[
        "simulate",
        "workloads/api-steady.csv",
        "--seed",
        "0",
        "--report",
        dir.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("index.html"),
        "says where the report is"
    );
    check_report(&dir, &SIMULATE_CHARTS);
    assert!(
        !dir.join("top_functions.png").exists(),
        "one function: no ranking"
    );
    let md = fs::read_to_string(dir.join("summary.md")).unwrap();
    check_snapshot("simulate-api-steady.md", &md);
    assert_no_leftovers(tmp.path(), &["api"]);
}

#[test]
fn multi_function_report_ranks_functions_by_cold_starts() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("multi");
    let o = faasplan(&[
        "simulate",
        "workloads/multi-function.csv",
        "--seed",
        "0",
        "--provisioned",
        "1",
        "--report",
        dir.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let mut charts = SIMULATE_CHARTS.to_vec();
    charts.push("top_functions.png");
    check_report(&dir, &charts);
    let md = fs::read_to_string(dir.join("summary.md")).unwrap();
    assert!(
        md.contains("### Functions with the most cold starts"),
        "{md}"
    );
}

#[test]
fn several_offerings_write_the_comparison_page() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("offerings");
    let o = faasplan(&[
        "simulate",
        "workloads/api-steady.csv",
        "--offering",
        "aws-lambda-x86",
        "--offering",
        "gcp-cloud-run-request",
        "--report",
        dir.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    check_report(&dir, &["cost.png", "latency.png"]);
    let md = fs::read_to_string(dir.join("summary.md")).unwrap();
    assert!(md.contains("aws-lambda-x86") && md.contains("gcp-cloud-run-request"));
}

#[test]
fn an_existing_report_dir_needs_force_and_is_left_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("r");
    fs::create_dir(&dir).unwrap();
    fs::write(dir.join("mine.txt"), "keep me").unwrap();
    let o = faasplan(&[
        "simulate",
        "workloads/api-steady.csv",
        "--report",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(
        e.contains(dir.to_str().unwrap()) && e.contains("--force"),
        "{e}"
    );
    assert!(o.stdout.is_empty(), "fails before printing results");
    assert_eq!(fs::read_to_string(dir.join("mine.txt")).unwrap(), "keep me");
    assert_no_leftovers(&dir, &["mine.txt"]);
    assert_no_leftovers(tmp.path(), &["r"]);

    // --force does not delete a directory faasplan did not write.
    let o = faasplan(&[
        "simulate",
        "workloads/api-steady.csv",
        "--report",
        dir.to_str().unwrap(),
        "--force",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("not a faasplan report"),
        "{}",
        stderr(&o)
    );
    assert_eq!(fs::read_to_string(dir.join("mine.txt")).unwrap(), "keep me");
    assert_no_leftovers(tmp.path(), &["r"]);
}

#[test]
fn force_replaces_an_earlier_report_whole() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("r");
    let d = dir.to_str().unwrap();
    let first = faasplan(&["simulate", "workloads/multi-function.csv", "--report", d]);
    assert!(first.status.success(), "{}", stderr(&first));
    assert!(dir.join("top_functions.png").is_file());
    let again = faasplan(&["simulate", "workloads/api-steady.csv", "--report", d]);
    assert_eq!(again.status.code(), Some(2), "no --force: refused");
    let forced = faasplan(&[
        "simulate",
        "workloads/api-steady.csv",
        "--report",
        d,
        "--force",
    ]);
    assert!(forced.status.success(), "{}", stderr(&forced));
    // The old report is gone whole, not merged with the new one.
    assert!(!dir.join("top_functions.png").exists());
    check_report(&dir, &SIMULATE_CHARTS);
    assert_no_leftovers(tmp.path(), &["r"]);
}

#[test]
fn the_default_report_dir_is_under_reports() {
    assert_eq!(
        report::default_dir("simulate", Path::new("workloads/api-steady.csv")),
        Path::new("reports/simulate-api-steady")
    );
    assert_eq!(
        report::default_dir("sweep", Path::new("/data/my trace.csv")),
        Path::new("reports/sweep-my_trace")
    );
    let tmp = tempfile::tempdir().unwrap();
    let trace = root().join("workloads/api-steady.csv");
    let o = Command::new(env!("CARGO_BIN_EXE_faasplan"))
        .args(["simulate", trace.to_str().unwrap(), "--report"])
        .current_dir(tmp.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    check_report(
        &tmp.path().join("reports/simulate-api-steady"),
        &SIMULATE_CHARTS,
    );
}

#[test]
fn force_without_report_is_a_usage_error() {
    let o = faasplan(&["simulate", "workloads/api-steady.csv", "--force"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--report"), "{}", stderr(&o));
}

// ---------------------------------------------------------------------------------------------
// The pages the compare, sweep and breakeven commands write, on synthetic inputs.

fn compare_page() -> ComparePage {
    let faas = |name: &str, req: f64, dur: f64, p99: f64| CompareEntry {
        name: name.into(),
        kind: "faas".into(),
        cost_items: vec![("requests".into(), req), ("duration".into(), dur)],
        requests: 1_000_000,
        window_s: 3600.0,
        latency_ms: Some(LatencyMs {
            p50: p99 / 3.0,
            p95: p99 / 1.5,
            p99,
        }),
        columns: vec![("cold starts".into(), "12 (0.001 %)".into())],
    };
    ComparePage {
        subtitle: "synthetic".into(),
        options: vec![
            faas("aws-lambda-x86", 146.0, 410.0, 240.0),
            faas("aws-lambda-arm64", 146.0, 330.0, 250.0),
            CompareEntry {
                name: "m7g.large:slots=8,autoscale=2..20@0.6".into(),
                kind: "fleet".into(),
                cost_items: vec![("m7g.large instance-hours".into(), 180.0)],
                requests: 1_000_000,
                window_s: 3600.0,
                latency_ms: Some(LatencyMs {
                    p50: 90.0,
                    p95: 160.0,
                    p99: 420.0,
                }),
                columns: vec![("boot events".into(), "3".into())],
            },
            CompareEntry {
                name: "t3.micro:slots=1,count=1".into(),
                kind: "fleet".into(),
                cost_items: vec![("t3.micro instance-hours".into(), 7.6)],
                requests: 1_000_000,
                window_s: 3600.0,
                latency_ms: None,
                columns: vec![],
            },
        ],
        slo_p99_ms: Some(("SLO p99 ≤ 300 ms".into(), 300.0)),
        notes: vec!["Fleets sized for p99 ≤ 300 ms.".into()],
        warnings: vec![],
    }
}

#[test]
fn compare_page_draws_cost_and_latency_per_option() {
    let tmp = tempfile::tempdir().unwrap();
    let target = ReportTarget::new(tmp.path().join("cmp"), false).unwrap();
    let w = report::compare::write(&compare_page(), &target).unwrap();
    assert_eq!(
        w.files,
        ["cost.png", "latency.png", "index.html", "summary.md"]
    );
    check_report(&tmp.path().join("cmp"), &["cost.png", "latency.png"]);
    let md = fs::read_to_string(tmp.path().join("cmp/summary.md")).unwrap();
    // Two extra columns, as the union of the options' columns; totals and per-million costs.
    assert!(md.contains("| cold starts | boot events |"), "{md}");
    assert!(md.contains("$556.00"), "{md}");
    check_snapshot("compare-synthetic.md", &md);
}

fn est(mean: f64, hw: f64) -> Estimate {
    Estimate {
        mean,
        ci_low: mean - hw,
        ci_high: mean + hw,
        half_width: hw,
    }
}

fn sweep_rows() -> Vec<PointResult> {
    // Cost first falls (fewer cold-start inits billed), then rises linearly; cold starts and
    // p99 fall with more provisioned instances.
    (0..=10)
        .map(|i| {
            let p = (i * 5) as f64;
            let cost = 120.0 - 2.0 * p.min(10.0) + 4.1 * (p - 10.0).max(0.0);
            let cold = 0.02 * (-p / 12.0).exp();
            let p99 = 180.0 + 900.0 * cold;
            PointResult {
                settings: vec![("provisioned".into(), p)],
                keep_alive_policy: None,
                replicas: 10,
                metrics: vec![
                    ("cold_start_ratio".into(), est(cold, cold * 0.15)),
                    ("latency_ms_p99".into(), est(p99, 6.0 + 40.0 * cold)),
                    ("cost_monthly_usd".into(), est(cost, 1.5)),
                ],
            }
        })
        .collect()
}

fn sweep_page(rows: Vec<PointResult>, slos: Vec<Slo>) -> SweepPage {
    let cost = "cost_monthly_usd";
    let metrics = vec![
        SweepMetric::for_column("cold_start_ratio", pareto(&rows, cost, "cold_start_ratio")),
        SweepMetric::for_column("latency_ms_p99", pareto(&rows, cost, "latency_ms_p99")),
    ];
    SweepPage {
        subtitle: "synthetic sweep".into(),
        x_setting: "provisioned".into(),
        x_label: "provisioned concurrency (instances per function)".into(),
        cost_column: cost.into(),
        metrics,
        recommended: cheapest_meeting(&rows, &slos, cost),
        rows,
        slos,
        memory: None,
        notes: vec![],
        warnings: vec![],
    }
}

#[test]
fn sweep_page_draws_cost_against_each_metric_and_its_front() {
    let slos = vec![
        Slo::parse("p99<=200ms").unwrap(),
        Slo::parse("cold_start_ratio<=0.5%").unwrap(),
    ];
    let page = sweep_page(sweep_rows(), slos);
    assert!(page.recommended.is_some());
    let tmp = tempfile::tempdir().unwrap();
    let target = ReportTarget::new(tmp.path().join("sweep"), false).unwrap();
    report::sweep::write(&page, &target).unwrap();
    let charts = [
        "cost_cold_start_ratio.png",
        "pareto_cold_start_ratio.png",
        "cost_latency_ms_p99.png",
        "pareto_latency_ms_p99.png",
    ];
    check_report(&tmp.path().join("sweep"), &charts);
    let md = fs::read_to_string(tmp.path().join("sweep/summary.md")).unwrap();
    assert!(md.contains("Recommended: provisioned = "), "{md}");
    assert!(md.contains("yes (recommended)"), "{md}");
    check_snapshot("sweep-synthetic.md", &md);
}

/// Two memory sizes: two series on each chart.
fn two_series_rows() -> Vec<PointResult> {
    let mut rows = Vec::new();
    for mem in [512.0, 1024.0] {
        for mut r in sweep_rows() {
            r.settings.insert(0, ("memory_mb".into(), mem));
            for (c, e) in &mut r.metrics {
                if c == "cost_monthly_usd" {
                    *e = est(e.mean * mem / 512.0, e.half_width);
                }
                if c == "latency_ms_p99" {
                    *e = est(e.mean * 512.0 / mem, e.half_width);
                }
            }
            rows.push(r);
        }
    }
    rows
}

#[test]
fn sweep_page_with_several_series_and_no_recommendation() {
    let page = sweep_page(two_series_rows(), vec![Slo::parse("p99<=50ms").unwrap()]);
    assert_eq!(page.recommended, None);
    let tmp = tempfile::tempdir().unwrap();
    let target = ReportTarget::new(tmp.path().join("sweep2"), false).unwrap();
    report::sweep::write(&page, &target).unwrap();
    let md = fs::read_to_string(tmp.path().join("sweep2/summary.md")).unwrap();
    assert!(md.contains("No grid point meets every SLO."), "{md}");
    check_png(&tmp.path().join("sweep2/cost_latency_ms_p99.png"));
}

fn breakeven_page() -> BreakevenPage {
    // FaaS cost grows linearly with traffic; the fleet steps up as it needs instances.
    let points: Vec<BreakevenPoint> = (0..13)
        .map(|i| {
            let k = 0.1 * 10f64.powf(i as f64 / 4.0);
            let rps = 4.8 * k;
            let instances = (rps / 40.0).ceil().max(2.0);
            BreakevenPoint {
                k,
                requests_per_s: rps,
                faas_monthly_usd: 7.9 * rps,
                fleet_monthly_usd: 59.6 * instances,
                faas_p99_ms: Some(260.0 - 10.0 * (k.ln())),
                fleet_p99_ms: Some(120.0 + 30.0 * (rps / (40.0 * instances))),
                faas_feasible: true,
                fleet_feasible: true,
            }
        })
        .collect();
    BreakevenPage {
        subtitle: "synthetic".into(),
        faas: "aws-lambda-x86".into(),
        fleet: "m7g.large:slots=8,autoscale=2..20@0.6".into(),
        points,
        crossing: Some(BreakevenCrossing {
            k: 3.15,
            requests_per_s: 15.09,
            monthly_usd: 119.2,
        }),
        notes: vec![],
        warnings: vec![],
    }
}

#[test]
fn breakeven_page_marks_the_crossing() {
    let tmp = tempfile::tempdir().unwrap();
    let target = ReportTarget::new(tmp.path().join("be"), false).unwrap();
    report::breakeven::write(&breakeven_page(), &target).unwrap();
    check_report(&tmp.path().join("be"), &["breakeven.png", "latency.png"]);
    let md = fs::read_to_string(tmp.path().join("be/summary.md")).unwrap();
    assert!(
        md.contains("cross at about 15.1 requests/s (k = 3.15×)"),
        "{md}"
    );
}

#[test]
fn a_chart_that_cannot_be_drawn_is_an_error_and_leaves_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let mut page = compare_page();
    page.options[1].cost_items[0].1 = f64::NAN;
    let target = ReportTarget::new(tmp.path().join("bad"), false).unwrap();
    let e = report::compare::write(&page, &target).unwrap_err();
    assert!(matches!(e, ReportError::Chart { .. }), "{e:?}");
    let msg = e.to_string();
    assert!(
        msg.contains("cost.png") && msg.contains("aws-lambda-arm64"),
        "{msg}"
    );

    let mut page = breakeven_page();
    page.points[3].fleet_monthly_usd = f64::INFINITY;
    let e = report::breakeven::write(&page, &target).unwrap_err();
    assert!(e.to_string().contains("breakeven.png"), "{e}");

    let page = SweepPage {
        x_setting: "keep_alive".into(),
        ..sweep_page(sweep_rows(), vec![])
    };
    let e = report::sweep::write(&page, &target).unwrap_err();
    assert!(e.to_string().contains("keep_alive"), "{e}");
    assert_no_leftovers(tmp.path(), &[]);
}

#[test]
fn report_target_refuses_bad_names() {
    for bad in ["/", ".."] {
        let e = ReportTarget::new(bad, true).unwrap_err();
        assert!(matches!(e, ReportError::BadDir { .. }), "{bad}: {e}");
    }
}

/// With `REPORT_PREVIEW_DIR=/some/dir`, writes the synthetic pages there to look at (each chart
/// must be looked at before a change to the charts is done); otherwise does nothing.
#[test]
fn preview_synthetic_pages() {
    let Some(dir) = std::env::var_os("REPORT_PREVIEW_DIR") else {
        return;
    };
    let dir = PathBuf::from(dir);
    let slos = vec![
        Slo::parse("p99<=200ms").unwrap(),
        Slo::parse("cold_start_ratio<=0.5%").unwrap(),
    ];
    let t = |name: &str| ReportTarget::new(dir.join(name), true).unwrap();
    report::compare::write(&compare_page(), &t("compare")).unwrap();
    report::sweep::write(&sweep_page(sweep_rows(), slos), &t("sweep")).unwrap();
    report::breakeven::write(&breakeven_page(), &t("breakeven")).unwrap();
    let slo = vec![Slo::parse("p99<=120ms").unwrap()];
    report::sweep::write(&sweep_page(two_series_rows(), slo), &t("sweep2")).unwrap();
}

#[test]
fn compare_sweep_and_breakeven_write_their_reports() {
    let dir = tempfile::tempdir().unwrap();
    let trace = "workloads/api-steady.csv";
    let cases: [(&str, Vec<&str>, &[&str]); 3] = [
        (
            "compare",
            vec![
                "compare",
                trace,
                "--offering",
                "aws-lambda-x86",
                "--fleet",
                "m7g.large:slots=8",
                "--fleet",
                "t4g.small:slots=4,autoscale=1..3@0.6",
            ],
            &["cost.png", "latency.png"],
        ),
        (
            "sweep",
            vec![
                "sweep",
                trace,
                "--offering",
                "aws-lambda-x86",
                "--provisioned",
                "0..=4",
                "--replicas",
                "3",
                "--slo",
                "p99<=300ms",
                "--quiet",
            ],
            &[
                "cost_latency_ms_p99.png",
                "cost_cold_start_ratio.png",
                "pareto_latency_ms_p99.png",
                "pareto_cold_start_ratio.png",
            ],
        ),
        (
            "breakeven",
            vec![
                "breakeven",
                trace,
                "--offering",
                "aws-lambda-x86",
                "--fleet",
                "m7g.large:slots=8,count=1",
                "--points",
                "4",
            ],
            &["breakeven.png", "latency.png"],
        ),
    ];
    for (name, mut args, charts) in cases {
        let out_dir = dir.path().join(name);
        let d = out_dir.to_str().unwrap().to_string();
        args.extend(["--report", &d]);
        let out = faasplan(&args);
        assert_eq!(out.status.code(), Some(0), "{name}: {}", stderr(&out));
        check_report(&out_dir, charts);
    }
}
