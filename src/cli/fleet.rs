//! `--fleet TYPE:key=value,...` and the fleet SLO flags, parsed into the library's
//! [`faasplan::plan::fleet`] types (sizing, feasibility and the summary live there). Shared by
//! `compare` and `breakeven`.

use std::path::PathBuf;

use clap::Args;

use super::duration_flag;
use faasplan::engine::PlatformConfig;
use faasplan::engine::fleet::{Autoscale, FleetBurst, FleetConfig, FleetCpu, FleetSize, Speed};
use faasplan::error::ConfigError;
pub use faasplan::plan::fleet::{
    FleetLb, FleetSlo, FleetSpec, FleetSummary, fleet_metric_names, misses, run_fleet,
    unknown_metric,
};
use faasplan::servers::{self, managed};
use faasplan::sweep::Slo;
use faasplan::time::Micros;
use faasplan::trace::Trace;

/// Defaults for every `--fleet`; a fleet spec's own keys override them.
#[derive(Debug, Clone, Args)]
pub struct FleetArgs {
    /// A server fleet: TYPE:slots=S[,count=N|,autoscale=MIN..MAX@TARGET][,per_vcpu=C][,mem=MB]
    /// [,speed=F][,queue=L][,max_wait=DUR][,boot=DUR][,interval=DUR][,cooldown=DUR][,discount=PCT].
    /// Repeatable. A fixed fleet without count= is sized to the smallest count meeting the SLO.
    /// Slots x memory per slot (mem=, or with --cpu-bound the trace's largest memory_mb) must fit
    /// the server's memory; without slots= and per_vcpu= the slots are as many as fit. With
    /// --cpu-bound, burstable types (t3, t4g, B) earn and spend CPU credits; credits=standard|
    /// unlimited overrides the catalog's default mode.
    #[arg(long = "fleet", value_name = "SPEC")]
    pub fleets: Vec<String>,

    /// Extra server catalogs (TOML, format of pricing/servers/README.md). Repeatable.
    #[arg(long, value_name = "FILE")]
    pub servers: Vec<PathBuf>,

    /// Scale-out boot delay of autoscaled fleets, billed while booting.
    #[arg(long, default_value = "90s", value_name = "DURATION", value_parser = super::platform::parse_duration_arg)]
    pub boot_delay: Micros,

    /// Autoscaler evaluation interval.
    #[arg(long, default_value = "60s", value_name = "DURATION", value_parser = super::platform::parse_duration_arg)]
    pub eval_interval: Micros,

    /// Scale-in cooldown after any scaling action.
    #[arg(long, default_value = "300s", value_name = "DURATION", value_parser = super::platform::parse_duration_arg)]
    pub cooldown: Micros,

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

    /// The fewest instances a fleet sized for its SLO gets, for redundancy across availability
    /// zones (a fleet with count= or autoscale= keeps its own; below 2 it is warned of).
    #[arg(long, default_value_t = 2, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub min_instances: u32,

    /// The load balancer in front of each fleet, billed with it: alb (an AWS Application Load
    /// Balancer, its hours and LCUs; pricing/services/aws-us-east-1.toml) or none. Sized with
    /// --request-kb and --response-kb; on other providers' servers it is not priced (noted).
    #[arg(long, default_value = "alb", value_name = "LB", value_parser = ["alb", "none"])]
    pub fleet_lb: String,

    /// Commitment discount on fleet prices (savings plan / reserved), percent.
    #[arg(long, default_value_t = 0.0, value_name = "PCT")]
    pub discount: f64,

    /// The EC2 instance type of aws-lambda-managed-instances (`--offering` or `--fleet`), e.g.
    /// m7g.large (a spec's instance= overrides it).
    #[arg(long, value_name = "TYPE")]
    pub managed_instance_type: Option<String>,

    /// The runtime of aws-lambda-managed-instances, which sets its default concurrent requests
    /// per vCPU: python (16), nodejs (64), dotnet (32), java (32) (default: python; a spec's
    /// runtime= overrides it).
    #[arg(long, value_name = "RUNTIME")]
    pub managed_runtime: Option<String>,
}

fn number<T: std::str::FromStr>(spec: &str, key: &str, v: &str) -> Result<T, ConfigError> {
    v.trim().parse().map_err(|_| {
        ConfigError::invalid(
            "--fleet",
            format!("{spec:?}: {key}={v:?} is not a valid number"),
        )
    })
}

/// Sizes each fleet's load balancer from the bill's request and response sizes.
pub fn size_lb(specs: &mut [FleetSpec], o: &super::OfferingArgs) {
    for s in specs {
        if let Some(lb) = &mut s.lb {
            lb.request_kb = o.request_kb;
            lb.response_kb = o.response_kb;
            lb.rules = o.alb_rules;
        }
    }
}

impl FleetArgs {
    /// Parses every `--fleet` for a run of `trace` configured as `run`: its memory is that of
    /// rows without one (for the CPU-share rule), its horizon the window's end, its CPU profile
    /// (`--cpu-bound`) the servers' processor sharing.
    pub fn specs(
        &self,
        run: &PlatformConfig,
        trace: &Trace,
    ) -> Result<Vec<FleetSpec>, ConfigError> {
        let slot_memory = largest_row_memory(trace);
        self.fleets
            .iter()
            .map(|s| self.parse_with(s, run, slot_memory.clone()))
            .collect()
    }

    pub fn parse(
        &self,
        spec: &str,
        run: &PlatformConfig,
        trace: &Trace,
    ) -> Result<FleetSpec, ConfigError> {
        self.parse_with(spec, run, largest_row_memory(trace))
    }

    fn parse_with(
        &self,
        spec: &str,
        run: &PlatformConfig,
        trace_memory: Option<(u16, String)>,
    ) -> Result<FleetSpec, ConfigError> {
        let (default_memory_mb, horizon) = (run.memory_mb, run.horizon);
        let (ty, rest) = spec.split_once(':').unwrap_or((spec, ""));
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
                ConfigError::invalid("--fleet", format!("{spec:?}: {kv:?} is not key=value"))
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
                            return Err(ConfigError::invalid(
                                "--fleet",
                                format!("{spec:?}: credits={v:?}: expected standard or unlimited"),
                            ));
                        }
                    })
                }
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
                "boot" => boot_given = Some(duration_flag("--fleet boot", v)?),
                "interval" => interval = duration_flag("--fleet interval", v)?,
                "cooldown" => cooldown = duration_flag("--fleet cooldown", v)?,
                "discount" => discount = number(spec, k, v)?,
                other => {
                    return Err(ConfigError::invalid(
                        "--fleet",
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
                    ConfigError::invalid(
                        "--managed-instance-type",
                        format!(
                            "{spec:?}: {} runs on an EC2 instance type: give --managed-instance-type TYPE or instance=TYPE",
                            managed::NAME
                        ),
                    )
                })?;
                let server = servers::find(name, &self.servers)?;
                if server.catalog != m.catalog {
                    return Err(ConfigError::invalid(
                        "--managed-instance-type",
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
                return Err(ConfigError::invalid(
                    "--fleet",
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
                return Err(ConfigError::invalid(
                    "--fleet",
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
            return Err(ConfigError::invalid(
                "--fleet",
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
            return Err(ConfigError::invalid(
                "--fleet",
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
        let cfg = cfg
            .validated()
            .map_err(|e| e.for_flags(&[("fleet", "--fleet")]))?;
        Ok(FleetSpec {
            text: spec.to_string(),
            server,
            cfg,
            size_for_slo: count.is_none() && auto.is_none(),
            discount_pct: discount,
            // Lambda Managed Instances is invoked like Lambda (no load balancer) and keeps its
            // own minimum.
            lb: (self.fleet_lb == "alb" && managed.is_none()).then_some(FleetLb {
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
            Some(_) => Err(ConfigError::invalid(
                "--fleet",
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
        return Err(ConfigError::invalid(
            "--fleet",
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
fn largest_row_memory(trace: &Trace) -> Option<(u16, String)> {
    let inv = trace.invocations().iter().max_by_key(|i| i.memory_mb)?;
    (inv.memory_mb > 0).then(|| {
        let name = trace
            .functions()
            .get(inv.function as usize)
            .map_or(String::new(), |f| f.name.clone());
        (inv.memory_mb, name)
    })
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
