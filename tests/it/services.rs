//! The services around a function (`--front-door`, `--queue`, `--response-kb`, `--log-kb`):
//! the providers' worked examples rebuilt to the cent, an ALB's LCUs by hand, and the counts that
//! drive each line.

use faasplan::cost::services::{FrontDoor, Queue, ServiceOptions, lines};
use faasplan::cost::{BillLine, MONTH_US};
use faasplan::engine::simulate;
use faasplan::outcome::{Minute, Outcome};
use faasplan::time::HOUR;
use faasplan::trace::Trigger;

use crate::common::{self, Service, faasplan, stderr};

/// A real outcome, its counts then set by hand: `requests` sync and `events` async invocations,
/// all served, over `window`.
fn outcome(requests: u64, events: u64, window: u64) -> Outcome {
    let trace = common::poisson(1.0, 60.0, Service::Constant(0.01), 1);
    let cfg = common::unlimited(600.0, 0.0);
    let mut o = simulate(&trace, &cfg.validate_for(&trace).unwrap());
    o.window_us = window;
    o.totals.invocations = requests + events;
    o.totals.event_invocations = events;
    o.totals.warm_starts = requests + events;
    o.totals.cold_starts = 0;
    o
}

fn month_usd(ls: &[BillLine]) -> f64 {
    ls.iter().map(|l| l.monthly_usd).sum()
}

fn line<'a>(ls: &'a [BillLine], item: &str) -> &'a BillLine {
    ls.iter()
        .find(|l| l.item == item)
        .unwrap_or_else(|| panic!("{item} in {ls:?}"))
}

#[test]
fn api_gateway_rest_worked_example_to_the_cent() {
    // AWS's API Gateway pricing example (REST): 5 million calls a month with 3 KB responses
    // cost 5 x $3.50 = $17.50 for the calls and 15,000,000 KB = 14.3 GB x $0.09 = $1.29 of data
    // transfer: $18.79 (restated e.g. by awsforengineers.com, "AWS API Gateway Pricing
    // Explained", 2025; tiers from the AWS whitepaper cited in pricing/services/).
    let opts = ServiceOptions {
        front_door: Some(FrontDoor::ApiGatewayRest),
        response_kb: 3,
        ..ServiceOptions::default()
    };
    let (ls, _, free) = lines(&outcome(5_000_000, 0, MONTH_US), "x", "aws", &opts, false).unwrap();
    assert!(!free);
    assert!((line(&ls, "api-gateway-rest requests").monthly_usd - 17.50).abs() < 1e-9);
    assert!((line(&ls, "data transfer out").monthly_usd - 1.29).abs() < 0.005);
    assert_eq!(format!("{:.2}", month_usd(&ls)), "18.79");
    // With the free tier: a million calls and 100 GB free.
    let (ls, _, free) = lines(&outcome(5_000_000, 0, MONTH_US), "x", "aws", &opts, true).unwrap();
    assert!(free);
    assert!((line(&ls, "api-gateway-rest requests").monthly_usd - 4.0 * 3.50).abs() < 1e-9);
    assert_eq!(line(&ls, "data transfer out").monthly_usd, 0.0);
}

#[test]
fn api_gateway_http_meters_512_kb_and_tiers_at_300_million() {
    // 200 million calls of 400 KB + 200 KB: two metered requests each, 400 million a month:
    // 300 x $1.00 + 100 x $0.90 = $390.
    let opts = ServiceOptions {
        front_door: Some(FrontDoor::ApiGatewayHttp),
        request_kb: 400,
        ..ServiceOptions::default()
    };
    let big = ServiceOptions {
        request_kb: 600,
        ..opts
    };
    let (ls, _, _) = lines(&outcome(200_000_000, 0, MONTH_US), "x", "aws", &big, false).unwrap();
    assert!((month_usd(&ls) - 390.0).abs() < 1e-6, "{ls:?}");
    // Within 512 KB: one each, 200 x $1.00.
    let (ls, _, _) = lines(&outcome(200_000_000, 0, MONTH_US), "x", "aws", &opts, false).unwrap();
    assert!((month_usd(&ls) - 200.0).abs() < 1e-6);
    // The window is scaled to the month: a tenth of the month with a tenth of the calls.
    let (ls, _, _) = lines(
        &outcome(20_000_000, 0, MONTH_US / 10),
        "x",
        "aws",
        &opts,
        false,
    )
    .unwrap();
    assert!((month_usd(&ls) - 200.0).abs() < 1e-6);
    assert!((ls[0].amount_usd - 20.0).abs() < 1e-6);
}

#[test]
fn an_alb_bills_its_hours_and_the_largest_lcu_dimension_of_each_hour() {
    // Two hours at 10 requests a second (36,000 an hour), 1 KB + 100 KB each, at most 3 in
    // flight. An hour: new connections 10/25 = 0.4 LCU; active 3/3000; processed
    // 36,000 x 101 KB = 3.468 GB, over 0.4 GB for a Lambda target = 8.67 LCU: the largest.
    let mut o = outcome(72_000, 0, 2 * HOUR);
    o.minutes = vec![
        Minute {
            invocations: 600,
            peak_busy: 3,
            ..Minute::default()
        };
        120
    ];
    let opts = ServiceOptions {
        front_door: Some(FrontDoor::Alb),
        response_kb: 100,
        ..ServiceOptions::default()
    };
    let (ls, notes, _) = lines(&o, "x", "aws", &opts, false).unwrap();
    let lcu_per_hour = 36_000.0 * 101.0 / 1_048_576.0 / 0.4;
    let lcu = line(&ls, "alb LCU-hours");
    assert!((lcu.quantity - 2.0 * lcu_per_hour).abs() < 1e-9, "{lcu:?}");
    assert!((lcu.amount_usd - 2.0 * lcu_per_hour * 0.008).abs() < 1e-9);
    let hours = line(&ls, "alb hours");
    assert_eq!(hours.quantity, 2.0);
    // A month of it: 730 ALB-hours.
    assert!((hours.monthly_usd - 730.0 * 0.0225).abs() < 1e-9);
    assert!(
        notes
            .iter()
            .any(|n| n.contains("one request per connection"))
    );
    // Fifteen rules: 5 beyond the free 10, 50 evaluations a second, 0.05 LCU: bytes still win.
    let rules = ServiceOptions {
        alb_rules: 15,
        ..opts
    };
    let (ls, _, _) = lines(&o, "x", "aws", &rules, false).unwrap();
    assert!((line(&ls, "alb LCU-hours").quantity - 2.0 * lcu_per_hour).abs() < 1e-9);
}

#[test]
fn a_queue_carries_the_event_invocations_only() {
    // 1,000,000 sync and 2,000,000 async invocations in a month; SQS: 3 requests a message of
    // 100 KB (two 64 KB chunks): 12 million requests x $0.40 = $4.80.
    let opts = ServiceOptions {
        queue: Some(Queue::Sqs),
        request_kb: 100,
        ..ServiceOptions::default()
    };
    let (ls, _, _) = lines(
        &outcome(1_000_000, 2_000_000, MONTH_US),
        "x",
        "aws",
        &opts,
        false,
    )
    .unwrap();
    assert!((line(&ls, "sqs requests").monthly_usd - 4.80).abs() < 1e-9);
    let sns = ServiceOptions {
        queue: Some(Queue::Sns),
        request_kb: 1,
        ..opts
    };
    let (ls, _, _) = lines(
        &outcome(1_000_000, 2_000_000, MONTH_US),
        "x",
        "aws",
        &sns,
        false,
    )
    .unwrap();
    assert!((line(&ls, "sns requests").monthly_usd - 1.00).abs() < 1e-9);
    // No event invocations: the line is there at $0, and a note says why.
    let (ls, notes, _) = lines(&outcome(1_000, 0, MONTH_US), "x", "aws", &opts, false).unwrap();
    assert_eq!(month_usd(&ls), 0.0);
    assert!(
        notes
            .iter()
            .any(|n| n.contains("no invocation has an async"))
    );
}

#[test]
fn the_engine_counts_event_invocations_by_trigger() {
    let trace = common::poisson_multi(
        &[
            (2.0, Service::Constant(0.05), Trigger::Sync),
            (1.0, Service::Constant(0.05), Trigger::Async),
            (1.0, Service::Constant(0.05), Trigger::Queue),
        ],
        600.0,
        3,
    );
    let mut cfg = common::unlimited(600.0, 0.0);
    cfg.warmup = faasplan::engine::Warmup::None;
    let o = simulate(&trace, &cfg.validate_for(&trace).unwrap());
    let events = trace
        .invocations()
        .iter()
        .filter(|i| i.trigger != Trigger::Sync)
        .count() as u64;
    assert_eq!(o.totals.event_invocations, events);
    assert!(events > 0 && events < o.totals.invocations);
}

#[test]
fn services_come_out_as_their_own_bill_lines_and_refuse_another_provider() {
    let v = common::json_out(&faasplan(&[
        "simulate",
        "workloads/api-steady.csv",
        "--offering",
        "aws-lambda-x86",
        "--front-door",
        "api-gateway-http",
        "--response-kb",
        "4",
        "--log-kb",
        "2",
        "--format",
        "json",
    ]));
    let items: Vec<&str> = v["cost"]["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["item"].as_str().unwrap())
        .collect();
    for want in [
        "api-gateway-http requests",
        "data transfer out",
        "log ingestion",
    ] {
        assert!(items.contains(&want), "{items:?}");
    }
    let sum: f64 = v["cost"]["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["monthly_usd"].as_f64().unwrap())
        .sum();
    assert!((sum - v["cost"]["monthly_usd"].as_f64().unwrap()).abs() < 1e-9);
    let notes = v["cost"]["notes"].to_string();
    assert!(
        notes.contains("pricing/services/aws-us-east-1.toml"),
        "{notes}"
    );
    // Another provider's offering: exit 2 naming the services and the file.
    let out = faasplan(&[
        "simulate",
        "workloads/api-steady.csv",
        "--offering",
        "gcp-cloud-run-request",
        "--front-door",
        "alb",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("--front-door") && err.contains("aws"), "{err}");
    // An unknown service names the flag and the choices.
    let out = faasplan(&[
        "simulate",
        "workloads/api-steady.csv",
        "--front-door",
        "nginx",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("api-gateway-http"));
}
