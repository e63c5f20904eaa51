//! `faasplan compare`: the same trace on FaaS offerings and on server fleets, side by side.

use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use rayon::prelude::*;

use super::fleet::{FleetArgs, FleetSummary, run_fleet};
use super::report_args::{self, ReportArgs};
use super::{Format, RunArgs, platform_config_for, thread_pool, to_stdout};
use faasplan::cost;
use faasplan::engine::fleet::{FleetConfig, simulate_fleet_stream};
use faasplan::engine::{ValidConfig, simulate};
use faasplan::error::ConfigError;
use faasplan::export::summary::Summary;
use faasplan::outcome::Outcome;
use faasplan::outcome::fleet::FleetOutcome;
pub use faasplan::plan::compare::{CompareOption, Comparison, FaasOption, cheapest_feasible};
use faasplan::plan::fleet::{FleetSlo, FleetSpec, run_fleet_with};
use faasplan::sweep::Slo;
use faasplan::trace::Trace;
use faasplan::trace::azure2019;
use faasplan::trace::facts::{Facts, TraceFacts};
use faasplan::trace::format::{self, TraceFormat};

#[derive(Debug, Args)]
pub struct CompareArgs {
    #[command(flatten)]
    pub run: RunArgs,

    #[command(flatten)]
    pub fleet: FleetArgs,

    /// Output format.
    #[arg(long, default_value = "table", value_parser = super::format_parser())]
    pub format: Format,

    /// Worker threads (default: all cores; at most 256). The output does not depend on it.
    #[arg(long, value_name = "N", value_parser = super::threads_parser())]
    pub threads: Option<usize>,

    #[command(flatten)]
    pub report: ReportArgs,

    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,

    /// Expand an Azure 2019 trace whole and hold it for every offering and fleet, rather than
    /// expanding it minute by minute in each run as the run replays it (the default: memory
    /// holds the engines, not the trace's 24 bytes an invocation). The output is the same
    /// either way.
    #[arg(long)]
    pub read_first: bool,
}

/// The trace the offerings and fleets replay: held, or an Azure 2019 trace's parsed counts,
/// expanded in each run as it replays them (issue 16). One per command: its size is no matter.
#[allow(clippy::large_enum_variant)]
enum Source {
    Held(Trace),
    Streamed {
        parsed: azure2019::Parsed,
        facts: Facts,
        triggers: Vec<Option<faasplan::trace::Trigger>>,
        seed: u64,
    },
}

impl Source {
    fn facts(&self) -> &dyn TraceFacts {
        match self {
            Source::Held(t) => t,
            Source::Streamed { facts, .. } => facts,
        }
    }

    fn simulate(&self, cfg: &ValidConfig) -> Outcome {
        match self {
            Source::Held(t) => simulate(t, cfg),
            Source::Streamed {
                parsed,
                facts,
                triggers,
                seed,
            } => faasplan::engine::simulate_stream(
                || {
                    parsed
                        .stream(*seed, cfg.horizon)
                        .with_triggers(triggers.clone())
                },
                facts,
                cfg,
                None,
            ),
        }
    }

    fn run_fleet(
        &self,
        spec: &FleetSpec,
        slo: &FleetSlo,
    ) -> (FleetConfig, FleetOutcome, Option<u32>) {
        match self {
            Source::Held(t) => run_fleet(t, spec, slo),
            Source::Streamed {
                parsed,
                facts,
                triggers,
                seed,
            } => run_fleet_with(spec, slo, |cfg| {
                let src = parsed
                    .stream(*seed, cfg.horizon)
                    .with_triggers(triggers.clone());
                simulate_fleet_stream(src, facts.functions.len(), facts.invocations, cfg)
            }),
        }
    }
}

/// Runs the trace on every offering and fleet and prints the comparison; exit 1 when `--slo` is
/// given and no option meets it.
pub fn run(a: &CompareArgs) -> anyhow::Result<ExitCode> {
    let pool = thread_pool(a.threads)?;
    // Checked before the run: an existing report without --force fails fast.
    let report_to = a.report.target("compare", &a.run.trace_path())?;
    // aws-lambda-managed-instances is a fleet of EC2 instances: it runs with the fleets.
    let (plain, managed) = a.run.offering.split_managed();
    let offerings = plain.load()?;
    let mut fleet = a.fleet.clone();
    if managed {
        fleet
            .fleets
            .insert(0, faasplan::servers::managed::NAME.to_string());
    }
    if offerings.is_empty() && fleet.fleets.is_empty() {
        return Err(faasplan::error::ConfigError::invalid(
            "--offering",
            "give at least one --offering or --fleet to compare",
        )
        .into());
    }
    let name = a.run.name();
    let seed = a.run.platform.seed;
    let mut input = a.run.open()?;
    let azure2019 =
        format::resolve(&mut input, a.run.trace_args.format())? == TraceFormat::AZURE2019;
    let (source, rows) = if azure2019 && !a.read_first {
        let (parsed, facts, rows) = super::merge::parse_azure2019(&a.run, input)?;
        let triggers = a.run.triggers_of(&facts)?;
        let source = Source::Streamed {
            parsed,
            facts,
            triggers,
            seed,
        };
        (source, rows)
    } else {
        let (trace, load) = a.run.load_input(input, seed, true)?;
        (Source::Held(trace), load.rows)
    };
    let trace = source.facts();
    // The fleet specs need the default memory (CPU-share rule) and the horizon.
    let base = platform_config_for(&a.run.platform, offerings.first())?;
    let mut specs = fleet.specs(&base, trace)?;
    super::fleet::size_lb(&mut specs, &a.run.offering);
    let slo = fleet.slo()?;

    let cfgs = offerings
        .iter()
        .map(|o| {
            platform_config_for(&a.run.platform, Some(o))
                .with_context(|| format!("offering {}", o.meta.name))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    faasplan::engine::check_cpu_reference(&cfgs.iter().collect::<Vec<_>>(), trace)
        .map_err(super::platform::flag_error)?;

    let bar = super::progress::bar((offerings.len() + specs.len()) as u64, a.quiet);
    let mut options = Vec::new();
    let mut sizes = Vec::new();
    for (o, cfg) in offerings.iter().zip(cfgs) {
        let valid = super::validate_for(&cfg, trace)
            .with_context(|| format!("offering {}", o.meta.name))?;
        let outcome = pool.install(|| source.simulate(&valid));
        let mut summary = Summary::new(
            &outcome,
            super::simulate::run_info(&name, trace, &rows, &cfg, &outcome),
        );
        summary.cpu = cfg.cpu_use(&outcome, trace);
        summary.cost = Some(cost::bill(&outcome, o, &a.run.offering.bill_options(&cfg))?);
        let failed = super::fleet::misses(&slo.objectives, &summary_metrics(&summary));
        let mut warnings = super::simulate::run_warnings(&a.run.platform, Some(o), &cfg, &outcome);
        if !failed.is_empty() {
            warnings.push(faasplan::warnings::misses_slo(
                &o.meta.name,
                &failed,
                "--slo",
            ));
        }
        sizes.push((
            o.meta.name.clone(),
            summary
                .run
                .memory_sizes_mb
                .iter()
                .map(|&mb| (mb, o.vcpu(mb)))
                .collect(),
        ));
        options.push(CompareOption::Faas(Box::new(FaasOption {
            name: o.meta.name.clone(),
            kind: "faas",
            feasible: failed.is_empty(),
            failed,
            summary: summary.with_warnings(&warnings),
        })));
        bar.inc(1);
    }
    let fleets: Vec<CompareOption> = pool.install(|| {
        specs
            .par_iter()
            .map(|spec| {
                let (cfg, o, sized) = source.run_fleet(spec, &slo);
                bar.inc(1);
                CompareOption::Fleet(Box::new(FleetSummary::new(spec, &cfg, &o, sized, &slo)))
            })
            .collect()
    });
    bar.finish_and_clear();
    options.extend(fleets);
    check_metrics(&slo.objectives, &options)?;

    let recommended = cheapest_feasible(&options).map(|i| options[i].name().to_string());
    let recommendation = match &recommended {
        Some(n) if options.iter().all(CompareOption::feasible) => {
            format!("recommended: {n}, the cheapest option")
        }
        Some(n) => format!("recommended: {n}, the cheapest option that meets the SLO"),
        None => "recommended: none; none meets the SLO".to_string(),
    };
    let mut warnings: Vec<String> = options
        .iter()
        .flat_map(|o| {
            // An SLO miss already starts with the option's name.
            o.warnings().iter().map(move |w| {
                if w.starts_with(o.name()) {
                    w.clone()
                } else {
                    format!("{}: {w}", o.name())
                }
            })
        })
        .collect();
    // With a CPU profile durations do follow the CPU.
    if !a.run.platform.cpu_profile() {
        warnings.extend(
            faasplan::warnings::durations_held_constant(&sizes)
                .iter()
                .map(ToString::to_string),
        );
    }
    let comparison = Comparison {
        trace: name,
        fleet_slo: (!specs.is_empty()).then(|| slo.describe()),
        slo: slo.objectives.iter().map(|s| s.text.clone()).collect(),
        options,
        recommended,
        recommendation,
        notes: std::iter::once(base.cpu_note(trace))
            .chain(base.per_function_note(trace))
            .collect(),
        warnings,
    };
    faasplan::warnings::to_stderr(&comparison.warnings);

    if let Some(t) = &report_to {
        let page = faasplan::report::compare::ComparePage {
            slo_p99_ms: slo.p99_ms_max.map(|ms| {
                (
                    format!("fleet SLO: p99 <= {} ms", faasplan::report::fmt::sig(ms)),
                    ms,
                )
            }),
            ..faasplan::report::compare::ComparePage::from(&comparison)
        };
        report_args::announce(&faasplan::report::compare::write(&page, t)?);
    }
    to_stdout(|w| a.format.write(&comparison, w))?;
    if !comparison.slo.is_empty() && comparison.recommended.is_none() {
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) use faasplan::sweep::metric::summary_metrics;

/// An objective on a metric no option has is a typo, not an unmet objective (exit 2).
fn check_metrics(objectives: &[Slo], options: &[CompareOption]) -> Result<(), ConfigError> {
    let metrics: Vec<Vec<(String, f64)>> = options
        .iter()
        .map(|o| match o {
            CompareOption::Faas(f) => summary_metrics(&f.summary),
            CompareOption::Fleet(_) => super::fleet::fleet_metric_names(),
        })
        .collect();
    super::fleet::unknown_metric(objectives, &metrics).map_err(super::platform::flag_error)
}
