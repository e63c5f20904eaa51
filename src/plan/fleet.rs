//! Server fleets as planning options: a fleet spec, the SLO a fleet must meet (and that a fixed
//! fleet without a count is sized for), the smallest fleet meeting it, the `--slo` objectives
//! checked against any option's metrics, and the summary of a fleet's run.

use std::path::PathBuf;

use serde::Serialize;

use crate::engine::PlatformConfig;
use crate::engine::fleet::{
    Autoscale, FleetBurst, FleetConfig, FleetCpu, FleetSize, Speed, ValidFleet, simulate_fleet,
};
use crate::error::ConfigError;
use crate::export::summary::Percentiles;
use crate::outcome::fleet::{FleetOutcome, ScaleEvent};
use crate::servers::managed;
use crate::servers::{self, FleetBill, ServerType};
use crate::sweep::Slo;
use crate::time::{Micros, SECOND, parse_duration};
use crate::trace::Trace;

/// A parsed `--fleet`: the server type, its configuration (count may still be open), discount.
#[derive(Debug, Clone)]
pub struct FleetSpec {
    pub text: String,
    pub server: ServerType,
    pub cfg: ValidFleet,
    /// A fixed fleet whose count the SLO search picks.
    pub size_for_slo: bool,
    pub discount_pct: f64,
    /// Lambda Managed Instances: its fee and request charge on top of the instances.
    pub managed: Option<servers::managed::ManagedInstances>,
    /// The fewest instances a fleet sized for its SLO gets: redundancy across availability zones.
    pub min_instances: u32,
    /// The load balancer in front of the fleet, billed with it (`None`: none).
    pub lb: Option<FleetLb>,
}

/// An Application Load Balancer in front of a fleet, and the sizes its LCUs depend on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FleetLb {
    pub request_kb: u32,
    pub response_kb: u32,
    pub rules: u32,
}

impl FleetSpec {
    /// The fleet's bill (plain servers, or Lambda Managed Instances on them), with its load
    /// balancer's hours and LCUs as their own lines.
    pub fn bill(&self, o: &FleetOutcome) -> FleetBill {
        let mut b = match &self.managed {
            None => servers::bill_fleet(o, &self.server, self.discount_pct),
            Some(m) => m.bill(o, &self.server, self.discount_pct),
        };
        if let Some(lb) = self.lb.as_ref().filter(|_| self.lb_priced())
            && let Ok(alb) =
                crate::cost::services::alb_for_fleet(o, lb.request_kb, lb.response_kb, lb.rules)
        {
            let window_h = o.window_us as f64 / 3.6e9;
            let hours_usd = alb.hours * alb.usd_per_hour;
            let lcu_usd = alb.lcu_hours * alb.usd_per_lcu_hour;
            b.lines.push(servers::FleetLine {
                item: "load balancer hours (ALB)".into(),
                quantity: alb.hours,
                unit: "hour".into(),
                rate: alb.usd_per_hour,
                amount_usd: hours_usd,
            });
            b.lines.push(servers::FleetLine {
                item: "load balancer LCU-hours (ALB)".into(),
                quantity: alb.lcu_hours,
                unit: "LCU-hour".into(),
                rate: alb.usd_per_lcu_hour,
                amount_usd: lcu_usd,
            });
            b.window_usd += hours_usd + lcu_usd;
            if window_h > 0.0 {
                b.monthly_usd += (hours_usd + lcu_usd) * servers::MONTH_HOURS / window_h;
            }
        }
        b
    }

    /// True when the fleet's load balancer is priced: the ALB's prices are AWS's.
    pub fn lb_priced(&self) -> bool {
        self.lb.is_some()
            && crate::cost::services::provider().is_ok_and(|p| p == self.server.provider)
    }
}

/// What a fleet spec's keys default to when the spec does not give them (the binary's
/// `--boot-delay`, `--eval-interval`, ... flags).
#[derive(Debug, Clone)]
pub struct FleetDefaults {
    /// Extra server catalogs (TOML) besides the shipped ones.
    pub servers: Vec<PathBuf>,
    /// Scale-out boot delay, microseconds.
    pub boot_delay: Micros,
    /// Autoscaler evaluation interval, microseconds.
    pub eval_interval: Micros,
    /// Scale-in cooldown, microseconds.
    pub cooldown: Micros,
    /// Service time = duration × this factor (`None`: the CPU-share rule).
    pub speed_factor: Option<f64>,
    /// Commitment discount, percent.
    pub discount: f64,
    /// Lambda Managed Instances: the EC2 type and the runtime.
    pub managed_instance_type: Option<String>,
    pub managed_runtime: Option<String>,
    /// The fewest instances a fleet sized for its SLO gets (redundancy across zones).
    pub min_instances: u32,
    /// Bill an ALB in front of each fleet (not Lambda Managed Instances, invoked like Lambda).
    pub alb: bool,
}

/// A duration value of a fleet spec's key, or an error naming the field and the value.
fn duration_field(field: &'static str, s: &str) -> Result<Micros, ConfigError> {
    parse_duration(s).ok_or_else(|| {
        ConfigError::field(
            field,
            format!("{s:?}: expected a duration such as 90, 90s, 15m, 6h"),
        )
    })
}

fn number<T: std::str::FromStr>(spec: &str, key: &str, v: &str) -> Result<T, ConfigError> {
    v.trim().parse().map_err(|_| {
        ConfigError::field(
            "fleet",
            format!("{spec:?}: {key}={v:?} is not a valid number"),
        )
    })
}

impl FleetDefaults {
    /// Parses one fleet spec `TYPE:key=value,...` for a run configured as `run` whose trace's
    /// largest row memory is `trace_memory` (see [`largest_row_memory`]): its memory is that of
    /// rows without one (for the CPU-share rule), its horizon the window's end, its CPU profile
    /// the servers' processor sharing. Errors name the field (`fleet`, `fleet.boot`,
    /// `managed_instance_type`, ...) and quote the spec; [`FLEET_FIELDS`] lists them.
    pub fn parse(
        &self,
        spec: &str,
        run: &PlatformConfig,
        trace_memory: Option<(u16, String)>,
    ) -> Result<FleetSpec, ConfigError> {
        let (default_memory_mb, horizon) = (run.memory_mb, run.horizon);
        let (ty, rest) = spec.split_once(':').unwrap_or((spec, ""));
        if ty.trim().is_empty() {
            return Err(ConfigError::field(
                "fleet",
                format!(
                    "{spec:?}: no server type: expected TYPE:key=value,... (e.g. m7g.large:slots=8)"
                ),
            ));
        }
        let managed = (ty.trim() == managed::NAME)
            .then(managed::shipped)
            .transpose()?;
        let mut instance = self.managed_instance_type.clone();
        let mut runtime = self.managed_runtime.clone();
        let mut boot_given = None;
        let mut slots: Option<u32> = None;
        let mut per_vcpu: Option<f64> = None;
        let mut mem: Option<u32> = None;
        let mut credits: Option<bool> = None;
        let mut count: Option<u32> = None;
        let mut auto: Option<(u32, u32, f64)> = None;
        let mut speed = self.speed_factor;
        let mut queue_limit = None;
        let mut max_wait = None;
        let mut interval = self.eval_interval;
        let mut cooldown = self.cooldown;
        let mut discount = self.discount;
        for kv in rest.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (k, v) = kv.split_once('=').ok_or_else(|| {
                ConfigError::field("fleet", format!("{spec:?}: {kv:?} is not key=value"))
            })?;
            match k.trim() {
                "slots" => slots = Some(number(spec, k, v)?),
                "per_vcpu" => per_vcpu = Some(number(spec, k, v)?),
                "mem" => mem = Some(number(spec, k, v)?),
                "instance" if managed.is_some() => instance = Some(v.trim().to_string()),
                "runtime" if managed.is_some() => runtime = Some(v.trim().to_string()),
                "credits" => {
                    credits = Some(match v.trim() {
                        "unlimited" => true,
                        "standard" => false,
                        _ => {
                            return Err(ConfigError::field(
                                "fleet",
                                format!("{spec:?}: credits={v:?}: expected standard or unlimited"),
                            ));
                        }
                    })
                }
                "count" => count = Some(number(spec, k, v)?),
                "autoscale" => {
                    let bad = || {
                        ConfigError::field(
                            "fleet",
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
                "max_wait" => max_wait = Some(duration_field("fleet.max_wait", v)?),
                "boot" => boot_given = Some(duration_field("fleet.boot", v)?),
                "interval" => interval = duration_field("fleet.interval", v)?,
                "cooldown" => cooldown = duration_field("fleet.cooldown", v)?,
                "discount" => discount = number(spec, k, v)?,
                other => {
                    return Err(ConfigError::field(
                        "fleet",
                        format!(
                            "{spec:?}: unknown key {other:?} (slots, per_vcpu, mem, credits, count, autoscale, speed, queue, max_wait, boot, interval, cooldown, discount)"
                        ),
                    ));
                }
            }
        }
        let server = match &managed {
            None => servers::find(ty.trim(), &self.servers)?,
            Some(m) => {
                let name = instance.as_deref().ok_or_else(|| {
                    ConfigError::field(
                        "managed_instance_type",
                        format!(
                            "{spec:?}: {} runs on an EC2 instance type: give --managed-instance-type TYPE or instance=TYPE",
                            managed::NAME
                        ),
                    )
                })?;
                let server = servers::find(name, &self.servers)?;
                if server.catalog != m.catalog {
                    return Err(ConfigError::field(
                        "managed_instance_type",
                        format!(
                            "{name:?} is in {}, not in {} (pricing/servers/{}.toml)",
                            server.catalog, m.catalog, m.catalog
                        ),
                    ));
                }
                // Multi-concurrent environments: the runtime's requests per vCPU; no queue (a
                // request beyond the slots is throttled); its own pace and minimum.
                if slots.is_none() && per_vcpu.is_none() {
                    per_vcpu = Some(f64::from(m.per_vcpu(runtime.as_deref())?));
                }
                queue_limit = queue_limit.or(Some(0));
                boot_given = boot_given.or(Some(m.boot));
                if count.is_none() && auto.is_none() {
                    auto = Some((m.min_instances, 10_000, m.target_utilisation));
                }
                server
            }
        };
        let boot = boot_given.unwrap_or(self.boot_delay);
        // Memory per slot: mem=, else with a CPU profile (servers with CPU and memory) what the
        // function was given on FaaS, the trace's largest memory_mb; else not checked (the fleet
        // of before, whose slots need no resources).
        // Lambda Managed Instances sizes memory per vCPU, not per request (its environments share
        // their memory among their concurrent requests): only mem= is checked there.
        let trace_memory = trace_memory.filter(|_| run.cpu.is_some() && managed.is_none());
        let slot_memory: Option<(u32, String)> = match mem {
            Some(0) => {
                return Err(ConfigError::field(
                    "fleet",
                    format!("{spec:?}: mem=0: memory per slot must be at least 1 MB"),
                ));
            }
            Some(m) => Some((m, format!("mem={m}"))),
            None => trace_memory.map(|(m, f)| {
                (
                    u32::from(m),
                    format!("the trace's largest memory_mb, function {f:?}"),
                )
            }),
        };
        let server_mb = (server.memory_gib * 1024.0).round() as u64;
        let fit = slot_memory.as_ref().map(|(m, _)| server_mb / u64::from(*m));
        let slots = match (slots, per_vcpu, fit) {
            (None, None, Some(0)) => {
                return Err(ConfigError::field(
                    "fleet",
                    format!(
                        "{spec:?}: not one slot of {} MB ({}) fits a {}'s {} GiB ({server_mb} MB; pricing/servers/{}.toml)",
                        slot_memory.as_ref().map_or(0, |m| m.0),
                        slot_memory.as_ref().map_or("", |m| m.1.as_str()),
                        server.name,
                        server.memory_gib,
                        server.catalog,
                    ),
                ));
            }
            (None, None, Some(n)) => n.min(u64::from(u32::MAX)) as u32,
            (s, p, _) => slots_given(spec, &server, s, p)?,
        };
        if let Some((m, from)) = &slot_memory
            && u64::from(slots) * u64::from(*m) > server_mb
        {
            return Err(ConfigError::field(
                "fleet",
                format!(
                    "{spec:?}: {slots} slots x {m} MB per slot ({from}) = {} MB do not fit a {}'s \
                     {} GiB of memory ({server_mb} MB, pricing/servers/{}.toml); give at most \
                     slots={} or a smaller mem=MB",
                    u64::from(slots) * u64::from(*m),
                    server.name,
                    server.memory_gib,
                    server.catalog,
                    server_mb / u64::from(*m),
                ),
            ));
        }
        if credits.is_some() && run.cpu.is_none() {
            return Err(ConfigError::field(
                "fleet",
                format!("{spec:?}: credits= only means something with --cpu-bound"),
            ));
        }
        let burst = burst(spec, &server, credits)?;
        let cpu = run.cpu.as_ref().map(|m| FleetCpu {
            vcpus: server.vcpu,
            bound: m.bound,
            threads: m.threads,
            reference: m.reference.clone(),
            default_memory_mb,
            burst,
        });
        if count.is_some() && auto.is_some() {
            return Err(ConfigError::field(
                "fleet",
                format!("{spec:?}: give count= or autoscale=, not both"),
            ));
        }
        if !(0.0..100.0).contains(&discount) {
            return Err(ConfigError::field(
                "fleet",
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
                doubling: managed.as_ref().map(|m| m.doubling),
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
            cpu,
        };
        let cfg = cfg.validated()?;
        Ok(FleetSpec {
            text: spec.to_string(),
            server,
            cfg,
            size_for_slo: count.is_none() && auto.is_none(),
            discount_pct: discount,
            lb: (self.alb && managed.is_none()).then_some(FleetLb {
                request_kb: 1,
                response_kb: 0,
                rules: 1,
            }),
            min_instances: self.min_instances,
            managed,
        })
    }
}

/// The slots `slots=` or `per_vcpu=` give (one of them, not both).
fn slots_given(
    spec: &str,
    server: &servers::ServerType,
    slots: Option<u32>,
    per_vcpu: Option<f64>,
) -> Result<u32, ConfigError> {
    Ok(match (slots, per_vcpu) {
        (Some(s), None) => s,
        (None, Some(c)) if c.is_finite() && c > 0.0 => (server.vcpu * c).ceil().max(1.0) as u32,
        (Some(_), Some(_)) => {
            return Err(ConfigError::field(
                "fleet",
                format!("{spec:?}: give slots= or per_vcpu=, not both"),
            ));
        }
        _ => {
            return Err(ConfigError::field(
                "fleet",
                format!(
                    "{spec:?}: say how many requests an instance serves at once: slots=S or per_vcpu=C"
                ),
            ));
        }
    })
}

/// A burstable type's credits in the mode `credits=` asks for (default: the catalog's).
fn burst(
    spec: &str,
    server: &servers::ServerType,
    unlimited: Option<bool>,
) -> Result<Option<FleetBurst>, ConfigError> {
    let Some(b) = &server.burst else {
        return match unlimited {
            Some(_) => Err(ConfigError::field(
                "fleet",
                format!(
                    "{spec:?}: credits=: {} is not a burstable type",
                    server.name
                ),
            )),
            None => Ok(None),
        };
    };
    let unlimited = unlimited.unwrap_or(b.unlimited);
    if unlimited && b.surplus_usd_per_vcpu_hour.is_none() {
        return Err(ConfigError::field(
            "fleet",
            format!(
                "{spec:?}: credits=unlimited: {} has no unlimited mode (pricing/servers/{}.toml)",
                server.name, server.catalog
            ),
        ));
    }
    Ok(Some(FleetBurst {
        baseline_vcpu: b.baseline_vcpu(),
        max_credits: b.max_credits,
        initial_credits: b.initial_credits,
        unlimited,
    }))
}

/// The largest memory_mb of the trace's rows and its function, if any row has one.
pub fn largest_row_memory(
    trace: &(impl crate::trace::facts::TraceFacts + ?Sized),
) -> Option<(u16, String)> {
    let (mb, f) = trace.largest_row_memory()?;
    (mb > 0).then(|| {
        let name = trace
            .functions()
            .get(f as usize)
            .map_or(String::new(), |m| m.name.clone());
        (mb, name)
    })
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

/// "p99<=300ms (is 912.4)" for each objective `metrics` misses; a metric the option does not
/// have misses too.
pub fn misses(objectives: &[Slo], metrics: &[(String, f64)]) -> Vec<String> {
    objectives
        .iter()
        .filter_map(|s| match metrics.iter().find(|(c, _)| *c == s.column) {
            Some((_, v)) if *v <= s.bound + 1e-12 => None,
            Some((_, v)) => Some(format!("{} (is {})", s.text, crate::report::fmt::sig(*v))),
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
            return Err(ConfigError::field(
                "slo",
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
        let q = |l: &crate::outcome::Latency| l.quantile_us(0.99) as f64 / 1e3;
        if let Some(max) = self.wait_p99_ms_max
            && q(&o.queue_wait) > max
        {
            out.push(format!(
                "p99 queue wait <= {} ms (is {} ms)",
                crate::report::fmt::sig(max),
                crate::report::fmt::sig(q(&o.queue_wait))
            ));
        }
        if let Some(max) = self.p99_ms_max
            && q(&o.latency) > max
        {
            out.push(format!(
                "p99 latency <= {} ms (is {} ms)",
                crate::report::fmt::sig(max),
                crate::report::fmt::sig(q(&o.latency))
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
                crate::report::fmt::sig(ms),
                if self.default_wait {
                    " (the default)"
                } else {
                    ""
                }
            ));
        }
        if let Some(ms) = self.p99_ms_max {
            parts.push(format!("p99 latency <= {} ms", crate::report::fmt::sig(ms)));
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
    run_fleet_with(spec, slo, |cfg| simulate_fleet(trace, cfg))
}

/// [`run_fleet`], each run of a fleet made by `replay` (a streamed trace's:
/// [`crate::engine::fleet::simulate_fleet_stream`]).
pub fn run_fleet_with(
    spec: &FleetSpec,
    slo: &FleetSlo,
    replay: impl Fn(&ValidFleet) -> FleetOutcome,
) -> (FleetConfig, FleetOutcome, Option<u32>) {
    if !spec.size_for_slo {
        let o = replay(&spec.cfg);
        return ((*spec.cfg).clone(), o, None);
    }
    let with = |n: u32| {
        let cfg = spec
            .cfg
            .with_fixed(std::num::NonZeroU32::new(n).unwrap_or(std::num::NonZeroU32::MIN));
        let o = replay(&cfg);
        ((*cfg).clone(), o)
    };
    const MAX: u32 = crate::engine::fleet::MAX_SERVERS;
    // The search starts at the redundancy minimum: fewer is never offered.
    let floor = spec.min_instances.clamp(1, MAX);
    let mut hi = floor;
    let mut found = with(hi);
    while !slo.met_by(&found.1) && hi < MAX {
        hi = (hi * 2).min(MAX);
        found = with(hi);
    }
    if !slo.met_by(&found.1) {
        return (found.0, found.1, None);
    }
    // Fails (or is below the floor, or 0).
    let mut lo = if hi == floor { floor - 1 } else { hi / 2 };
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

/// What the servers' CPUs did (only with a CPU profile, `--cpu-bound`).
#[derive(Debug, Clone, Serialize)]
pub struct FleetCpuSummary {
    /// vCPUs of one server.
    pub vcpus_per_instance: f64,
    /// Mean vCPUs in use over the window, all servers together.
    pub mean_busy_vcpus: f64,
    /// Mean vCPUs in use / vCPUs of the servers alive (booting included), 0..1.
    pub utilisation: f64,
    /// Burstable types only: what their CPU credits did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credits: Option<CreditSummary>,
}

/// A burstable fleet's CPU credits over the window.
#[derive(Debug, Clone, Serialize)]
pub struct CreditSummary {
    /// "standard" (out of credits: held to the baseline) or "unlimited" (surplus billed).
    pub mode: &'static str,
    /// vCPUs per server the earned credits pay for.
    pub baseline_vcpu: f64,
    /// Server-seconds held to the baseline (standard mode).
    pub throttled_s: f64,
    /// Surplus credits billed, vCPU-hours (unlimited mode; 60 credits = 1 vCPU-hour).
    pub surplus_vcpu_hours: f64,
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
    /// CPU use, with a CPU profile only (absent otherwise: slots then serve as traced).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu: Option<FleetCpuSummary>,
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
        let cost = spec.bill(o);
        let failed = slo.misses(o, Some(cost.monthly_usd));
        let mut warnings = if failed.is_empty() {
            Vec::new()
        } else {
            crate::warnings::render(&[crate::warnings::misses_slo(&spec.text, &failed, "--fleet")])
        };
        // Fewer than two instances survive no zone failure.
        let fewest = match &cfg.size {
            FleetSize::Fixed(n) => *n,
            FleetSize::Auto(a) => a.min,
        };
        if fewest < 2 && spec.managed.is_none() {
            warnings.push(format!(
                "{}: {fewest} instance at times, so one zone or instance failure takes the service \
                 down; production fleets keep at least 2 across availability zones (count=2, or \
                 autoscale=2..)",
                spec.text
            ));
        }
        // The default speed rule decides how much work a server does per request: say so.
        if let crate::engine::fleet::Speed::CpuShare { default_memory_mb } = cfg.speed
            && spec.managed.is_none()
        {
            warnings.push(format!(
                "{}: each request took its traced duration × the vCPU share its function had on \
                 Lambda (memory / 1,769 MB, at most 1; {default_memory_mb} MB for rows without \
                 memory), as if its duration were measured there: a 512 MB function runs 3.5× \
                 faster on a server vCPU (set speed=F, or --speed-factor, if the durations were \
                 measured elsewhere)",
                spec.text
            ));
        }
        if spec.lb.is_some() && !spec.lb_priced() {
            warnings.push(format!(
                "{}: its load balancer is not billed: faasplan prices AWS's ALB only, and {} is a \
                 {} server (--fleet-lb none says there is none)",
                spec.text, spec.server.name, spec.server.provider
            ));
        }
        let sizing = match (&cfg.size, sized) {
            (FleetSize::Fixed(n), Some(_))
                if *n == spec.min_instances && spec.min_instances > 1 =>
            {
                format!("fixed {n} (the redundancy minimum, --min-instances; it meets the SLO)")
            }
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
            cpu: o.cpu_utilisation().map(|utilisation| FleetCpuSummary {
                vcpus_per_instance: o.vcpus,
                mean_busy_vcpus: o.mean_busy_vcpus(),
                utilisation,
                credits: cfg
                    .cpu
                    .as_ref()
                    .and_then(|c| c.burst.as_ref())
                    .map(|b| CreditSummary {
                        mode: if b.unlimited { "unlimited" } else { "standard" },
                        baseline_vcpu: b.baseline_vcpu,
                        throttled_s: o.throttled_us as f64 / SECOND as f64,
                        surplus_vcpu_hours: o.surplus_mvcpu_us as f64 / 1e3 / 3.6e9,
                    }),
            }),
            cost,
            feasible: failed.is_empty(),
            failed,
            warnings,
        }
    }
}
