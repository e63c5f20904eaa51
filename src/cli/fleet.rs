//! `--fleet TYPE:key=value,...`: parsing a server fleet, sizing it for an SLO, and summarising its
//! run. Shared by `compare` and `breakeven`.

use std::path::PathBuf;

use clap::Args;
use serde::Serialize;

use super::duration_flag;
use crate::engine::fleet::{Autoscale, FleetConfig, FleetSize, Speed, simulate_fleet};
use crate::error::ConfigError;
use crate::export::summary::Percentiles;
use crate::outcome::fleet::{FleetOutcome, ScaleEvent};
use crate::servers::{self, FleetBill, ServerType};
use crate::time::{Micros, SECOND};
use crate::trace::Trace;

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

    /// The p99 latency a fixed fleet without count= must meet, in ms (default: 2x the trace's
    /// p99 duration).
    #[arg(long, value_name = "MS")]
    pub fleet_p99_ms: Option<f64>,

    /// Rejections a fixed fleet without count= may have and still meet its SLO.
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

/// The SLO a fixed fleet without a count is sized for. Default: p99 latency within 2x the
/// trace's p99 duration, and no rejections.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct FleetSlo {
    pub p99_ms_max: f64,
    pub rejections_max: u64,
    /// True when the p99 bound is the default (2x the trace's p99 duration).
    pub default_p99: bool,
}

impl FleetArgs {
    /// The fleet SLO for `trace`: the flags, or the defaults from the trace.
    pub fn slo(&self, trace: &Trace) -> Result<FleetSlo, ConfigError> {
        let mut slo = FleetSlo::for_trace(trace);
        if let Some(ms) = self.fleet_p99_ms {
            if !(ms.is_finite() && ms > 0.0) {
                return Err(ConfigError::invalid(
                    "--fleet-p99-ms",
                    format!("{ms}: must be a positive number of ms"),
                ));
            }
            slo.p99_ms_max = ms;
            slo.default_p99 = false;
        }
        slo.rejections_max = self.fleet_max_rejected;
        Ok(slo)
    }
}

impl FleetSlo {
    pub fn for_trace(trace: &Trace) -> FleetSlo {
        let mut durations: Vec<Micros> = trace.invocations.iter().map(|i| i.duration).collect();
        let p99 = if durations.is_empty() {
            0
        } else {
            let i = ((durations.len() as f64 * 0.99).ceil() as usize).clamp(1, durations.len()) - 1;
            *durations.select_nth_unstable(i).1
        };
        FleetSlo {
            p99_ms_max: 2.0 * p99 as f64 / 1e3,
            rejections_max: 0,
            default_p99: true,
        }
    }

    pub fn met_by(&self, o: &FleetOutcome) -> bool {
        o.rejected <= self.rejections_max
            && o.latency.quantile_us(0.99) as f64 / 1e3 <= self.p99_ms_max
    }

    pub fn describe(&self) -> String {
        format!(
            "p99 latency <= {:.1} ms{} and {}",
            self.p99_ms_max,
            if self.default_p99 {
                " (2x the trace's p99 duration)"
            } else {
                ""
            },
            match self.rejections_max {
                0 => "no rejections".to_string(),
                n => format!("at most {n} rejections"),
            }
        )
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
}

impl FleetSummary {
    pub fn new(spec: &FleetSpec, cfg: &FleetConfig, o: &FleetOutcome, sized: Option<u32>) -> Self {
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
            cost: servers::bill_fleet(o, &spec.server, spec.discount_pct),
        }
    }
}
