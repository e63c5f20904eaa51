//! `--fleet TYPE:key=value,...` and the fleet SLO flags, parsed into the library's
//! [`faasplan::plan::fleet`] types (sizing, feasibility and the summary live there). Shared by
//! `compare` and `breakeven`.

use std::path::PathBuf;

use clap::Args;

use faasplan::engine::PlatformConfig;
use faasplan::error::ConfigError;
use faasplan::plan::fleet::{FleetDefaults, largest_row_memory};
pub use faasplan::plan::fleet::{
    FleetSlo, FleetSpec, FleetSummary, fleet_metric_names, misses, run_fleet, unknown_metric,
};
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

/// The library's fields of a fleet spec and the flags that set them (the longest prefix wins).
const FLEET_FIELDS: &[(&str, &str)] = &[
    ("fleet", "--fleet"),
    ("fleet.max_wait", "--fleet max_wait"),
    ("fleet.boot", "--fleet boot"),
    ("fleet.interval", "--fleet interval"),
    ("fleet.cooldown", "--fleet cooldown"),
    ("managed_instance_type", "--managed-instance-type"),
];

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
    /// What every spec's keys default to: these flags.
    fn defaults(&self) -> FleetDefaults {
        FleetDefaults {
            servers: self.servers.clone(),
            boot_delay: self.boot_delay,
            eval_interval: self.eval_interval,
            cooldown: self.cooldown,
            speed_factor: self.speed_factor,
            discount: self.discount,
            managed_instance_type: self.managed_instance_type.clone(),
            managed_runtime: self.managed_runtime.clone(),
            min_instances: self.min_instances,
            alb: self.fleet_lb == "alb",
        }
    }

    /// Parses every `--fleet` for a run of `trace` configured as `run` (see
    /// [`FleetDefaults::parse`]).
    pub fn specs(
        &self,
        run: &PlatformConfig,
        trace: &(impl faasplan::trace::facts::TraceFacts + ?Sized),
    ) -> Result<Vec<FleetSpec>, ConfigError> {
        let defaults = self.defaults();
        let slot_memory = largest_row_memory(trace);
        self.fleets
            .iter()
            .map(|s| {
                defaults
                    .parse(s, run, slot_memory.clone())
                    .map_err(|e| e.for_flags(FLEET_FIELDS))
            })
            .collect()
    }

    pub fn parse(
        &self,
        spec: &str,
        run: &PlatformConfig,
        trace: &Trace,
    ) -> Result<FleetSpec, ConfigError> {
        self.defaults()
            .parse(spec, run, largest_row_memory(trace))
            .map_err(|e| e.for_flags(FLEET_FIELDS))
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
