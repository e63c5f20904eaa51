//! `--fleet TYPE:key=value,...`: parsing a server fleet, sizing it for an SLO, and summarising its
//! run. Shared by `compare` and `breakeven`.

use std::path::PathBuf;

use clap::Args;
use serde::Serialize;

use super::duration_flag;
use faasplan::engine::fleet::{Autoscale, FleetConfig, FleetSize, Speed, simulate_fleet};
use faasplan::error::ConfigError;
use faasplan::export::summary::Percentiles;
use faasplan::outcome::fleet::{FleetOutcome, ScaleEvent};
use faasplan::servers::{self, FleetBill, ServerType};
use faasplan::sweep::Slo;
use faasplan::time::{Micros, SECOND};
use faasplan::trace::Trace;

/// Defaults for every `--fleet`; a fleet spec's own keys override them.
#[derive(Debug, Clone, Args)]
pub struct FleetArgs {
    /// A server fleet: TYPE:slots=S[,count=N|,autoscale=MIN..MAX@TARGET][,per_vcpu=C]
    /// [,speed=F][,queue=L][,max_wait=DUR][,boot=DUR][,interval=DUR][,cooldown=DUR][,discount=PCT].
    /// Repeatable. A fixed fleet without count= is sized to the smallest count meeting the SLO.
    #[arg(long = "fleet", value_name = "SPEC")]
    pub fleets: Vec<String>,

    /// Extra server catalogs (TOML, format of pricing/servers/README.md). Repeatable.
    #[arg(long, value_name = "FILE")]
    pub servers: Vec<PathBuf>,

    /// Scale-out boot delay of autoscaled fleets, billed while booting.
    #[arg(long, default_value = "90s", value_name = "DURATION")]
    pub boot_delay: String,

    /// Autoscaler evaluation interval.
    #[arg(long, default_value = "60s", value_name = "DURATION")]
    pub eval_interval: String,

    /// Scale-in cooldown after any scaling action.
    #[arg(long, default_value = "300s", value_name = "DURATION")]
    pub cooldown: String,

    /// Service time = duration x FACTOR on the servers (default: the CPU-share rule: a function of
    /// M MB ran on min(1, M/1769) of a vCPU on Lambda, so it takes that share of its duration on a
    /// whole server vCPU).
    #[arg(long, value_name = "FACTOR")]
    pub speed_factor: Option<f64>,

    /// A service-level objective every option must meet to be feasible (and be called cheaper),
    /// as in `sweep`: 'p99<=300ms', 'throttle_ratio<=0.1%', 'cost<=500'. Repeatable. Fixed fleets
    /// without count= are also sized for the ones that do not read the cost.
    #[arg(long, value_name = "METRIC<=VALUE")]
    pub slo: Vec<String>,

    /// A p99 latency bound for fleets, in ms (default: none; the queue-wait bound applies). Giving
    /// it replaces the default --fleet-wait-p99-ms.
    #[arg(long, value_name = "MS")]
    pub fleet_p99_ms: Option<f64>,

    /// The p99 queue wait a fleet may have and still meet its SLO, in ms (default: 1000, unless
    /// --fleet-p99-ms is given). Service time is the function's own, the same on every option; the
    /// wait is what the fleet's size decides.
    #[arg(long, value_name = "MS")]
    pub fleet_wait_p99_ms: Option<f64>,

    /// Rejections a fleet may have and still meet its SLO.
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub fleet_max_rejected: u64,

    /// Commitment discount on fleet prices (savings plan / reserved), percent.
    #[arg(long, default_value_t = 0.0, value_name = "PCT")]
    pub discount: f64,
}

/// A parsed `--fleet`: the server type, its configuration (count may still be open), discount.
#[derive(Debug, Clone)]
pub struct FleetSpec {
    pub text: String,
    pub server: ServerType,
    pub cfg: FleetConfig,
    /// A fixed fleet whose count the SLO search picks.
    pub size_for_slo: bool,
    pub discount_pct: f64,
}

fn number<T: std::str::FromStr>(spec: &str, key: &str, v: &str) -> Result<T, ConfigError> {
    v.trim().parse().map_err(|_| {
        ConfigError::invalid(
            "--fleet",
            format!("{spec:?}: {key}={v:?} is not a valid number"),
        )
    })
}

impl FleetArgs {
    /// Parses every `--fleet`. `default_memory_mb` is the memory of rows without one (for the
    /// CPU-share rule); `horizon` is the run's window end.
    pub fn specs(
        &self,
        default_memory_mb: u16,
        horizon: Option<Micros>,
    ) -> Result<Vec<FleetSpec>, ConfigError> {
        self.fleets
            .iter()
            .map(|s| self.parse(s, default_memory_mb, horizon))
            .collect()
    }

    pub fn parse(
        &self,
        spec: &str,
        default_memory_mb: u16,
        horizon: Option<Micros>,
    ) -> Result<FleetSpec, ConfigError> {
        let (ty, rest) = spec.split_once(':').unwrap_or((spec, ""));
        let server = servers::find(ty.trim(), &self.servers)?;
        let mut slots: Option<u32> = None;
        let mut per_vcpu: Option<f64> = None;
        let mut count: Option<u32> = None;
        let mut auto: Option<(u32, u32, f64)> = None;
        let mut speed = self.speed_factor;
        let mut queue_limit = None;
        let mut max_wait = None;
        let mut boot = duration_flag("--boot-delay", &self.boot_delay)?;
        let mut interval = duration_flag("--eval-interval", &self.eval_interval)?;
        let mut cooldown = duration_flag("--cooldown", &self.cooldown)?;
        let mut discount = self.discount;
        for kv in rest.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (k, v) = kv.split_once('=').ok_or_else(|| {
                ConfigError::invalid("--fleet", format!("{spec:?}: {kv:?} is not key=value"))
            })?;
            match k.trim() {
                "slots" => slots = Some(number(spec, k, v)?),
                "per_vcpu" => per_vcpu = Some(number(spec, k, v)?),
                "count" => count = Some(number(spec, k, v)?),
                "autoscale" => {
                    let bad = || {
                        ConfigError::invalid(
                            "--fleet",
                            format!(
                                "{spec:?}: autoscale={v:?}: expected MIN..MAX@TARGET, e.g. 2..20@0.6"
                            ),
                        )
                    };
                    let (range, target) = v.split_once('@').ok_or_else(bad)?;
                    let (min, max) = range.split_once("..").ok_or_else(bad)?;
                    auto = Some((
                        min.trim().parse().map_err(|_| bad())?,
                        max.trim().parse().map_err(|_| bad())?,
                        target.trim().parse().map_err(|_| bad())?,
                    ));
                }
                "speed" => speed = Some(number(spec, k, v)?),
                "queue" => queue_limit = Some(number(spec, k, v)?),
                "max_wait" => max_wait = Some(duration_flag("--fleet max_wait", v)?),
                "boot" => boot = duration_flag("--fleet boot", v)?,
                "interval" => interval = duration_flag("--fleet interval", v)?,
                "cooldown" => cooldown = duration_flag("--fleet cooldown", v)?,
                "discount" => discount = number(spec, k, v)?,
                other => {
                    return Err(ConfigError::invalid(
                        "--fleet",
                        format!(
                            "{spec:?}: unknown key {other:?} (slots, per_vcpu, count, autoscale, speed, queue, max_wait, boot, interval, cooldown, discount)"
                        ),
                    ));
                }
            }
        }
        let slots = match (slots, per_vcpu) {
            (Some(s), None) => s,
            (None, Some(c)) if c.is_finite() && c > 0.0 => (server.vcpu * c).ceil().max(1.0) as u32,
            (Some(_), Some(_)) => {
                return Err(ConfigError::invalid(
                    "--fleet",
                    format!("{spec:?}: give slots= or per_vcpu=, not both"),
                ));
            }
            _ => {
                return Err(ConfigError::invalid(
                    "--fleet",
                    format!(
                        "{spec:?}: say how many requests an instance serves at once: slots=S or per_vcpu=C"
                    ),
                ));
            }
        };
        if count.is_some() && auto.is_some() {
            return Err(ConfigError::invalid(
                "--fleet",
                format!("{spec:?}: give count= or autoscale=, not both"),
            ));
        }
        if !(0.0..100.0).contains(&discount) {
            return Err(ConfigError::invalid(
                "--fleet",
                format!("{spec:?}: discount {discount} must be a percentage in [0, 100)"),
            ));
        }
        let size = match (count, auto) {
            (_, Some((min, max, target))) => FleetSize::Auto(Autoscale {
                min,
                max,
                target,
                interval,
                boot_delay: boot,
                cooldown,
            }),
            (Some(n), None) => FleetSize::Fixed(n),
            (None, None) => FleetSize::Fixed(1),
        };
        let cfg = FleetConfig {
            slots,
            size,
            speed: match speed {
                Some(f) => Speed::Factor(f),
                None => Speed::CpuShare { default_memory_mb },
            },
            queue_limit,
            max_wait,
            horizon,
        };
        cfg.validate()?;
        Ok(FleetSpec {
            text: spec.to_string(),
            server,
            cfg,
            size_for_slo: count.is_none() && auto.is_none(),
            discount_pct: discount,
        })
    }
}

/// The default bound on a fleet's p99 queue wait, ms: about a FaaS cold start (the measured
/// Lambda p99 init of a large package is around a second), so a fleet passes when its requests
/// wait no longer than a FaaS request's cold start would. It does not grow with the duration:
/// a ten-minute job that waits another ten minutes is late, however long the job.
pub const DEFAULT_WAIT_P99_MS: f64 = 1000.0;

/// The SLO a fleet must meet to be feasible, and that a fixed fleet without a count is sized
/// for: queue wait (default) or latency bounds, rejections, and the user's `--slo` objectives.
#[derive(Debug, Clone, Serialize)]
pub struct FleetSlo {
    /// p99 end-to-end latency bound, ms (`--fleet-p99-ms`).
    pub p99_ms_max: Option<f64>,
    /// p99 queue-wait bound, ms (`--fleet-wait-p99-ms`, or the default).
    pub wait_p99_ms_max: Option<f64>,
    pub rejections_max: u64,
    /// True when the wait bound is [`DEFAULT_WAIT_P99_MS`].
    pub default_wait: bool,
    /// The `--slo` objectives, which every option must meet.
    pub objectives: Vec<Slo>,
}

impl Default for FleetSlo {
    fn default() -> Self {
        FleetSlo {
            p99_ms_max: None,
            wait_p99_ms_max: Some(DEFAULT_WAIT_P99_MS),
            rejections_max: 0,
            default_wait: true,
            objectives: Vec::new(),
        }
    }
}

fn positive_ms(flag: &'static str, ms: f64) -> Result<f64, ConfigError> {
    if ms.is_finite() && ms > 0.0 {
        Ok(ms)
    } else {
        Err(ConfigError::invalid(
            flag,
            format!("{ms}: must be a positive number of ms"),
        ))
    }
}

impl FleetArgs {
    /// The fleet SLO: the flags over the defaults.
    pub fn slo(&self) -> Result<FleetSlo, ConfigError> {
        let mut slo = FleetSlo {
            objectives: self.objectives()?,
            rejections_max: self.fleet_max_rejected,
            ..FleetSlo::default()
        };
        if let Some(ms) = self.fleet_p99_ms {
            slo.p99_ms_max = Some(positive_ms("--fleet-p99-ms", ms)?);
            slo.wait_p99_ms_max = None;
            slo.default_wait = false;
        }
        if let Some(ms) = self.fleet_wait_p99_ms {
            slo.wait_p99_ms_max = Some(positive_ms("--fleet-wait-p99-ms", ms)?);
            slo.default_wait = false;
        }
        Ok(slo)
    }

    /// The `--slo` objectives.
    pub fn objectives(&self) -> Result<Vec<Slo>, ConfigError> {
        self.slo
            .iter()
            .map(|s| Slo::parse(s).map_err(super::platform::flag_error))
            .collect()
    }
}

/// "p99<=300ms (is 912.4)" for each objective `metrics` misses; a metric the option does not
/// have misses too.
pub fn misses(objectives: &[Slo], metrics: &[(String, f64)]) -> Vec<String> {
    objectives
        .iter()
        .filter_map(|s| match metrics.iter().find(|(c, _)| *c == s.column) {
            Some((_, v)) if *v <= s.bound + 1e-12 => None,
            Some((_, v)) => Some(format!(
                "{} (is {})",
                s.text,
                faasplan::report::fmt::sig(*v)
            )),
            None => Some(format!("{} (no metric {})", s.text, s.column)),
        })
        .collect()
}

/// An objective on a metric that none of `metrics` (one list per option) has is an error naming
/// the metrics there are.
pub fn unknown_metric(
    objectives: &[Slo],
    metrics: &[Vec<(String, f64)>],
) -> Result<(), ConfigError> {
    for s in objectives {
        if !metrics
            .iter()
            .any(|m| m.iter().any(|(c, _)| *c == s.column))
        {
            let mut known: Vec<&str> = metrics
                .iter()
                .flat_map(|m| m.iter().map(|(c, _)| c.as_str()))
                .collect();
            known.sort_unstable();
            known.dedup();
            return Err(ConfigError::invalid(
                "--slo",
                format!(
                    "{:?}: no metric {:?}; use p50, p90, p95, p99, p999, mean, max (latency) or one of: {}",
                    s.text,
                    s.column,
                    known.join(", ")
                ),
            ));
        }
    }
    Ok(())
}

/// The metrics a fleet reports (for `--slo` checks: what exists).
pub fn fleet_metric_names() -> Vec<(String, f64)> {
    fleet_metrics(&FleetOutcome::default(), Some(0.0))
}

/// A fleet run's metrics, named as the `simulate` summary columns an `--slo` reads
/// (`latency_ms_p99`, `throttle_ratio`, `cost_monthly_usd`, ...); a fleet has no cold starts.
pub fn fleet_metrics(o: &FleetOutcome, monthly_usd: Option<f64>) -> Vec<(String, f64)> {
    let l = Percentiles::from_latency(&o.latency);
    let ratio = |n: u64| {
        if o.invocations == 0 {
            0.0
        } else {
            n as f64 / o.invocations as f64
        }
    };
    let mut m: Vec<(String, f64)> = [
        ("mean", l.mean),
        ("p50", l.p50),
        ("p90", l.p90),
        ("p95", l.p95),
        ("p99", l.p99),
        ("p999", l.p999),
        ("max", l.max),
    ]
    .into_iter()
    .map(|(q, v)| (format!("latency_ms_{q}"), v))
    .collect();
    m.extend([
        ("invocations".to_string(), o.invocations as f64),
        ("throttled".to_string(), o.rejected as f64),
        ("throttle_ratio".to_string(), ratio(o.rejected)),
        ("cold_starts".to_string(), 0.0),
        ("cold_start_ratio".to_string(), 0.0),
        (
            "queue_wait_ms_p99".to_string(),
            o.queue_wait.quantile_us(0.99) as f64 / 1e3,
        ),
    ]);
    if let Some(usd) = monthly_usd {
        m.push(("cost_monthly_usd".to_string(), usd));
    }
    m
}

impl FleetSlo {
    /// The objectives `o` misses, with their values. Without `monthly_usd` the objectives on
    /// the cost are skipped (sizing: the cost only grows with the count).
    pub fn misses(&self, o: &FleetOutcome, monthly_usd: Option<f64>) -> Vec<String> {
        let mut out = Vec::new();
        if o.rejected > self.rejections_max {
            out.push(format!(
                "rejections <= {} (is {})",
                self.rejections_max, o.rejected
            ));
        }
        let q = |l: &faasplan::outcome::Latency| l.quantile_us(0.99) as f64 / 1e3;
        if let Some(max) = self.wait_p99_ms_max
            && q(&o.queue_wait) > max
        {
            out.push(format!(
                "p99 queue wait <= {} ms (is {} ms)",
                faasplan::report::fmt::sig(max),
                faasplan::report::fmt::sig(q(&o.queue_wait))
            ));
        }
        if let Some(max) = self.p99_ms_max
            && q(&o.latency) > max
        {
            out.push(format!(
                "p99 latency <= {} ms (is {} ms)",
                faasplan::report::fmt::sig(max),
                faasplan::report::fmt::sig(q(&o.latency))
            ));
        }
        let objectives: Vec<Slo> = self
            .objectives
            .iter()
            .filter(|s| monthly_usd.is_some() || !s.column.starts_with("cost"))
            .cloned()
            .collect();
        out.extend(misses(&objectives, &fleet_metrics(o, monthly_usd)));
        out
    }

    pub fn met_by(&self, o: &FleetOutcome) -> bool {
        self.misses(o, None).is_empty()
    }

    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(ms) = self.wait_p99_ms_max {
            parts.push(format!(
                "p99 queue wait <= {} ms{}",
                faasplan::report::fmt::sig(ms),
                if self.default_wait {
                    " (the default)"
                } else {
                    ""
                }
            ));
        }
        if let Some(ms) = self.p99_ms_max {
            parts.push(format!(
                "p99 latency <= {} ms",
                faasplan::report::fmt::sig(ms)
            ));
        }
        parts.push(match self.rejections_max {
            0 => "no rejections".to_string(),
            n => format!("at most {n} rejections"),
        });
        parts.extend(self.objectives.iter().map(|s| s.text.clone()));
        parts.join(", ")
    }
}

/// Runs the fleet; a fixed fleet without a count gets the smallest count meeting `slo` (found by
/// doubling, then bisection; up to 10,000 instances). Returns the count chosen, if any.
pub fn run_fleet(
    trace: &Trace,
    spec: &FleetSpec,
    slo: &FleetSlo,
) -> (FleetConfig, FleetOutcome, Option<u32>) {
    if !spec.size_for_slo {
        let o = simulate_fleet(trace, &spec.cfg);
        return (spec.cfg.clone(), o, None);
    }
    let with = |n: u32| {
        let mut cfg = spec.cfg.clone();
        cfg.size = FleetSize::Fixed(n);
        let o = simulate_fleet(trace, &cfg);
        (cfg, o)
    };
    const MAX: u32 = 10_000;
    let mut hi = 1;
    let mut found = with(hi);
    while !slo.met_by(&found.1) && hi < MAX {
        hi = (hi * 2).min(MAX);
        found = with(hi);
    }
    if !slo.met_by(&found.1) {
        return (found.0, found.1, None);
    }
    let mut lo = hi / 2; // fails (or 0)
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        let r = with(mid);
        if slo.met_by(&r.1) {
            hi = mid;
            found = r;
        } else {
            lo = mid;
        }
    }
    (found.0, found.1, Some(hi))
}

/// Instance counts of a fleet run.
#[derive(Debug, Clone, Serialize)]
pub struct Instances {
    pub min: u32,
    pub mean: f64,
    pub max: u32,
}

/// Queue-wait statistics, milliseconds.
#[derive(Debug, Clone, Serialize)]
pub struct QueueWait {
    pub mean: f64,
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
}

/// One fleet's results, named as in the simulate summary where the meaning is the same.
#[derive(Debug, Clone, Serialize)]
pub struct FleetSummary {
    pub name: String,
    pub kind: &'static str,
    pub instance_type: String,
    pub slots: u32,
    /// "fixed", "fixed (sized for the SLO)" or "autoscaled MIN..MAX@TARGET".
    pub sizing: String,
    pub window_s: f64,
    pub invocations: u64,
    pub served: u64,
    pub rejected: u64,
    /// Share of served requests that queued.
    pub waited_ratio: f64,
    pub latency_ms: Percentiles,
    pub queue_wait_ms: QueueWait,
    pub instances: Instances,
    pub boot_events: u64,
    /// Every autoscaler decision that changed the desired count.
    pub scale_events: Vec<ScaleEvent>,
    /// Mean busy slots / mean slots in service.
    pub utilisation: f64,
    pub cost: FleetBill,
    /// False when the fleet misses its SLO (`failed` says which objectives); an infeasible
    /// option is never called cheaper.
    pub feasible: bool,
    pub failed: Vec<String>,
    pub warnings: Vec<String>,
}

impl FleetSummary {
    pub fn new(
        spec: &FleetSpec,
        cfg: &FleetConfig,
        o: &FleetOutcome,
        sized: Option<u32>,
        slo: &FleetSlo,
    ) -> Self {
        let cost = servers::bill_fleet(o, &spec.server, spec.discount_pct);
        let failed = slo.misses(o, Some(cost.monthly_usd));
        let warnings = if failed.is_empty() {
            Vec::new()
        } else {
            faasplan::warnings::render(&[faasplan::warnings::misses_slo(
                &spec.text, &failed, "--fleet",
            )])
        };
        let sizing = match (&cfg.size, sized) {
            (FleetSize::Fixed(n), Some(_)) => format!("fixed {n} (smallest meeting the SLO)"),
            (FleetSize::Fixed(n), None) if spec.size_for_slo => {
                format!("fixed {n} (no size up to 10,000 meets the SLO)")
            }
            (FleetSize::Fixed(n), None) => format!("fixed {n}"),
            (FleetSize::Auto(a), _) => format!("autoscaled {}..{}@{}", a.min, a.max, a.target),
        };
        let ms = |us: Micros| us as f64 / 1e3;
        FleetSummary {
            name: spec.text.clone(),
            kind: "fleet",
            instance_type: spec.server.name.clone(),
            slots: cfg.slots,
            sizing,
            window_s: o.window_us as f64 / SECOND as f64,
            invocations: o.invocations,
            served: o.served,
            rejected: o.rejected,
            waited_ratio: if o.served == 0 {
                0.0
            } else {
                o.waited as f64 / o.served as f64
            },
            latency_ms: Percentiles::from_latency(&o.latency),
            queue_wait_ms: QueueWait {
                mean: o.queue_wait.mean_us() / 1e3,
                p50: ms(o.queue_wait.quantile_us(0.5)),
                p95: ms(o.queue_wait.quantile_us(0.95)),
                p99: ms(o.queue_wait.quantile_us(0.99)),
            },
            instances: Instances {
                min: o.instances_min,
                mean: o.mean_instances(),
                max: o.instances_max,
            },
            boot_events: o.boot_events,
            scale_events: o.scale_events.clone(),
            utilisation: o.utilisation(),
            cost,
            feasible: failed.is_empty(),
            failed,
            warnings,
        }
    }
}
