//! The bill: a pure function of a simulation [`Outcome`] and an [`Offering`]'s prices. It never
//! re-runs the engine; it reads the usage the engine recorded (rounded execution and init times per
//! memory size, instance active periods, instance-time, provisioned idle time) and prices it.
//!
//! Free tiers and volume tiers are monthly. `monthly_usd` is the bill for a 730-hour month whose
//! traffic repeats the simulated window (usage scaled by 730 h / window, then tiers and the free
//! tier applied); `window_usd` is that month's pro-rata share, `monthly_usd × window / 730 h`.
//! Usage is summed in integers (MB·µs, µs) and turned into `f64` units only at the end; money is
//! rounded for display only.

pub mod services;

use serde::Serialize;

use crate::offering::{Dimension, Granularity, Meter, Offering, On, Price, Size, Unit};
use crate::outcome::{FunctionStats, NotRecorded, Outcome, Rounded, UsageSpec};
use crate::time::{MINUTE, Micros, SECOND};

/// The billing month ([`crate::time::MONTH`]: 730 hours), microseconds.
pub const MONTH_US: Micros = crate::time::MONTH;

/// Options that are not in the outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BillOptions {
    /// Apply the monthly free tier (it is per account, shared by every function, so off by default).
    pub free_tier: bool,
    /// Provisioned (always-ready, minimum) instances per function, as simulated. Only decides
    /// whether free tiers that exclude provisioned instances apply; the provisioned instance-time
    /// billed is the configured level the outcome records (`provisioned_configured_us`).
    pub provisioned: u32,
    /// The function memory for functions that served nothing, MB (the run's `memory_mb`).
    pub memory_mb: u16,
    /// Configured ephemeral storage (Lambda `/tmp`), MB (default 512, which costs nothing).
    pub ephemeral_storage_mb: u32,
    /// The services around the function the bill includes (none by default).
    pub services: services::ServiceOptions,
}

impl Default for BillOptions {
    fn default() -> Self {
        BillOptions {
            free_tier: false,
            provisioned: 0,
            memory_mb: 128,
            ephemeral_storage_mb: 512,
            services: services::ServiceOptions::default(),
        }
    }
}

/// One billed item.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BillLine {
    /// The offering's item name, e.g. `duration`.
    pub item: String,
    pub unit: String,
    /// USD per unit (the first tier's rate when the item is tiered).
    pub rate_usd: f64,
    /// Usage in the simulated window, in `unit`.
    pub quantity: f64,
    /// Usage in the 730-hour month, in `unit`.
    pub monthly_quantity: f64,
    /// Free units deducted from the month, in `unit` (0 without `--free-tier`).
    pub free_quantity: f64,
    /// The month's charge, USD.
    pub monthly_usd: f64,
    /// The window's share of the month's charge, USD.
    pub amount_usd: f64,
}

/// An itemised bill.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Bill {
    pub offering: String,
    pub provider: String,
    pub region: String,
    /// The simulated window, seconds.
    pub window_s: f64,
    /// The window's bill, USD (`monthly_usd × window / 730 h`).
    pub window_usd: f64,
    /// The bill for a 730-hour month of this traffic, USD.
    pub monthly_usd: f64,
    /// Whether any free tier was deducted.
    pub free_tier_applied: bool,
    pub lines: Vec<BillLine>,
    /// Caveats: a free tier that did not apply, memory beyond the largest size, and so on.
    pub notes: Vec<String>,
}

/// Why an outcome cannot be priced on a sheet. Only a programming error: the run was not told to
/// record what the sheet bills by.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CostError {
    #[error("cannot bill {offering} item {item:?}: {source}")]
    NotRecorded {
        offering: String,
        item: String,
        source: NotRecorded,
    },
    /// The services around the function cannot be priced (another provider's offering).
    #[error("{0}")]
    Services(String),
}

/// Checks, before any run, that runs recording `usage` can be billed on `offering`: every
/// granularity the sheet bills by is recorded. A run configured from the offering always passes
/// (`PlatformConfig::usage` = `Offering::usage_spec()`).
pub fn check_recorded(usage: &UsageSpec, offering: &Offering) -> Result<(), CostError> {
    match offering
        .usage_spec()
        .granularities()
        .iter()
        .find(|g| !usage.granularities().contains(g))
    {
        None => Ok(()),
        Some(&g) => Err(CostError::NotRecorded {
            offering: offering.meta.name.clone(),
            item: "every item rounded so".into(),
            source: NotRecorded(g),
        }),
    }
}

/// Prices `outcome` on `offering`; an error (never a silent zero) when the run that produced
/// `outcome` did not record a granularity the sheet bills by ([`check_recorded`] tells before
/// the run).
pub fn bill(outcome: &Outcome, offering: &Offering, opts: &BillOptions) -> Result<Bill, CostError> {
    let window = outcome.window_us;
    // Month units per window unit; 0 for an empty window (nothing to scale).
    let to_month = if window == 0 {
        0.0
    } else {
        MONTH_US as f64 / window as f64
    };
    let share = window as f64 / MONTH_US as f64;
    let mut notes = Vec::new();
    let mut free_applied = false;
    // Provisioned instances configured, as options or as recorded instance-time (a schedule).
    let provisioned_on = opts.provisioned > 0
        || outcome
            .functions
            .iter()
            .any(|f| f.provisioned_configured_us > 0);
    let mut free_blocked = false;

    let sizes: Vec<(Size, bool, u16)> = outcome
        .functions
        .iter()
        .map(|f| {
            let mb = function_memory(f, opts.memory_mb);
            let (size, over) = offering.memory.billed(mb);
            (size, over, mb)
        })
        .collect();
    for (i, &(size, over, mb)) in sizes.iter().enumerate() {
        if over {
            let name = outcome.names.get(i).map_or("", String::as_str);
            notes.push(format!(
                "function {name:?}: {mb} MB is more than the largest size {} offers; billed at {} MB",
                offering.meta.name, size.memory_mb
            ));
        }
    }

    let mut lines = Vec::new();
    for price in &offering.prices {
        let base = window_usage(price, outcome, offering, opts, &sizes).map_err(|source| {
            CostError::NotRecorded {
                offering: offering.meta.name.clone(),
                item: price.item.clone(),
                source,
            }
        })?;
        let quantity = base * price.unit.per_base();
        let monthly_quantity = quantity * to_month;
        let eligible =
            opts.free_tier && price.free > 0.0 && (price.free_with_provisioned || !provisioned_on);
        if opts.free_tier && price.free > 0.0 && !eligible {
            free_blocked = true;
        }
        let free_quantity = if eligible {
            monthly_quantity.min(price.free)
        } else {
            0.0
        };
        if free_quantity > 0.0 {
            free_applied = true;
        }
        let monthly_usd =
            (price.tiered_cost(monthly_quantity) - price.tiered_cost(free_quantity)).max(0.0);
        if quantity == 0.0 && monthly_usd == 0.0 {
            continue;
        }
        lines.push(BillLine {
            item: price.item.clone(),
            unit: price.unit.name().to_string(),
            rate_usd: price.base_rate(),
            quantity,
            monthly_quantity,
            free_quantity,
            monthly_usd,
            amount_usd: monthly_usd * share,
        });
    }
    if free_blocked {
        notes.push(format!(
            "the free tier does not apply to {} with {} configured",
            offering.meta.name, offering.behaviour.provisioned_means
        ));
    }
    let (service_lines, service_notes, service_free) = services::lines(
        outcome,
        &offering.meta.name,
        &offering.meta.provider,
        &opts.services,
        opts.free_tier,
    )?;
    lines.extend(service_lines);
    notes.extend(service_notes);
    free_applied |= service_free;
    let monthly_usd: f64 = lines.iter().map(|l| l.monthly_usd).sum();
    Ok(Bill {
        offering: offering.meta.name.clone(),
        provider: offering.meta.provider.clone(),
        region: offering.meta.region.clone(),
        window_s: window as f64 / SECOND as f64,
        window_usd: monthly_usd * share,
        monthly_usd,
        free_tier_applied: free_applied,
        lines,
        notes,
    })
}

/// The memory that sizes a function's instances: the largest memory it ran at, else the run's.
fn function_memory(f: &FunctionStats, default_mb: u16) -> u16 {
    f.usage
        .iter()
        .map(|u| u.memory_mb)
        .max()
        .unwrap_or(default_mb)
}

/// MB·µs → GB-s (1 GB = 1,024 MB).
fn gb_seconds(mb_us: u128) -> f64 {
    mb_us as f64 / (1024.0 * SECOND as f64)
}

/// The CPU of a size in the unit's terms: GHz for GHz-s, vCPU otherwise.
fn cpu_of(size: &Size, unit: Unit) -> f64 {
    match unit.dimension() {
        Dimension::ClockTime => size.ghz.unwrap_or(0.0),
        _ => size.vcpu,
    }
}

/// The window's usage of `price`'s meter, in the base unit of its dimension (requests, GB-s,
/// vCPU-s or GHz-s).
fn window_usage(
    price: &Price,
    outcome: &Outcome,
    offering: &Offering,
    opts: &BillOptions,
    sizes: &[(Size, bool, u16)],
) -> Result<f64, NotRecorded> {
    type Usage<'a> = &'a dyn Fn(&FunctionStats, &Size) -> Result<f64, NotRecorded>;
    let per_function = |f: Usage| -> Result<f64, NotRecorded> {
        let mut total = 0.0;
        for (s, (size, _, _)) in outcome.functions.iter().zip(sizes) {
            total += f(s, size)?;
        }
        Ok(total)
    };
    // Each item's time under `rounding`, microseconds: `on` picks on-demand and provisioned.
    let on_sum =
        |on: On, od: &Rounded, prov: &Rounded, g: Granularity| -> Result<u64, NotRecorded> {
            let mut us = 0;
            if on.on_demand() {
                us += od.sum(g)?;
            }
            if on.provisioned() {
                us += prov.sum(g)?;
            }
            Ok(us)
        };
    Ok(match &price.meter {
        Meter::Requests { on } => per_function(&|s, _| {
            Ok(s.usage
                .iter()
                .map(|u| {
                    let mut n = 0;
                    if on.on_demand() {
                        n += u.on_demand.count;
                    }
                    if on.provisioned() {
                        n += u.provisioned.count;
                    }
                    n
                })
                .sum::<u64>() as f64)
        })?,
        Meter::ExecutionMemory {
            on,
            rounding,
            include_init,
        } => per_function(&|s, _| {
            let mut mb_us: u128 = 0;
            for u in &s.usage {
                let mb = u128::from(offering.memory.billed(u.memory_mb).0.memory_mb);
                let mut us = u128::from(on_sum(*on, &u.on_demand, &u.provisioned, *rounding)?);
                if on.on_demand() && *include_init {
                    us += u128::from(u.init.sum(*rounding)?);
                }
                mb_us += mb * us;
            }
            Ok(gb_seconds(mb_us))
        })?,
        Meter::ExecutionCpu { on, rounding } => per_function(&|s, _| {
            let mut total = 0.0;
            for u in &s.usage {
                let size = offering.memory.billed(u.memory_mb).0;
                let us = on_sum(*on, &u.on_demand, &u.provisioned, *rounding)?;
                total += cpu_of(&size, price.unit) * us as f64 / SECOND as f64;
            }
            Ok(total)
        })?,
        Meter::ActiveMemory { on, rounding } => per_function(&|s, size| {
            let us = on_sum(*on, &s.on_demand_active, &s.provisioned_active, *rounding)?;
            Ok(gb_seconds(u128::from(size.memory_mb) * u128::from(us)))
        })?,
        Meter::ActiveCpu { on, rounding } => per_function(&|s, size| {
            let us = on_sum(*on, &s.on_demand_active, &s.provisioned_active, *rounding)?;
            Ok(cpu_of(size, price.unit) * us as f64 / SECOND as f64)
        })?,
        Meter::IdleProvisionedMemory => per_function(&|s, size| {
            Ok(gb_seconds(
                u128::from(size.memory_mb) * u128::from(s.provisioned_idle_us),
            ))
        })?,
        Meter::IdleProvisionedCpu => per_function(&|s, size| {
            Ok(cpu_of(size, price.unit) * s.provisioned_idle_us as f64 / SECOND as f64)
        })?,
        Meter::ProvisionedMemory { round_window } => {
            // The configured provisioned level over time, as the engine recorded it: a fixed count
            // × the window, or whatever a schedule or target tracking held. Rounding the window up
            // to `round_window` scales it by the same factor (exact for a fixed count, enabled for
            // the whole window; a plan's level changes are not rounded one by one).
            let window = outcome.window_us;
            let rounded = if *round_window > 0 {
                window.div_ceil(*round_window) * round_window
            } else {
                window
            };
            per_function(&|s, size| {
                let us = u128::from(s.provisioned_configured_us);
                let us = if window == 0 {
                    0
                } else {
                    us * u128::from(rounded) / u128::from(window)
                };
                Ok(gb_seconds(u128::from(size.memory_mb) * us))
            })?
        }
        Meter::LifetimeMemory { min_instances } | Meter::LifetimeCpu { min_instances } => {
            let memory = matches!(price.meter, Meter::LifetimeMemory { .. });
            let amount = |size: &Size, us: u128| -> f64 {
                if memory {
                    gb_seconds(u128::from(size.memory_mb) * us)
                } else {
                    cpu_of(size, price.unit) * us as f64 / SECOND as f64
                }
            };
            if *min_instances == 0 {
                per_function(&|s, size| Ok(amount(size, lifetime_us(s))))?
            } else {
                // A floor of instances across the whole plan (Premium): minute by minute, the
                // larger of the instances alive and the minimum, at the largest size.
                let size = sizes
                    .iter()
                    .map(|(s, _, _)| *s)
                    .max_by_key(|s| s.memory_mb)
                    .unwrap_or_else(|| offering.memory.billed(opts.memory_mb).0);
                amount(&size, floored_alive_us(outcome, *min_instances))
            }
        }
        Meter::EphemeralStorage {
            included_mb,
            rounding,
        } => {
            let extra_mb = u128::from(opts.ephemeral_storage_mb.saturating_sub(*included_mb));
            per_function(&|s, _| {
                let mut us: u128 = 0;
                for u in &s.usage {
                    us += u128::from(u.on_demand.sum(*rounding)?)
                        + u128::from(u.provisioned.sum(*rounding)?)
                        + u128::from(u.init.sum(*rounding)?);
                }
                Ok(gb_seconds(extra_mb * us))
            })?
        }
    })
}

/// Every instance's alive time (initializing, busy or idle), microseconds.
fn lifetime_us(s: &FunctionStats) -> u128 {
    u128::from(s.on_demand_busy_us)
        + u128::from(s.on_demand_idle_us)
        + u128::from(s.on_demand_init_us)
        + u128::from(s.provisioned_busy_us)
        + u128::from(s.provisioned_idle_us)
}

/// ∫ max(alive instances, `min`) dt over the window, instance-microseconds, minute by minute.
fn floored_alive_us(outcome: &Outcome, min: u32) -> u128 {
    let mut total = 0u128;
    for (m, minute) in outcome.minutes.iter().enumerate() {
        let start = m as Micros * MINUTE;
        let len = outcome.window_us.saturating_sub(start).min(MINUTE);
        total += minute.alive_us.max(u128::from(min) * u128::from(len));
    }
    total
}
