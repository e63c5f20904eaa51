//! Reading an offering file and validating it into an [`Offering`]. Every error names the file and
//! the key (`pricing/x.toml: prices.duration.rate: must be >= 0`).

use std::path::Path;

use super::file::{
    BehaviourFile, CpuFile, KeepAlivePolicyFile, MemoryFile, MetaFile, OfferingFile, PriceFile,
    TierFile, TimeoutFile,
};
use super::*;
use crate::time::{Micros, SECOND};

/// The only format version this build reads.
pub const VERSION: i64 = 1;

/// Reads and validates the offering file at `path`.
pub fn load_path(path: &Path) -> Result<Offering, OfferingError> {
    let text = std::fs::read_to_string(path).map_err(|error| OfferingError::Io {
        path: path.to_path_buf(),
        error,
    })?;
    parse(&text, &path.display().to_string())
}

/// Parses and validates offering TOML; `path` is the name used in messages and recorded as the
/// offering's file.
pub fn parse(text: &str, path: &str) -> Result<Offering, OfferingError> {
    let raw: OfferingFile = toml::from_str(text).map_err(|e| OfferingError::Parse {
        path: match e.span() {
            Some(span) => {
                let (line, column) = crate::dist::line_column(text, span.start);
                format!("{path}:{line}:{column}")
            }
            None => path.to_string(),
        },
        message: e.message().trim().to_string(),
    })?;
    Check { path, text }.offering(raw)
}

/// The 1-based line where the dotted `key` (`behaviour.cold_start`) is set in `text`, if it is
/// set there as `name = ...` under its table's header.
fn key_line(text: &str, key: &str) -> Option<usize> {
    let (table, name) = key.rsplit_once('.').unwrap_or(("", key));
    let mut current = "";
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if let Some(header) = line.strip_prefix('[') {
            current = header.trim_matches(|c| c == '[' || c == ']').trim();
        } else if current == table
            && line
                .strip_prefix(name)
                .is_some_and(|rest| rest.trim_start().starts_with('='))
        {
            return Some(i + 1);
        }
    }
    None
}

struct Check<'p> {
    path: &'p str,
    text: &'p str,
}

type R<T> = Result<T, OfferingError>;

impl Check<'_> {
    fn err(&self, key: impl Into<String>, reason: impl Into<String>) -> OfferingError {
        let key = key.into();
        OfferingError::Invalid {
            path: match key_line(self.text, &key) {
                Some(line) => format!("{}:{line}", self.path),
                None => self.path.to_string(),
            },
            key,
            reason: reason.into(),
        }
    }

    fn required<T>(&self, v: Option<T>, key: &str) -> R<T> {
        v.ok_or_else(|| self.err(key, "missing"))
    }

    fn text(&self, v: Option<String>, key: &str) -> R<String> {
        let s = self.required(v, key)?;
        if s.trim().is_empty() {
            return Err(self.err(key, "must not be empty"));
        }
        Ok(s)
    }

    /// A price's `rounding`: the shorthand string or a `{ step_ms, minimum_ms }` table.
    fn rounding(&self, v: &toml::Value, key: &str) -> R<Granularity> {
        const EXPECTED: &str = "expected none, STEP or STEP-min-MINIMUM with whole us, ms or s \
                                (e.g. 1ms, 100ms-min-1s), or a table { step_ms = 1, minimum_ms = 100 }";
        match v {
            toml::Value::String(s) => parse_granularity(s)
                .ok_or_else(|| self.err(key.to_string(), format!("{s:?}: {EXPECTED}"))),
            toml::Value::Table(t) => {
                let mut step_ms = None;
                let mut minimum_ms = 0.0;
                for (k, v) in t {
                    let sub = format!("{key}.{k}");
                    let ms = match v {
                        toml::Value::Integer(i) => *i as f64,
                        toml::Value::Float(f) => *f,
                        _ => return Err(self.err(sub, "must be a number of milliseconds")),
                    };
                    let ms = self.non_negative(ms, &sub)?;
                    match k.as_str() {
                        "step_ms" => step_ms = Some(ms),
                        "minimum_ms" => minimum_ms = ms,
                        _ => {
                            return Err(self.err(sub, "unknown key; expected step_ms, minimum_ms"));
                        }
                    }
                }
                let step_ms = self.required(step_ms, &format!("{key}.step_ms"))?;
                let to_us = |ms: f64, k: &str| -> R<u64> {
                    let us = (ms * 1_000.0).round();
                    if (ms * 1_000.0 - us).abs() > 1e-6 || us > 1e15 {
                        return Err(self.err(
                            format!("{key}.{k}"),
                            format!("{ms}: must be a whole number of microseconds"),
                        ));
                    }
                    Ok(us as u64)
                };
                let step = to_us(step_ms, "step_ms")?;
                let minimum = to_us(minimum_ms, "minimum_ms")?;
                Granularity::new(step, minimum)
                    .ok_or_else(|| self.err(format!("{key}.step_ms"), "must be greater than 0"))
            }
            _ => Err(self.err(key.to_string(), EXPECTED)),
        }
    }

    fn non_negative(&self, v: f64, key: &str) -> R<f64> {
        if !v.is_finite() || v < 0.0 {
            return Err(self.err(key, format!("{v}: must be >= 0")));
        }
        Ok(v)
    }

    fn count(&self, v: i64, key: &str, min: i64) -> R<u32> {
        if v < min || v > i64::from(u32::MAX) {
            return Err(self.err(key, format!("{v}: must be a whole number >= {min}")));
        }
        Ok(v as u32)
    }

    fn provenance(
        &self,
        group: &str,
        source: Option<String>,
        as_of: Option<String>,
        confidence: Option<String>,
        note: Option<String>,
    ) -> R<Provenance> {
        let source = self.text(source, &format!("{group}.source"))?;
        let as_of = self.text(as_of, &format!("{group}.as_of"))?;
        if !is_date(&as_of) {
            return Err(self.err(
                format!("{group}.as_of"),
                format!("{as_of:?}: expected a date YYYY, YYYY-MM or YYYY-MM-DD"),
            ));
        }
        let confidence = match confidence.as_deref() {
            None | Some("V") => Confidence::V,
            Some("C") => Confidence::C,
            Some("S") => Confidence::S,
            Some("NV") => Confidence::NV,
            Some(other) => {
                return Err(self.err(
                    format!("{group}.confidence"),
                    format!("{other:?}: expected V, C, S or NV (as in PRICING-FACTS.md)"),
                ));
            }
        };
        let note = note.filter(|n| !n.trim().is_empty());
        if matches!(confidence, Confidence::NV | Confidence::S) && note.is_none() {
            return Err(self.err(
                format!("{group}.note"),
                "missing: a value marked S or NV must say why in a note",
            ));
        }
        Ok(Provenance {
            source,
            as_of,
            confidence,
            note,
        })
    }

    fn offering(&self, raw: OfferingFile) -> R<Offering> {
        match raw.version {
            Some(VERSION) => {}
            Some(v) => {
                return Err(self.err(
                    "version",
                    format!("{v}: this faasplan reads version {VERSION}"),
                ));
            }
            None => return Err(self.err("version", format!("missing (write version = {VERSION})"))),
        }
        let meta = self.meta(self.required(raw.offering, "offering")?)?;
        let memory = self.memory(self.required(raw.memory, "memory")?)?;
        let behaviour = self.behaviour(self.required(raw.behaviour, "behaviour")?)?;
        let timeout = self.timeout(self.required(raw.timeout, "timeout")?)?;
        let cpu = self.cpu(self.required(raw.cpu, "cpu")?, &memory)?;
        let keep_alive_policy = raw
            .keep_alive_policy
            .map(|p| self.keep_alive_policy(p))
            .transpose()?;
        if raw.prices.is_empty() {
            return Err(self.err("prices", "missing: an offering needs at least one price"));
        }
        let mut prices: Vec<Price> = Vec::with_capacity(raw.prices.len());
        for (i, p) in raw.prices.into_iter().enumerate() {
            let price = self.price(i, p, &memory)?;
            if prices.iter().any(|q| q.item == price.item) {
                return Err(self.err(
                    format!("prices.{}", price.item),
                    "duplicate item name".to_string(),
                ));
            }
            prices.push(price);
        }
        Ok(Offering {
            meta,
            behaviour,
            keep_alive_policy,
            memory,
            timeout,
            cpu,
            prices,
        })
    }

    fn keep_alive_policy(&self, p: KeepAlivePolicyFile) -> R<PlatformPolicy> {
        let key = "keep_alive_policy.policy";
        let text = self.text(p.policy, key)?;
        let spec = crate::engine::KeepAliveSpec::parse(&text)
            .map_err(|e| self.err(key, e.reason().to_string()))?;
        Ok(PlatformPolicy {
            spec,
            provenance: self.provenance(
                "keep_alive_policy",
                p.source,
                p.as_of,
                p.confidence,
                p.note,
            )?,
        })
    }

    fn cpu(&self, c: CpuFile, memory: &Memory) -> R<Cpu> {
        let rule_name = self.text(c.rule, "cpu.rule")?;
        let positive = |v: Option<f64>, key: &str| -> R<f64> {
            let v = self.non_negative(self.required(v, key)?, key)?;
            if v == 0.0 || v > 1e6 {
                return Err(self.err(key, format!("{v}: must be in (0, 1e6]")));
            }
            Ok(v)
        };
        let only = |fields: &[(&str, bool)]| -> R<()> {
            for (f, given) in fields {
                if *given {
                    return Err(self.err(
                        format!("cpu.{f}"),
                        format!("not used with rule = {rule_name:?}"),
                    ));
                }
            }
            Ok(())
        };
        let rule = match rule_name.as_str() {
            "per-memory" => {
                only(&[("vcpu", c.vcpu.is_some())])?;
                CpuRule::PerMemory {
                    mb_per_vcpu: positive(c.mb_per_vcpu, "cpu.mb_per_vcpu")?,
                    max_vcpu: positive(c.max_vcpu, "cpu.max_vcpu")?,
                }
            }
            "sizes" => {
                only(&[
                    ("vcpu", c.vcpu.is_some()),
                    ("mb_per_vcpu", c.mb_per_vcpu.is_some()),
                    ("max_vcpu", c.max_vcpu.is_some()),
                ])?;
                if !memory.is_fixed_sizes() {
                    return Err(self.err(
                        "cpu.rule",
                        "\"sizes\" takes each size's vcpu: it needs [memory] rule = \"sizes\"",
                    ));
                }
                CpuRule::Sizes
            }
            "fixed" => {
                only(&[
                    ("mb_per_vcpu", c.mb_per_vcpu.is_some()),
                    ("max_vcpu", c.max_vcpu.is_some()),
                ])?;
                CpuRule::Fixed(positive(c.vcpu, "cpu.vcpu")?)
            }
            other => {
                return Err(self.err(
                    "cpu.rule",
                    format!("{other:?}: expected per-memory, sizes or fixed"),
                ));
            }
        };
        let arch_speed = match c.arch_speed {
            None => 1.0,
            Some(_) => positive(c.arch_speed, "cpu.arch_speed")?,
        };
        Ok(Cpu {
            rule,
            arch_speed,
            provenance: self.provenance("cpu", c.source, c.as_of, c.confidence, c.note)?,
        })
    }

    fn timeout(&self, t: TimeoutFile) -> R<Timeouts> {
        let seconds = |v: f64, key: &str| -> R<Micros> {
            let v = self.non_negative(v, key)?;
            if v == 0.0 || v > 366.0 * 86_400.0 {
                return Err(self.err(key, format!("{v}: must be in (0, 31622400] seconds")));
            }
            Ok((v * SECOND as f64).round() as Micros)
        };
        let default = seconds(
            self.required(t.default_s, "timeout.default_s")?,
            "timeout.default_s",
        )?;
        let max = t.max_s.map(|m| seconds(m, "timeout.max_s")).transpose()?;
        if let Some(m) = max
            && m < default
        {
            return Err(self.err("timeout.max_s", "below timeout.default_s"));
        }
        Ok(Timeouts {
            default,
            max,
            provenance: self.provenance("timeout", t.source, t.as_of, t.confidence, t.note)?,
        })
    }

    fn meta(&self, m: MetaFile) -> R<Meta> {
        let name = self.text(m.name, "offering.name")?;
        if !name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            return Err(self.err(
                "offering.name",
                format!("{name:?}: use lowercase letters, digits and '-'"),
            ));
        }
        Ok(Meta {
            name,
            provider: self.text(m.provider, "offering.provider")?,
            product: self.text(m.product, "offering.product")?,
            region: self.text(m.region, "offering.region")?,
            description: self.text(m.description, "offering.description")?,
            provenance: self.provenance("offering", m.source, m.as_of, m.confidence, m.note)?,
            file: self.path.to_string(),
        })
    }

    fn behaviour(&self, b: BehaviourFile) -> R<Behaviour> {
        let k = |f: &str| format!("behaviour.{f}");
        let per_instance_concurrency = self.count(
            self.required(b.per_instance_concurrency, &k("per_instance_concurrency"))?,
            &k("per_instance_concurrency"),
            1,
        )?;
        let keep_alive_s = self.non_negative(
            self.required(b.keep_alive_s, &k("keep_alive_s"))?,
            &k("keep_alive_s"),
        )?;
        if keep_alive_s > 1e9 {
            return Err(self.err(k("keep_alive_s"), format!("{keep_alive_s}: too large")));
        }
        let spec = self.text(b.cold_start, &k("cold_start"))?;
        let cold_start = self.cold_start(&spec, &k("cold_start"))?;
        let scaling = match b.scaling_rate {
            None => None,
            Some(s) => ScalingRate::parse(&s).map_err(|e| {
                self.err(
                    k("scaling_rate"),
                    format!("{s:?}: expected N/DURATION such as 1000/10s, or none ({e})"),
                )
            })?,
        };
        let max_instances = b
            .max_instances
            .map(|v| self.count(v, &k("max_instances"), 1))
            .transpose()?;
        let account_concurrency = b
            .account_concurrency
            .map(|v| self.count(v, &k("account_concurrency"), 1))
            .transpose()?;
        let provisioned = self.count(b.provisioned.unwrap_or(0), &k("provisioned"), 0)?;
        if let Some(m) = max_instances
            && m < provisioned
        {
            return Err(self.err(
                k("provisioned"),
                format!("{provisioned}: above behaviour.max_instances {m}"),
            ));
        }
        Ok(Behaviour {
            per_instance_concurrency,
            keep_alive: (keep_alive_s * SECOND as f64).round() as Micros,
            cold_start,
            scaling,
            max_instances,
            account_concurrency,
            provisioned,
            provisioned_means: b
                .provisioned_means
                .unwrap_or_else(|| "provisioned instances".to_string()),
            provenance: self.provenance("behaviour", b.source, b.as_of, b.confidence, b.note)?,
        })
    }

    fn cold_start(&self, spec: &str, key: &str) -> R<ColdStart> {
        let spec = spec.trim();
        if let Some(rest) = spec.strip_prefix("lambda-table") {
            let arch = match rest.strip_prefix(':') {
                Some(a) => a.trim(),
                None if rest.is_empty() => "x86_64",
                None => {
                    return Err(self.err(
                        key,
                        format!("{spec:?}: expected lambda-table or lambda-table:ARCH"),
                    ));
                }
            };
            if arch != "x86_64" && arch != "arm64" {
                return Err(self.err(
                    key,
                    format!("{spec:?}: architecture must be x86_64 or arm64"),
                ));
            }
            return Ok(ColdStart::LambdaTable {
                arch: arch.to_string(),
            });
        }
        if spec.starts_with("empirical:") {
            return Err(self.err(
                key,
                "empirical:FILE is for --init-ms only; an offering uses N (ms), lognormal:P50,P99 or lambda-table",
            ));
        }
        InitDist::parse(spec)
            .map(ColdStart::Dist)
            .map_err(|e| self.err(key, e.reason()))
    }

    fn memory(&self, m: MemoryFile) -> R<Memory> {
        let rule_name = self.text(m.rule, "memory.rule")?;
        let default_mb = self.required(m.default_mb, "memory.default_mb")?;
        if !(1..=i64::from(u16::MAX)).contains(&default_mb) {
            return Err(self.err(
                "memory.default_mb",
                format!("{default_mb}: must be between 1 and {}", u16::MAX),
            ));
        }
        let rule = match rule_name.as_str() {
            "function" => {
                if !m.sizes.is_empty() {
                    return Err(self.err("memory.sizes", "only for rule = \"sizes\""));
                }
                let step_mb = self.count(m.step_mb.unwrap_or(1), "memory.step_mb", 1)?;
                let min_mb = self.count(m.min_mb.unwrap_or(1), "memory.min_mb", 1)?;
                let max_mb =
                    self.count(m.max_mb.unwrap_or(i64::from(u16::MAX)), "memory.max_mb", 1)?;
                if max_mb < min_mb {
                    return Err(self.err(
                        "memory.max_mb",
                        format!("{max_mb}: below memory.min_mb {min_mb}"),
                    ));
                }
                let vcpu = self.non_negative(m.vcpu.unwrap_or(1.0), "memory.vcpu")?;
                MemoryRule::Function {
                    step_mb,
                    min_mb,
                    max_mb,
                    vcpu,
                }
            }
            "sizes" => {
                for (f, v) in [
                    ("step_mb", m.step_mb.is_some()),
                    ("min_mb", m.min_mb.is_some()),
                    ("max_mb", m.max_mb.is_some()),
                    ("vcpu", m.vcpu.is_some()),
                ] {
                    if v {
                        return Err(self.err(
                            format!("memory.{f}"),
                            "only for rule = \"function\"; give each size its own vcpu",
                        ));
                    }
                }
                if m.sizes.is_empty() {
                    return Err(self.err("memory.sizes", "missing: rule = \"sizes\" needs sizes"));
                }
                let mut sizes: Vec<Size> = Vec::new();
                for (i, s) in m.sizes.into_iter().enumerate() {
                    let key = |f: &str| format!("memory.sizes[{i}].{f}");
                    let memory_mb = self.count(
                        self.required(s.memory_mb, &key("memory_mb"))?,
                        &key("memory_mb"),
                        1,
                    )?;
                    if sizes.last().is_some_and(|p| p.memory_mb >= memory_mb) {
                        return Err(self.err(
                            key("memory_mb"),
                            format!("{memory_mb}: sizes must be listed by increasing memory"),
                        ));
                    }
                    let vcpu =
                        self.non_negative(self.required(s.vcpu, &key("vcpu"))?, &key("vcpu"))?;
                    let ghz = s
                        .ghz
                        .map(|g| self.non_negative(g, &key("ghz")))
                        .transpose()?;
                    sizes.push(Size {
                        memory_mb,
                        vcpu,
                        ghz,
                    });
                }
                MemoryRule::Sizes(sizes)
            }
            other => {
                return Err(self.err(
                    "memory.rule",
                    format!("{other:?}: expected \"function\" or \"sizes\""),
                ));
            }
        };
        Ok(Memory {
            rule,
            default_mb: default_mb as u16,
            provenance: self.provenance("memory", m.source, m.as_of, m.confidence, m.note)?,
        })
    }

    fn price(&self, index: usize, p: PriceFile, memory: &Memory) -> R<Price> {
        let item = match p.item {
            Some(s) if !s.trim().is_empty() => s,
            Some(_) => return Err(self.err(format!("prices[{index}].item"), "must not be empty")),
            None => return Err(self.err(format!("prices[{index}].item"), "missing")),
        };
        if !item
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(self.err(
                format!("prices[{index}].item"),
                format!("{item:?}: use letters, digits, '-' and '_'"),
            ));
        }
        let key = |f: &str| format!("prices.{item}.{f}");
        let meter_name = self.text(p.meter, &key("meter"))?;
        let unit_name = self.text(p.unit, &key("unit"))?;
        let unit = Unit::parse(&unit_name).ok_or_else(|| {
            self.err(
                key("unit"),
                format!(
                    "unknown unit {unit_name:?}; expected one of {}",
                    Unit::NAMES
                ),
            )
        })?;
        let on = match p.on.as_deref() {
            None => None,
            Some("on-demand") => Some(On::OnDemand),
            Some("provisioned") => Some(On::Provisioned),
            Some("all") => Some(On::All),
            Some(other) => {
                return Err(self.err(
                    key("on"),
                    format!("{other:?}: expected on-demand, provisioned or all"),
                ));
            }
        };
        let rounding = match &p.rounding {
            None => None,
            Some(v) => Some(self.rounding(v, &key("rounding"))?),
        };
        // Which optional keys each meter takes; any other given key is an error.
        let mut allowed: Vec<&str> = Vec::new();
        let meter = match meter_name.as_str() {
            "requests" => {
                allowed.push("on");
                Meter::Requests {
                    on: on.unwrap_or(On::All),
                }
            }
            "execution-memory" => {
                allowed.extend(["on", "rounding", "include_init"]);
                Meter::ExecutionMemory {
                    on: on.unwrap_or(On::All),
                    rounding: self.required(rounding, &key("rounding"))?,
                    include_init: p.include_init.unwrap_or(false),
                }
            }
            "execution-cpu" => {
                allowed.extend(["on", "rounding"]);
                Meter::ExecutionCpu {
                    on: on.unwrap_or(On::All),
                    rounding: self.required(rounding, &key("rounding"))?,
                }
            }
            "active-memory" => {
                allowed.extend(["on", "rounding"]);
                Meter::ActiveMemory {
                    on: on.unwrap_or(On::All),
                    rounding: self.required(rounding, &key("rounding"))?,
                }
            }
            "active-cpu" => {
                allowed.extend(["on", "rounding"]);
                Meter::ActiveCpu {
                    on: on.unwrap_or(On::All),
                    rounding: self.required(rounding, &key("rounding"))?,
                }
            }
            "idle-provisioned-memory" => Meter::IdleProvisionedMemory,
            "idle-provisioned-cpu" => Meter::IdleProvisionedCpu,
            "provisioned-memory" => {
                allowed.push("round_window_s");
                let s =
                    self.non_negative(p.round_window_s.unwrap_or(0.0), &key("round_window_s"))?;
                Meter::ProvisionedMemory {
                    round_window: (s * SECOND as f64).round() as Micros,
                }
            }
            "lifetime-memory" | "lifetime-cpu" => {
                allowed.push("min_instances");
                let min_instances =
                    self.count(p.min_instances.unwrap_or(0), &key("min_instances"), 0)?;
                if meter_name == "lifetime-memory" {
                    Meter::LifetimeMemory { min_instances }
                } else {
                    Meter::LifetimeCpu { min_instances }
                }
            }
            "ephemeral-storage" => {
                allowed.extend(["included_mb", "rounding"]);
                Meter::EphemeralStorage {
                    included_mb: self.count(
                        self.required(p.included_mb, &key("included_mb"))?,
                        &key("included_mb"),
                        0,
                    )?,
                    // Lambda's 1 ms, the rounding of the durations it bills.
                    rounding: rounding.unwrap_or(Granularity::MILLISECOND),
                }
            }
            other => {
                return Err(self.err(
                    key("meter"),
                    format!(
                        "unknown meter {other:?}; expected one of requests, execution-memory, \
                         execution-cpu, active-memory, active-cpu, idle-provisioned-memory, \
                         idle-provisioned-cpu, provisioned-memory, lifetime-memory, lifetime-cpu, \
                         ephemeral-storage"
                    ),
                ));
            }
        };
        for (name, given) in [
            ("on", p.on.is_some()),
            ("rounding", p.rounding.is_some()),
            ("include_init", p.include_init.is_some()),
            ("round_window_s", p.round_window_s.is_some()),
            ("min_instances", p.min_instances.is_some()),
            ("included_mb", p.included_mb.is_some()),
        ] {
            if given && !allowed.contains(&name) {
                return Err(self.err(key(name), format!("not used by meter {meter_name:?}")));
            }
        }
        let want = match &meter {
            Meter::Requests { .. } => vec![Dimension::Count],
            Meter::ExecutionMemory { .. }
            | Meter::ActiveMemory { .. }
            | Meter::IdleProvisionedMemory
            | Meter::ProvisionedMemory { .. }
            | Meter::LifetimeMemory { .. }
            | Meter::EphemeralStorage { .. } => vec![Dimension::MemoryTime],
            Meter::ExecutionCpu { .. } => vec![Dimension::CpuTime, Dimension::ClockTime],
            Meter::ActiveCpu { .. } | Meter::IdleProvisionedCpu | Meter::LifetimeCpu { .. } => {
                vec![Dimension::CpuTime]
            }
        };
        if !want.contains(&unit.dimension()) {
            return Err(self.err(
                key("unit"),
                format!("{unit_name:?} does not measure what meter {meter_name:?} counts"),
            ));
        }
        if unit == Unit::GhzSecond {
            let all_ghz = match &memory.rule {
                MemoryRule::Sizes(sizes) => sizes.iter().all(|s| s.ghz.is_some()),
                MemoryRule::Function { .. } => false,
            };
            if !all_ghz {
                return Err(self.err(
                    key("unit"),
                    "GHz-s needs memory.rule = \"sizes\" with a ghz on every size",
                ));
            }
        }
        let tiers = match (p.rate, p.tiers) {
            (Some(_), Some(_)) => {
                return Err(self.err(key("rate"), "give either rate or tiers, not both"));
            }
            (None, None) => return Err(self.err(key("rate"), "missing (or give tiers)")),
            (Some(rate), None) => vec![Tier {
                up_to: None,
                rate: self.non_negative(rate, &key("rate"))?,
            }],
            (None, Some(tiers)) => self.tiers(tiers, &key("tiers"))?,
        };
        let free = self.non_negative(p.free.unwrap_or(0.0), &key("free"))?;
        Ok(Price {
            meter,
            unit,
            tiers,
            free,
            free_with_provisioned: p.free_with_provisioned.unwrap_or(true),
            provenance: self.provenance(
                &format!("prices.{item}"),
                p.source,
                p.as_of,
                p.confidence,
                p.note,
            )?,
            item,
        })
    }

    fn tiers(&self, tiers: Vec<TierFile>, key: &str) -> R<Vec<Tier>> {
        if tiers.is_empty() {
            return Err(self.err(key, "must list at least one tier"));
        }
        let n = tiers.len();
        let mut out: Vec<Tier> = Vec::with_capacity(n);
        for (i, t) in tiers.into_iter().enumerate() {
            let k = |f: &str| format!("{key}[{i}].{f}");
            let rate = self.non_negative(self.required(t.rate, &k("rate"))?, &k("rate"))?;
            let up_to = match (t.up_to, i + 1 == n) {
                (None, true) => None,
                (Some(_), true) => {
                    return Err(self.err(k("up_to"), "the last tier must have no upper bound"));
                }
                (None, false) => return Err(self.err(k("up_to"), "missing")),
                (Some(u), false) => {
                    let u = self.non_negative(u, &k("up_to"))?;
                    if out.last().and_then(|p| p.up_to).is_some_and(|p| p >= u) {
                        return Err(self.err(k("up_to"), format!("{u}: tiers must ascend")));
                    }
                    Some(u)
                }
            };
            out.push(Tier { up_to, rate });
        }
        Ok(out)
    }
}

/// `YYYY`, `YYYY-MM` or `YYYY-MM-DD` with plausible numbers.
fn is_date(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    let num = |p: &str, len: usize, lo: u32, hi: u32| {
        p.len() == len
            && p.chars().all(|c| c.is_ascii_digit())
            && p.parse::<u32>().is_ok_and(|v| (lo..=hi).contains(&v))
    };
    match parts.as_slice() {
        [y] => num(y, 4, 1990, 2999),
        [y, m] => num(y, 4, 1990, 2999) && num(m, 2, 1, 12),
        [y, m, d] => num(y, 4, 1990, 2999) && num(m, 2, 1, 12) && num(d, 2, 1, 31),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::is_date;
    use crate::offering::{Granularity, Meter, parse, parse_granularity, shipped};

    #[test]
    fn rounding_shorthands_are_a_grammar_not_a_list() {
        let g = |step, min| Some(Granularity::new(step, min).unwrap());
        assert_eq!(parse_granularity("none"), Some(Granularity::EXACT));
        assert_eq!(parse_granularity("1ms"), g(1_000, 0));
        assert_eq!(parse_granularity("100ms"), g(100_000, 0));
        assert_eq!(parse_granularity("1ms-min-100ms"), g(1_000, 100_000));
        assert_eq!(parse_granularity("100ms-min-1s"), g(100_000, 1_000_000));
        assert_eq!(parse_granularity("10ms-min-50ms"), g(10_000, 50_000));
        assert_eq!(parse_granularity("1s"), g(1_000_000, 0));
        assert_eq!(parse_granularity("250us"), g(250, 0));
        for bad in [
            "",
            "ms",
            "0ms",
            "1.5ms",
            "-1ms",
            "1 ms",
            "1h",
            "1ms-min-",
            "1ms-max-2ms",
        ] {
            assert_eq!(parse_granularity(bad), None, "{bad:?}");
        }
        // Every shorthand prints back as itself.
        for s in [
            "none",
            "1ms",
            "100ms",
            "1ms-min-100ms",
            "100ms-min-1s",
            "10ms-min-50ms",
        ] {
            assert_eq!(parse_granularity(s).unwrap().to_string(), s);
        }
    }

    /// The Consumption sheet with its one `rounding` line replaced.
    fn consumption(rounding: &str) -> Result<crate::offering::Offering, String> {
        let text = shipped::find("azure-functions-consumption").unwrap().text;
        let text = text.replace(
            "rounding = \"1ms-min-100ms\"",
            &format!("rounding = {rounding}"),
        );
        parse(&text, "x.toml").map_err(|e| e.to_string())
    }

    #[test]
    fn rounding_tables_parse_and_bad_ones_name_the_key() {
        let o = consumption("{ step_ms = 10, minimum_ms = 50 }").unwrap();
        let rule = o.prices.iter().find_map(|p| match p.meter {
            Meter::ExecutionMemory { rounding, .. } => Some(rounding),
            _ => None,
        });
        assert_eq!(rule, Granularity::new(10_000, 50_000));
        assert_eq!(o.usage_spec().granularities(), &[rule.unwrap()]);
        // The minimum is optional; fractional milliseconds are fine down to 1 µs.
        let o = consumption("{ step_ms = 0.5 }").unwrap();
        assert_eq!(
            o.usage_spec().granularities(),
            &[Granularity::new(500, 0).unwrap()]
        );
        for (bad, key) in [
            ("{ step_ms = 0 }", "rounding.step_ms"),
            ("{ minimum_ms = 100 }", "rounding.step_ms"),
            ("{ step_ms = 1, minimum = 100 }", "rounding.minimum"),
            ("{ step_ms = -1 }", "rounding.step_ms"),
            ("{ step_ms = 0.0001 }", "rounding.step_ms"),
            ("{ step_ms = \"1\" }", "rounding.step_ms"),
            ("\"1 parsec\"", "rounding"),
            ("5", "rounding"),
        ] {
            let e = consumption(bad).unwrap_err();
            assert!(e.contains("x.toml") && e.contains(key), "{bad}: {e}");
        }
    }

    /// What a run must record is what the sheet bills by, and nothing for sheets without
    /// per-item rounding.
    #[test]
    fn usage_spec_is_the_sheets_roundings() {
        let spec = |name: &str| {
            let s = shipped::find(name).unwrap();
            let o = parse(s.text, &s.display_path()).unwrap();
            o.usage_spec()
                .granularities()
                .iter()
                .map(|g| g.to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(spec("aws-lambda-x86"), ["1ms"]);
        assert_eq!(spec("azure-functions-consumption"), ["1ms-min-100ms"]);
        assert_eq!(spec("azure-functions-flex"), ["100ms-min-1s"]);
        assert_eq!(spec("gcp-cloud-run-request"), ["100ms"]);
        assert!(spec("gcp-cloud-run-instance").is_empty());
    }

    #[test]
    fn dates() {
        assert!(is_date("2025"));
        assert!(is_date("2025-08"));
        assert!(is_date("2025-08-01"));
        assert!(!is_date("~2025"));
        assert!(!is_date("2025-13"));
        assert!(!is_date("25-01-01"));
    }
}
