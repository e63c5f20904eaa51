//! The services around a function, priced as their own bill lines: the front door (API Gateway
//! REST or HTTP APIs, a Lambda function URL, an Application Load Balancer), log ingestion, data
//! transfer out, and the queue or topic that carries async and queue-triggered invocations. The
//! prices are data (`pricing/services/aws-us-east-1.toml`, each with its source); the usage comes
//! from the outcome (requests, executions, per-minute arrivals and concurrency) and the sizes the
//! user gives ([`ServiceOptions`]). Like the rest of the bill, a pure function of both.

use std::sync::OnceLock;

use serde::Deserialize;

use super::{BillLine, CostError};
use crate::outcome::Outcome;
use crate::time::{HOUR, MINUTE};

/// KB in a GB, as AWS bills data (2^30 bytes).
const KB_PER_GB: f64 = 1_048_576.0;

/// The front door of a FaaS function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrontDoor {
    ApiGatewayRest,
    ApiGatewayHttp,
    FunctionUrl,
    Alb,
}

impl FrontDoor {
    pub const NAMES: [&'static str; 4] = [
        "api-gateway-rest",
        "api-gateway-http",
        "function-url",
        "alb",
    ];

    pub fn parse(s: &str) -> Option<FrontDoor> {
        Some(match s.trim() {
            "api-gateway-rest" | "rest" => FrontDoor::ApiGatewayRest,
            "api-gateway-http" | "http" => FrontDoor::ApiGatewayHttp,
            "function-url" | "url" => FrontDoor::FunctionUrl,
            "alb" => FrontDoor::Alb,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            FrontDoor::ApiGatewayRest => "api-gateway-rest",
            FrontDoor::ApiGatewayHttp => "api-gateway-http",
            FrontDoor::FunctionUrl => "function-url",
            FrontDoor::Alb => "alb",
        }
    }
}

/// What carries the async and queue-triggered invocations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Queue {
    Sqs,
    Sns,
    EventBridge,
}

impl Queue {
    pub const NAMES: [&'static str; 3] = ["sqs", "sns", "eventbridge"];

    pub fn parse(s: &str) -> Option<Queue> {
        Some(match s.trim() {
            "sqs" => Queue::Sqs,
            "sns" => Queue::Sns,
            "eventbridge" => Queue::EventBridge,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Queue::Sqs => "sqs",
            Queue::Sns => "sns",
            Queue::EventBridge => "eventbridge",
        }
    }
}

/// The services a bill includes and the sizes that drive them. The default includes none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServiceOptions {
    /// Every sync request arrives through it.
    pub front_door: Option<FrontDoor>,
    /// Every async or queue-triggered invocation is one message on it.
    pub queue: Option<Queue>,
    /// Mean request (or message) payload, KB.
    pub request_kb: u32,
    /// Mean response sent to the internet per served invocation, KB (0: no data transfer line).
    pub response_kb: u32,
    /// Log volume written per execution, KB (0: no log line).
    pub log_kb: u32,
    /// ALB listener rules evaluated per request.
    pub alb_rules: u32,
}

impl Default for ServiceOptions {
    fn default() -> Self {
        ServiceOptions {
            front_door: None,
            queue: None,
            request_kb: 1,
            response_kb: 0,
            log_kb: 0,
            alb_rules: 1,
        }
    }
}

impl ServiceOptions {
    /// True when the bill has at least one service line.
    pub fn any(&self) -> bool {
        self.front_door.is_some() || self.queue.is_some() || self.response_kb > 0 || self.log_kb > 0
    }
}

// ---- The price file ----

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogFile {
    version: u32,
    catalog: Meta,
    #[serde(rename = "api-gateway-rest")]
    rest: Requests,
    #[serde(rename = "api-gateway-http")]
    http: Requests,
    #[serde(rename = "function-url")]
    url: Requests,
    alb: Alb,
    logs: PerGb,
    #[serde(rename = "data-transfer-out")]
    transfer: TieredGb,
    sqs: Messages,
    sns: Messages,
    eventbridge: Messages,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Meta {
    provider: String,
    region: String,
}

/// Source fields every item carries.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Requests {
    tiers: Vec<MillionTier>,
    #[serde(default)]
    metered_kb: Option<f64>,
    #[serde(default)]
    free_millions_per_month: f64,
    source: String,
    as_of: String,
    confidence: String,
    #[serde(default)]
    note: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MillionTier {
    #[serde(default)]
    up_to_millions: Option<f64>,
    usd_per_million: f64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Alb {
    usd_per_hour: f64,
    usd_per_lcu_hour: f64,
    lcu_new_connections_per_s: f64,
    lcu_active_connections: f64,
    lcu_gb_per_hour: f64,
    lcu_gb_per_hour_lambda: f64,
    lcu_rule_evaluations_per_s: f64,
    free_rules: u32,
    source: String,
    as_of: String,
    confidence: String,
    #[serde(default)]
    note: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PerGb {
    usd_per_gb: f64,
    #[serde(default)]
    free_gb_per_month: f64,
    source: String,
    as_of: String,
    confidence: String,
    #[serde(default)]
    note: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TieredGb {
    tiers: Vec<GbTier>,
    #[serde(default)]
    free_gb_per_month: f64,
    source: String,
    as_of: String,
    confidence: String,
    #[serde(default)]
    note: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GbTier {
    #[serde(default)]
    up_to_gb: Option<f64>,
    usd_per_gb: f64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Messages {
    usd_per_million: f64,
    requests_per_message: f64,
    chunk_kb: f64,
    #[serde(default)]
    free_millions_per_month: f64,
    source: String,
    as_of: String,
    confidence: String,
    #[serde(default)]
    note: Option<String>,
}

/// The shipped price file.
pub const SHIPPED: &str = include_str!("../../pricing/services/aws-us-east-1.toml");
/// Its path, for messages.
pub const SHIPPED_PATH: &str = "pricing/services/aws-us-east-1.toml";

/// The shipped catalogue, parsed once. A parse error is a defect of the shipped file (a test
/// reads it), reported as such.
fn catalog() -> Result<&'static CatalogFile, CostError> {
    static CATALOG: OnceLock<Result<CatalogFile, String>> = OnceLock::new();
    CATALOG
        .get_or_init(|| parse(SHIPPED))
        .as_ref()
        .map_err(|e| CostError::Services(format!("{SHIPPED_PATH}: {e}")))
}

fn parse(text: &str) -> Result<CatalogFile, String> {
    let file: CatalogFile = toml::from_str(text).map_err(|e| {
        let line = e
            .span()
            .map_or(0, |s| crate::dist::line_column(text, s.start).0);
        format!("line {line}: {}", e.message().trim())
    })?;
    if file.version != 1 {
        return Err(format!("version {}: expected 1", file.version));
    }
    let sourced = [
        (&file.rest.source, &file.rest.as_of, "api-gateway-rest"),
        (&file.http.source, &file.http.as_of, "api-gateway-http"),
        (&file.url.source, &file.url.as_of, "function-url"),
        (&file.alb.source, &file.alb.as_of, "alb"),
        (&file.logs.source, &file.logs.as_of, "logs"),
        (
            &file.transfer.source,
            &file.transfer.as_of,
            "data-transfer-out",
        ),
        (&file.sqs.source, &file.sqs.as_of, "sqs"),
        (&file.sns.source, &file.sns.as_of, "sns"),
        (
            &file.eventbridge.source,
            &file.eventbridge.as_of,
            "eventbridge",
        ),
    ];
    for (source, as_of, item) in sourced {
        if source.trim().is_empty() || as_of.trim().is_empty() {
            return Err(format!("[{item}]: every price needs its source and as_of"));
        }
    }
    for (tiers, item) in [
        (&file.rest.tiers, "api-gateway-rest"),
        (&file.http.tiers, "api-gateway-http"),
        (&file.url.tiers, "function-url"),
    ] {
        let last_open = tiers.last().is_some_and(|t| t.up_to_millions.is_none());
        if !last_open || tiers.iter().any(|t| t.usd_per_million < 0.0) {
            return Err(format!(
                "[{item}]: tiers must end with an unbounded one and rates be non-negative"
            ));
        }
    }
    if file
        .transfer
        .tiers
        .last()
        .is_none_or(|t| t.up_to_gb.is_some())
    {
        return Err("[data-transfer-out]: tiers must end with an unbounded one".into());
    }
    Ok(file)
}

/// The cost of `q` units over volume tiers `(up_to, rate)`.
fn tiered(tiers: &[(Option<f64>, f64)], q: f64) -> f64 {
    let mut cost = 0.0;
    let mut lower = 0.0;
    for &(up_to, rate) in tiers {
        let upper = up_to.unwrap_or(f64::INFINITY);
        if q > lower {
            cost += (q.min(upper) - lower) * rate;
        }
        if q <= upper {
            break;
        }
        lower = upper;
    }
    cost
}

/// Builds bill lines: each knows its window quantity, the month's, the free part and the month's
/// charge (the window's share is applied by the caller's `share`).
struct Lines {
    to_month: f64,
    share: f64,
    free_tier: bool,
    lines: Vec<BillLine>,
    free_applied: bool,
}

impl Lines {
    /// A line of `quantity` `unit`s in the window, priced over `tiers` (USD per unit) with `free`
    /// units a month free under `--free-tier`.
    fn add(
        &mut self,
        item: String,
        unit: &str,
        quantity: f64,
        tiers: &[(Option<f64>, f64)],
        free: f64,
    ) {
        let monthly_quantity = quantity * self.to_month;
        let free_quantity = if self.free_tier {
            monthly_quantity.min(free)
        } else {
            0.0
        };
        if free_quantity > 0.0 {
            self.free_applied = true;
        }
        let monthly_usd = (tiered(tiers, monthly_quantity) - tiered(tiers, free_quantity)).max(0.0);
        self.lines.push(BillLine {
            item,
            unit: unit.to_string(),
            rate_usd: tiers.first().map_or(0.0, |t| t.1),
            quantity,
            monthly_quantity,
            free_quantity,
            monthly_usd,
            amount_usd: monthly_usd * self.share,
        });
    }
}

/// Where a service's prices come from, for the bill's notes: the section of the price file, its
/// date and confidence, and its caveat.
fn provenance(section: &str, as_of: &str, confidence: &str, note: Option<&String>) -> String {
    let mut s = format!(
        "{section}: priced from {SHIPPED_PATH} [{section}] (as of {as_of}, confidence {confidence})"
    );
    if let Some(n) = note {
        s.push_str("; ");
        s.push_str(n);
    }
    s
}

/// Per-million tiers as `(up_to, rate)` pairs, in millions.
fn per_million(tiers: &[MillionTier]) -> Vec<(Option<f64>, f64)> {
    tiers
        .iter()
        .map(|t| (t.up_to_millions, t.usd_per_million))
        .collect()
}

/// The unit of request lines, as the function's own requests line has it.
const MILLIONS: &str = "1M requests";

/// The service lines of `outcome`'s bill on an offering of `provider` (`offering` names it in
/// errors), and notes on what they assume. Empty when `opts` selects none.
pub fn lines(
    outcome: &Outcome,
    offering: &str,
    provider: &str,
    opts: &ServiceOptions,
    free_tier: bool,
) -> Result<(Vec<BillLine>, Vec<String>, bool), CostError> {
    if !opts.any() {
        return Ok((Vec::new(), Vec::new(), false));
    }
    let c = catalog()?;
    if provider != c.catalog.provider {
        return Err(CostError::Services(format!(
            "{offering} is a {provider} offering, and the services around a function \
             (--front-door, --queue, --response-kb, --log-kb) are priced for {} only ({SHIPPED_PATH})",
            c.catalog.provider
        )));
    }
    let window = outcome.window_us;
    let to_month = if window == 0 {
        0.0
    } else {
        super::MONTH_US as f64 / window as f64
    };
    let mut b = Lines {
        to_month,
        share: window as f64 / super::MONTH_US as f64,
        free_tier,
        lines: Vec::new(),
        free_applied: false,
    };
    let mut notes = Vec::new();
    let t = &outcome.totals;
    let requests = t.invocations.saturating_sub(t.event_invocations) as f64;
    let served = (t.warm_starts + t.cold_starts) as f64;
    let request_kb = f64::from(opts.request_kb);
    let response_kb = f64::from(opts.response_kb);
    let region = &c.catalog.region;

    let request_door = match opts.front_door {
        Some(FrontDoor::ApiGatewayRest) => Some((&c.rest, 1.0)),
        // Each `metered_kb` of request and response is one metered request.
        Some(FrontDoor::ApiGatewayHttp) => Some((
            &c.http,
            c.http
                .metered_kb
                .map_or(1.0, |m| ((request_kb + response_kb) / m).ceil().max(1.0)),
        )),
        Some(FrontDoor::FunctionUrl) => Some((&c.url, 1.0)),
        Some(FrontDoor::Alb) | None => None,
    };
    if let (Some((r, per)), Some(door)) = (request_door, opts.front_door) {
        notes.push(provenance(
            door.name(),
            &r.as_of,
            &r.confidence,
            r.note.as_ref(),
        ));
        b.add(
            format!("{} requests", door.name()),
            MILLIONS,
            requests * per / 1e6,
            &per_million(&r.tiers),
            r.free_millions_per_month,
        );
    }
    if opts.front_door == Some(FrontDoor::Alb) {
        let a = &c.alb;
        notes.push(provenance("alb", &a.as_of, &a.confidence, a.note.as_ref()));
        // The load balancer runs the whole window; the month that repeats it, 730 hours.
        let hours = window as f64 / HOUR as f64;
        b.add(
            "alb hours".into(),
            "hours",
            hours,
            &[(None, a.usd_per_hour)],
            0.0,
        );
        let lcu = alb_lcu_hours(outcome, a, opts, true);
        b.add(
            "alb LCU-hours".into(),
            "LCU-hours",
            lcu,
            &[(None, a.usd_per_lcu_hour)],
            0.0,
        );
        notes.push(format!(
            "the ALB's LCUs assume one request per connection, connections alive while their \
                 request executes, {} KB per request and response, {} rule{} per request and a \
                 Lambda target ({region})",
            opts.request_kb + opts.response_kb,
            opts.alb_rules,
            if opts.alb_rules == 1 { "" } else { "s" }
        ));
    }
    if opts.response_kb > 0 {
        let d = &c.transfer;
        notes.push(provenance(
            "data-transfer-out",
            &d.as_of,
            &d.confidence,
            d.note.as_ref(),
        ));
        let tiers: Vec<(Option<f64>, f64)> =
            d.tiers.iter().map(|t| (t.up_to_gb, t.usd_per_gb)).collect();
        b.add(
            "data transfer out".into(),
            "GB",
            served * response_kb / KB_PER_GB,
            &tiers,
            d.free_gb_per_month,
        );
    }
    if opts.log_kb > 0 {
        let l = &c.logs;
        notes.push(provenance("logs", &l.as_of, &l.confidence, l.note.as_ref()));
        b.add(
            "log ingestion".into(),
            "GB",
            served * f64::from(opts.log_kb) / KB_PER_GB,
            &[(None, l.usd_per_gb)],
            l.free_gb_per_month,
        );
    }
    if let Some(q) = opts.queue {
        let m = match q {
            Queue::Sqs => &c.sqs,
            Queue::Sns => &c.sns,
            Queue::EventBridge => &c.eventbridge,
        };
        notes.push(provenance(
            q.name(),
            &m.as_of,
            &m.confidence,
            m.note.as_ref(),
        ));
        let chunks = (request_kb / m.chunk_kb).ceil().max(1.0);
        let n = t.event_invocations as f64 * m.requests_per_message * chunks;
        b.add(
            format!("{} requests", q.name()),
            MILLIONS,
            n / 1e6,
            &[(None, m.usd_per_million)],
            m.free_millions_per_month,
        );
        if t.event_invocations == 0 {
            notes.push(format!(
                "--queue {}: no invocation has an async or queue trigger, so it carried nothing",
                q.name()
            ));
        }
    }
    let free = b.free_applied;
    Ok((b.lines, notes, free))
}

/// One hour of traffic through a load balancer: its requests, the most connections active at
/// once in a minute of it, and its length (the window's last hour may be partial), seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
struct HourLoad {
    requests: u64,
    active: f64,
    seconds: f64,
}

/// The hours of a window from a per-minute series; `load` gives an hour's requests and active
/// connections from its minutes.
fn hours_of<M>(
    window: crate::time::Micros,
    minutes: &[M],
    load: impl Fn(&[M]) -> (u64, f64),
) -> Vec<HourLoad> {
    let per_hour = (HOUR / MINUTE) as usize;
    (0..window.div_ceil(HOUR))
        .map(|h| {
            let lo = (h as usize * per_hour).min(minutes.len());
            let hi = ((h as usize + 1) * per_hour).min(minutes.len());
            let (requests, active) = load(&minutes[lo..hi]);
            let end = ((h + 1) * HOUR).min(window);
            HourLoad {
                requests,
                active,
                seconds: (end - h * HOUR) as f64 / 1e6,
            }
        })
        .collect()
}

/// LCU-hours of an ALB over `hours`: for each, the largest of its four dimensions in LCUs (a
/// partial hour counts its share).
/// `lambda`: the targets are Lambda functions (0.4 GB an LCU) rather than instances (1 GB).
fn lcu_hours(hours: &[HourLoad], a: &Alb, kb: f64, rules: u32, lambda: bool) -> f64 {
    let gb_per_lcu = if lambda {
        a.lcu_gb_per_hour_lambda
    } else {
        a.lcu_gb_per_hour
    };
    let rules = f64::from(rules.saturating_sub(a.free_rules));
    hours
        .iter()
        .filter(|h| h.seconds > 0.0)
        .map(|h| {
            // Rates over the hour's own length; a partial hour counts its share of an hour.
            let per_s = h.requests as f64 / h.seconds;
            let gb_per_hour = h.requests as f64 * kb / KB_PER_GB * 3_600.0 / h.seconds;
            let lcu = (per_s / a.lcu_new_connections_per_s)
                .max(h.active / a.lcu_active_connections)
                .max(gb_per_hour / gb_per_lcu)
                .max(per_s * rules / a.lcu_rule_evaluations_per_s);
            lcu * h.seconds / 3_600.0
        })
        .sum()
}

/// LCU-hours of an ALB in front of the FaaS run: requests from the per-minute arrivals, active
/// connections from the peak of requests in flight.
fn alb_lcu_hours(outcome: &Outcome, a: &Alb, opts: &ServiceOptions, lambda: bool) -> f64 {
    let hours = hours_of(outcome.window_us, &outcome.minutes, |ms| {
        (
            ms.iter().map(|m| m.invocations).sum(),
            f64::from(ms.iter().map(|m| m.peak_busy).max().unwrap_or(0)),
        )
    });
    lcu_hours(
        &hours,
        a,
        f64::from(opts.request_kb + opts.response_kb),
        opts.alb_rules,
        lambda,
    )
}

/// An ALB in front of a server fleet, for the window: its hours and LCU-hours, with their prices
/// and where they come from.
#[derive(Debug, Clone, PartialEq)]
pub struct AlbCharge {
    pub hours: f64,
    pub usd_per_hour: f64,
    pub lcu_hours: f64,
    pub usd_per_lcu_hour: f64,
    pub provenance: String,
}

/// The ALB in front of fleet run `o` (instance targets: 1 GB an LCU): requests per hour from
/// the per-minute series, active connections from the mean busy slots of its busiest minute.
pub fn alb_for_fleet(
    o: &crate::outcome::fleet::FleetOutcome,
    request_kb: u32,
    response_kb: u32,
    rules: u32,
) -> Result<AlbCharge, CostError> {
    let a = &catalog()?.alb;
    let hours = hours_of(o.window_us, &o.minutes, |ms| {
        (
            ms.iter().map(|m| m.invocations).sum(),
            ms.iter()
                .map(|m| m.busy_slot_us as f64 / MINUTE as f64)
                .fold(0.0, f64::max),
        )
    });
    Ok(AlbCharge {
        // The month repeats the window: its hours, not the started ones of a short window.
        hours: o.window_us as f64 / HOUR as f64,
        usd_per_hour: a.usd_per_hour,
        lcu_hours: lcu_hours(&hours, a, f64::from(request_kb + response_kb), rules, false),
        usd_per_lcu_hour: a.usd_per_lcu_hour,
        provenance: provenance("alb", &a.as_of, &a.confidence, a.note.as_ref()),
    })
}

/// The provider the services are priced for.
pub fn provider() -> Result<&'static str, CostError> {
    Ok(catalog()?.catalog.provider.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_file_parses_with_a_source_for_every_price() {
        let c = parse(SHIPPED).unwrap();
        assert_eq!(c.catalog.provider, "aws");
        assert!(c.rest.confidence.len() <= 2 && c.alb.note.is_some());
    }

    #[test]
    fn tiers_charge_each_band_at_its_rate() {
        let t = [(Some(10.0), 2.0), (Some(30.0), 1.0), (None, 0.5)];
        assert_eq!(tiered(&t, 5.0), 10.0);
        assert_eq!(tiered(&t, 25.0), 20.0 + 15.0);
        assert_eq!(tiered(&t, 40.0), 20.0 + 20.0 + 5.0);
    }

    #[test]
    fn a_bad_file_is_refused_with_its_line() {
        let bad = SHIPPED.replace("usd_per_hour = 0.0225", "usd_per_hour = \"cheap\"");
        let e = parse(&bad).unwrap_err();
        let line = SHIPPED
            .lines()
            .position(|l| l.starts_with("usd_per_hour"))
            .unwrap()
            + 1;
        assert!(e.contains(&format!("line {line}")), "{e}");
        let unsourced = SHIPPED.replacen("as_of = \"2026\"", "as_of = \"\"", 1);
        assert!(parse(&unsourced).unwrap_err().contains("as_of"));
    }
}
