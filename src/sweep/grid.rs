//! The sweep's grid: the cross product of the swept settings (provisioned × memory ×
//! keep-alive × keep-alive policy), each point a typed change to a [`PlatformOverrides`]. Values are parsed once by
//! the caller; nothing here reads text.

use crate::error::ConfigError;
use crate::plan::{PlatformOverrides, PolicyChoice};
use crate::time::Micros;

/// The most points a grid may have.
pub const MAX_POINTS: usize = 100_000;

/// One grid point: the swept settings it sets (`None`: not swept, the caller's own value).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GridPoint {
    pub provisioned: Option<u32>,
    pub memory_mb: Option<u16>,
    /// Microseconds.
    pub keep_alive: Option<Micros>,
    /// A keep-alive policy (not a number: output names it apart from `settings`).
    pub keep_alive_policy: Option<PolicyChoice>,
}

impl GridPoint {
    /// The swept settings as (name, value), for tables and exports: `provisioned`, `memory_mb`
    /// and `keep_alive_s` (seconds).
    pub fn settings(&self) -> Vec<(String, f64)> {
        let mut s = Vec::new();
        if let Some(p) = self.provisioned {
            s.push(("provisioned".to_string(), f64::from(p)));
        }
        if let Some(m) = self.memory_mb {
            s.push(("memory_mb".to_string(), f64::from(m)));
        }
        if let Some(k) = self.keep_alive {
            s.push(("keep_alive_s".to_string(), k as f64 / 1e6));
        }
        s
    }

    /// `base` with this point's settings.
    pub fn apply(&self, base: &PlatformOverrides) -> PlatformOverrides {
        let mut o = base.clone();
        if self.provisioned.is_some() {
            o.provisioned = self.provisioned;
        }
        if self.memory_mb.is_some() {
            o.memory_mb = self.memory_mb;
        }
        if self.keep_alive.is_some() {
            o.keep_alive = self.keep_alive;
        }
        if self.keep_alive_policy.is_some() {
            o.keep_alive_policy = self.keep_alive_policy;
        }
        o
    }
}

/// The grid over the given axes, provisioned outermost and the keep-alive policy innermost; an
/// axis that is `None` is not swept. Each numeric axis is sorted without repeats; the policies
/// keep the order given (repeats dropped), so a report lists them as the user did.
pub fn grid(
    provisioned: Option<&[u32]>,
    memory_mb: Option<&[u32]>,
    keep_alive: Option<&[Micros]>,
    keep_alive_policy: Option<&[PolicyChoice]>,
) -> Result<Vec<GridPoint>, ConfigError> {
    fn axis<T: Copy + Ord>(
        field: &'static str,
        values: Option<&[T]>,
    ) -> Result<Vec<Option<T>>, ConfigError> {
        match values {
            None => Ok(vec![None]),
            Some([]) => Err(ConfigError::field(field, "no values")),
            Some(v) => {
                let mut v = v.to_vec();
                v.sort_unstable();
                v.dedup();
                Ok(v.into_iter().map(Some).collect())
            }
        }
    }
    let provisioned = axis("provisioned", provisioned)?;
    let memory: Vec<Option<u16>> = axis("memory_mb", memory_mb)?
        .into_iter()
        .map(|m| match m {
            None => Ok(None),
            Some(m) => u16::try_from(m)
                .ok()
                .filter(|&m| m > 0)
                .map(Some)
                .ok_or_else(|| ConfigError::field("memory_mb", format!("{m}: must be 1..=65535"))),
        })
        .collect::<Result<_, _>>()?;
    let keep_alive = axis("keep_alive", keep_alive)?;
    let policies: Vec<Option<PolicyChoice>> = match keep_alive_policy {
        None => vec![None],
        Some([]) => return Err(ConfigError::field("keep_alive_policy", "no values")),
        Some(v) => {
            let mut seen = Vec::new();
            for &p in v {
                if !seen.contains(&Some(p)) {
                    seen.push(Some(p));
                }
            }
            seen
        }
    };
    let n = provisioned.len() * memory.len() * keep_alive.len() * policies.len();
    if n > MAX_POINTS {
        return Err(ConfigError::field(
            "provisioned",
            "more than 100,000 grid points",
        ));
    }
    let mut points = Vec::with_capacity(n);
    for &p in &provisioned {
        for &m in &memory {
            for &k in &keep_alive {
                for &policy in &policies {
                    points.push(GridPoint {
                        provisioned: p,
                        memory_mb: m,
                        keep_alive: k,
                        keep_alive_policy: policy,
                    });
                }
            }
        }
    }
    Ok(points)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::SECOND;

    #[test]
    fn the_grid_is_the_cross_product_in_axis_order() {
        let g = grid(
            Some(&[10, 0]),
            None,
            Some(&[600 * SECOND, 300 * SECOND]),
            None,
        )
        .unwrap();
        let got: Vec<(Option<u32>, Option<Micros>)> =
            g.iter().map(|p| (p.provisioned, p.keep_alive)).collect();
        assert_eq!(
            got,
            [
                (Some(0), Some(300 * SECOND)),
                (Some(0), Some(600 * SECOND)),
                (Some(10), Some(300 * SECOND)),
                (Some(10), Some(600 * SECOND)),
            ]
        );
        assert_eq!(
            g[1].settings(),
            [
                ("provisioned".to_string(), 0.0),
                ("keep_alive_s".to_string(), 600.0)
            ]
        );
        let o = g[3].apply(&PlatformOverrides::default());
        assert_eq!(
            (o.provisioned, o.keep_alive),
            (Some(10), Some(600 * SECOND))
        );
    }

    #[test]
    fn a_memory_size_out_of_range_names_the_field() {
        let e = grid(None, Some(&[0]), None, None).unwrap_err();
        assert_eq!(e.field_name(), Some("memory_mb"));
        assert_eq!(grid(None, None, None, None).unwrap().len(), 1);
    }

    #[test]
    fn policies_keep_their_order_and_lose_repeats() {
        let p = |s: &str| PolicyChoice::parse(s).unwrap();
        let axis = [p("none"), p("fixed:10m"), p("hybrid"), p("none")];
        let g = grid(Some(&[0, 1]), None, None, Some(&axis)).unwrap();
        let got: Vec<(Option<u32>, String)> = g
            .iter()
            .map(|x| (x.provisioned, x.keep_alive_policy.unwrap().label()))
            .collect();
        let want =
            |n: u32| ["none", "fixed:600s", "hybrid:4h:5:99"].map(|l| (Some(n), l.to_string()));
        assert_eq!(got, [want(0), want(1)].concat());
        assert_eq!(
            g[2].apply(&PlatformOverrides::default()).keep_alive_policy,
            Some(p("hybrid"))
        );
    }
}
