//! How a traced duration changes with the CPU an instance gets.
//!
//! A duration in a trace was measured at some CPU: the row's memory size on the platform it came
//! from, or a vCPU count the user names. With a CPU profile, the part `bound` of it is CPU work
//! that runs on `min(vCPU, threads)` and the rest (I/O, waiting) does not change (an Amdahl form):
//!
//! `d(c) = d_ref × (bound × min(c_ref, threads) / min(c, threads) + (1 − bound))`
//!
//! Or, with a measured curve (AWS Lambda Power Tuning's average duration per memory size), the
//! duration follows the measurements: `d(c) = d_ref × D(c) / D(c_ref)`, with `D` interpolated
//! linearly in 1/vCPU between the measured sizes (exact for any Amdahl-form function on Lambda
//! below 1,769 MB, where vCPU is proportional to memory). Beyond the measured sizes the caller
//! refuses, unless told to extrapolate, and then `D` holds at the nearest measured size.
//!
//! Without a profile durations are replayed as traced.

/// vCPUs of an instance as a function of the function's memory, in reference-vCPU units (an
/// architecture's speed factor is folded in). Built from an offering's `[cpu]` data.
#[derive(Debug, Clone, PartialEq)]
pub enum VcpuRule {
    /// `memory / mb_per_vcpu`, at most `max_vcpu`, times `speed` (Lambda).
    PerMemory {
        mb_per_vcpu: f64,
        max_vcpu: f64,
        speed: f64,
    },
    /// The smallest listed `(memory MB, vCPU)` size holding the memory (the largest if none does),
    /// times `speed`.
    Sizes { sizes: Vec<(u32, f64)>, speed: f64 },
    /// The same whatever the memory.
    Fixed(f64),
}

impl VcpuRule {
    pub fn vcpu(&self, memory_mb: u16) -> f64 {
        match self {
            VcpuRule::PerMemory {
                mb_per_vcpu,
                max_vcpu,
                speed,
            } => (f64::from(memory_mb) / mb_per_vcpu).min(*max_vcpu) * speed,
            VcpuRule::Sizes { sizes, speed } => {
                let mb = u32::from(memory_mb);
                sizes
                    .iter()
                    .find(|(m, _)| *m >= mb)
                    .or(sizes.last())
                    .map_or(1.0, |(_, v)| *v)
                    * speed
            }
            VcpuRule::Fixed(v) => *v,
        }
    }
}

/// Where the traced durations were measured.
#[derive(Debug, Clone, PartialEq)]
pub enum CpuReference {
    /// At this many reference vCPUs, for every row.
    Vcpu(f64),
    /// At the row's own `memory_mb`, on a platform with this rule.
    RowMemory(VcpuRule),
}

/// Durations measured at several CPUs: `(vCPU, average duration ms)`, by increasing vCPU.
#[derive(Debug, Clone, PartialEq)]
pub struct MeasuredCurve {
    /// Where the measurements come from (a file), for notes and errors.
    pub source: String,
    /// At least one point; vCPUs distinct and increasing, durations > 0.
    pub points: Vec<(f64, f64)>,
    /// The memory sizes, MB, the points were measured at (for messages).
    pub sizes_mb: Vec<u32>,
    /// Whether CPUs beyond the measured range were allowed (the duration then holds at the
    /// nearest measured size).
    pub extrapolate: bool,
}

impl MeasuredCurve {
    /// The duration at `c` vCPUs, ms: linear in 1/c between neighbours, held beyond the ends.
    pub fn at(&self, c: f64) -> f64 {
        let pts = &self.points;
        let (Some(&first), Some(&last)) = (pts.first(), pts.last()) else {
            return 1.0;
        };
        if c <= first.0 {
            return first.1;
        }
        if c >= last.0 {
            return last.1;
        }
        let k = pts.partition_point(|p| p.0 <= c);
        let (lo, hi) = (pts[k - 1], pts[k]);
        let t = (1.0 / c - 1.0 / lo.0) / (1.0 / hi.0 - 1.0 / lo.0);
        lo.1 + t * (hi.1 - lo.1)
    }

    /// The share of a duration at `c` vCPUs that keeps all of them busy, read from the curve as
    /// the interpolation reads it: within a segment `D = a + b / c`, so `b / c` of `D` is CPU
    /// work spread over the c vCPUs (`b` in vCPU-ms, clamped to `0..=D`). Beyond the ends the
    /// nearest segment's `b`. `None` with a single measured size (nothing says what scales).
    pub fn cpu_share(&self, c: f64) -> Option<f64> {
        let pts = &self.points;
        if pts.len() < 2 || c <= 0.0 {
            return None;
        }
        let k = pts.partition_point(|p| p.0 <= c).clamp(1, pts.len() - 1);
        let (lo, hi) = (pts[k - 1], pts[k]);
        let b = (lo.1 - hi.1) / (1.0 / lo.0 - 1.0 / hi.0);
        let d = self.at(c);
        if d <= 0.0 {
            return None;
        }
        Some((b.max(0.0) / c / d).min(1.0))
    }

    /// `None` when `c` vCPUs lie within the measured range (or extrapolation is allowed); else
    /// why not, naming what was measured.
    pub fn out_of_range(&self, c: f64) -> Option<String> {
        let (Some(&(lo, _)), Some(&(hi, _))) = (self.points.first(), self.points.last()) else {
            return None;
        };
        // A relative slack for the vCPU arithmetic of equal sizes.
        if self.extrapolate || (c >= lo * (1.0 - 1e-9) && c <= hi * (1.0 + 1e-9)) {
            return None;
        }
        let (mlo, mhi) = (
            self.sizes_mb.first().copied().unwrap_or(0),
            self.sizes_mb.last().copied().unwrap_or(0),
        );
        Some(format!(
            "{c:.3} vCPU is outside what {} measured ({mlo} to {mhi} MB on Lambda, {lo:.3} to \
             {hi:.3} vCPU); faasplan does not extrapolate a measured curve unless told to \
             hold the nearest measured duration there",
            self.source
        ))
    }
}

/// A function's CPU profile and the platform's CPU: how durations scale.
#[derive(Debug, Clone, PartialEq)]
pub struct CpuModel {
    /// The CPU-bound fraction of a traced duration, in [0, 1].
    pub bound: f64,
    /// Threads the CPU-bound part can use, at least 1.
    pub threads: f64,
    /// The simulated platform's vCPUs by memory.
    pub platform: VcpuRule,
    pub reference: CpuReference,
    /// Measured durations by CPU; when set they replace the Amdahl form (`bound` and `threads`
    /// are not used).
    pub measured: Option<MeasuredCurve>,
}

impl CpuModel {
    /// One sentence for output.
    pub fn describe(&self) -> String {
        let reference = match &self.reference {
            CpuReference::Vcpu(v) => format!("measured at {v:.3} vCPU"),
            CpuReference::RowMemory(_) => {
                "measured at each row's memory_mb on the simulated platform".to_string()
            }
        };
        if let Some(m) = &self.measured {
            let sizes: Vec<String> = m.sizes_mb.iter().map(u32::to_string).collect();
            return format!(
                "durations of every function follow the Power Tuning measurements in {} ({} MB \
                 on Lambda), interpolated linearly in 1/vCPU{}, {reference}",
                m.source,
                sizes.join(", "),
                if m.extrapolate {
                    "; beyond them the nearest measured duration is held"
                } else {
                    ""
                }
            );
        }
        format!(
            "durations scale with CPU: {:.0} % CPU-bound on up to {} thread{}, {reference}",
            self.bound * 100.0,
            self.threads,
            if self.threads == 1.0 { "" } else { "s" }
        )
    }

    /// The reference CPU of a row of `row_mb` (0: none), vCPUs; `None` when unknown.
    pub fn reference_vcpu(&self, row_mb: u16) -> Option<f64> {
        match &self.reference {
            CpuReference::Vcpu(v) => Some(*v),
            CpuReference::RowMemory(_) if row_mb == 0 => None,
            CpuReference::RowMemory(rule) => Some(rule.vcpu(row_mb)),
        }
    }

    /// The factor a duration measured for a row of `row_mb` (0: none) is multiplied by when it
    /// runs with `memory_mb` on the simulated platform. 1 when the reference is unknown.
    pub fn factor(&self, memory_mb: u16, row_mb: u16) -> f64 {
        let c_ref = match &self.reference {
            CpuReference::Vcpu(v) => *v,
            CpuReference::RowMemory(_) if row_mb == 0 => return 1.0,
            CpuReference::RowMemory(rule) => rule.vcpu(row_mb),
        };
        let c = self.platform.vcpu(memory_mb);
        if c <= 0.0 || c_ref <= 0.0 {
            return 1.0;
        }
        if let Some(m) = &self.measured {
            let d_ref = m.at(c_ref);
            return if d_ref > 0.0 { m.at(c) / d_ref } else { 1.0 };
        }
        self.bound * c_ref.min(self.threads) / c.min(self.threads) + (1.0 - self.bound)
    }

    /// The duration, microseconds, of a traced one of `us`.
    #[inline]
    pub fn scale(&self, us: u64, memory_mb: u16, row_mb: u16) -> u64 {
        let f = self.factor(memory_mb, row_mb);
        if f == 1.0 {
            us
        } else {
            (us as f64 * f).round().min(u64::MAX as f64 / 2.0) as u64
        }
    }
}

/// What the instances' CPUs did in a run: CPU utilisation of the instances while they served.
/// Needs a CPU profile (`--cpu-bound`, or a measured curve of two sizes or more): without one
/// nothing says which part of a duration used the CPU.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CpuUse {
    /// vCPUs of an instance (weighted by execution time when several memory sizes ran).
    pub vcpu_per_instance: f64,
    /// vCPU-seconds the executions used: each one's CPU-bound part times the vCPUs it ran on
    /// (`min(vCPU, threads)`), i.e. `d_ref × bound × min(c_ref, threads)`, whatever the size.
    pub busy_vcpu_s: f64,
    /// Instance-seconds with at least one request executing (on-demand and provisioned busy).
    pub loaded_instance_s: f64,
    /// `busy_vcpu_s / (loaded_instance_s × vcpu_per_instance)`: 1 is every vCPU busy all the
    /// time an instance serves. At most 1 (up to rounding): requests that share an instance
    /// share its vCPUs (processor sharing) and are stretched rather than served beyond them.
    pub utilisation: f64,
}

impl CpuModel {
    /// The CPU use of executions summing `exec_s` seconds per memory size they ran at, on
    /// instances busy `loaded_s` seconds. `row_mb`: where every row was measured when the rows
    /// run at another size (an explicit memory with row references), `None` otherwise.
    /// `None` without a profile that says which part used the CPU, or with no execution.
    pub fn usage(
        &self,
        exec_s: &[(u16, f64)],
        loaded_s: f64,
        row_mb: Option<u16>,
    ) -> Option<CpuUse> {
        let mut busy = 0.0;
        for &(mb, s) in exec_s {
            let c = self.platform.vcpu(mb);
            if let Some(m) = &self.measured {
                // The share of a duration that used all c vCPUs, from the curve.
                busy += s * m.cpu_share(c)? * c;
            } else {
                // The reference of these rows: their own size, unless they ran at another one.
                let c_ref = self.reference_vcpu(row_mb.unwrap_or(mb))?;
                let f = self.factor(mb, row_mb.unwrap_or(mb));
                // A duration d = d_ref × f, of which d_ref × bound ran on min(c_ref, threads)
                // vCPUs' worth of work.
                busy += s / f * self.bound * c_ref.min(self.threads);
            }
        }
        self.usage_of_work(exec_s, loaded_s, busy)
    }

    /// The CPU use of executions summing `exec_s` seconds per memory size, on instances busy
    /// `loaded_s` seconds, that did `busy_vcpu_s` of CPU work (as the engine recorded it when
    /// requests shared an instance's vCPUs). `None` with no execution.
    pub fn usage_of_work(
        &self,
        exec_s: &[(u16, f64)],
        loaded_s: f64,
        busy_vcpu_s: f64,
    ) -> Option<CpuUse> {
        let (mut vcpu_s, mut total) = (0.0, 0.0);
        for &(mb, s) in exec_s {
            vcpu_s += s * self.platform.vcpu(mb);
            total += s;
        }
        if total <= 0.0 || loaded_s <= 0.0 {
            return None;
        }
        let vcpu = vcpu_s / total;
        Some(CpuUse {
            vcpu_per_instance: vcpu,
            busy_vcpu_s,
            loaded_instance_s: loaded_s,
            utilisation: busy_vcpu_s / (loaded_s * vcpu),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lambda() -> VcpuRule {
        VcpuRule::PerMemory {
            mb_per_vcpu: 1769.0,
            max_vcpu: 6.0,
            speed: 1.0,
        }
    }

    #[test]
    fn amdahl_by_hand() {
        let m = CpuModel {
            bound: 1.0,
            threads: 1.0,
            platform: lambda(),
            reference: CpuReference::Vcpu(1.0),
            measured: None,
        };
        // Fully CPU-bound, measured at 1 vCPU: 4x longer at a quarter of 1,769 MB, no faster above.
        assert!((m.factor(442, 0) - 1769.0 / 442.0).abs() < 1e-12);
        assert_eq!(m.factor(1769, 0), 1.0);
        assert_eq!(m.factor(3538, 0), 1.0);
        // Half CPU-bound, two threads, measured at the row's 512 MB on Lambda, run at 3,538 MB
        // (2 vCPU): 0.5 × (512/1769) / 2 + 0.5.
        let m = CpuModel {
            bound: 0.5,
            threads: 2.0,
            platform: lambda(),
            reference: CpuReference::RowMemory(lambda()),
            measured: None,
        };
        let want = 0.5 * (512.0 / 1769.0) / 2.0 + 0.5;
        assert!((m.factor(3538, 512) - want).abs() < 1e-12);
        // No reference for a row without memory: as traced.
        assert_eq!(m.factor(3538, 0), 1.0);
        // Sizes: the smallest size holding the memory, else the largest.
        let sizes = VcpuRule::Sizes {
            sizes: vec![(512, 0.25), (2048, 1.0)],
            speed: 1.0,
        };
        assert_eq!(sizes.vcpu(100), 0.25);
        assert_eq!(sizes.vcpu(600), 1.0);
        assert_eq!(sizes.vcpu(9000), 1.0);
    }

    #[test]
    fn cpu_use_by_hand() {
        // Fully CPU-bound, one thread, measured at 1 vCPU. At 442 MB (442/1769 vCPU) a 100 ms
        // request runs 100 × 1769/442 ms: 100 ms of one vCPU's work, all of the instance busy.
        let m = CpuModel {
            bound: 1.0,
            threads: 1.0,
            platform: lambda(),
            reference: CpuReference::Vcpu(1.0),
            measured: None,
        };
        let c = 442.0 / 1769.0;
        let d = 0.1 / c;
        let u = m.usage(&[(442, d)], d, None).unwrap();
        assert!((u.busy_vcpu_s - 0.1).abs() < 1e-12);
        assert!((u.utilisation - 1.0).abs() < 1e-12, "{u:?}");
        assert!((u.vcpu_per_instance - c).abs() < 1e-12);
        // At 3,538 MB (2 vCPU) it runs 100 ms on one of two vCPUs: half.
        let u = m.usage(&[(3538, 0.1)], 0.1, None).unwrap();
        assert!((u.utilisation - 0.5).abs() < 1e-12, "{u:?}");
        // Half CPU-bound, measured at each row's 1,769 MB, run there: 0.5 of the time on 1 vCPU.
        let half = CpuModel {
            bound: 0.5,
            reference: CpuReference::RowMemory(lambda()),
            ..m.clone()
        };
        let u = half.usage(&[(1769, 2.0)], 2.0, None).unwrap();
        assert!((u.utilisation - 0.5).abs() < 1e-12, "{u:?}");
        // Two requests at once on one 1-vCPU instance for 1 s: 2 vCPU-s on 1 vCPU-s of instance.
        let u = m.usage(&[(1769, 2.0)], 1.0, None).unwrap();
        assert!((u.utilisation - 2.0).abs() < 1e-12, "{u:?}");
    }

    #[test]
    fn a_measured_curve_is_linear_in_one_over_vcpu_and_relative_to_the_reference() {
        let v = |mb: f64| mb / 1769.0;
        // An Amdahl function, 20 ms + 1000 ms at 1 vCPU, measured at 256, 1024 and 3008 MB.
        let d = |mb: f64| 20.0 + 1000.0 / v(mb).min(1.0);
        let curve = MeasuredCurve {
            source: "pt.json".into(),
            points: [256.0, 1024.0, 3008.0].map(|mb| (v(mb), d(mb))).to_vec(),
            sizes_mb: vec![256, 1024, 3008],
            extrapolate: false,
        };
        // Between 256 and 1024 MB (both below one vCPU) the interpolation is exact.
        assert!((curve.at(v(512.0)) - d(512.0)).abs() < 1e-9);
        // Between 1024 and 3008 MB it is linear in 1/c, not the kink at 1,769 MB.
        let t = (1769.0 / 2048.0 - 1769.0 / 1024.0) / (1769.0 / 3008.0 - 1769.0 / 1024.0);
        let want = d(1024.0) + t * (d(3008.0) - d(1024.0));
        assert!((curve.at(v(2048.0)) - want).abs() < 1e-9);
        assert!(
            curve
                .out_of_range(v(128.0))
                .unwrap()
                .contains("256 to 3008 MB")
        );
        assert!(curve.out_of_range(v(256.0)).is_none());
        assert!(curve.out_of_range(v(4096.0)).is_some());
        // Held beyond the ends when allowed.
        assert_eq!(curve.at(v(128.0)), d(256.0));
        // A trace measured at 1024 MB, run at 256 MB: the measured ratio.
        let m = CpuModel {
            bound: 1.0,
            threads: 1.0,
            platform: lambda(),
            reference: CpuReference::RowMemory(lambda()),
            measured: Some(curve),
        };
        assert!((m.factor(256, 1024) - d(256.0) / d(1024.0)).abs() < 1e-12);
        assert!(
            m.describe()
                .contains("pt.json (256, 1024, 3008 MB on Lambda)")
        );
        // The CPU share the curve implies: 1000 / c of 20 + 1000 / c below one vCPU, all of it
        // on the c vCPUs (utilisation = share).
        let c = v(512.0);
        let share = 1000.0 / c / d(512.0);
        let u = m.usage(&[(512, 1.0)], 1.0, None).unwrap();
        assert!((u.utilisation - share).abs() < 1e-9, "{u:?}");
        assert!((u.busy_vcpu_s - share * c).abs() < 1e-9, "{u:?}");
    }
}
