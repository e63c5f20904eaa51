//! The sweep's grid: the cross product of the swept settings (provisioned × memory ×
//! keep-alive), each point a typed change to a [`PlatformOverrides`]. Values are parsed once by
//! the caller; nothing here reads text.

use crate::error::ConfigError;
use crate::plan::PlatformOverrides;
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
        o
    }
}

/// The grid over the given axes, provisioned outermost and keep-alive innermost; an axis that is
/// `None` is not swept. Each axis is sorted without repeats.
pub fn grid(
    provisioned: Option<&[u32]>,
    memory_mb: Option<&[u32]>,
    keep_alive: Option<&[Micros]>,
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
    let n = provisioned.len() * memory.len() * keep_alive.len();
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
                points.push(GridPoint {
                    provisioned: p,
                    memory_mb: m,
                    keep_alive: k,
                });
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
        let g = grid(Some(&[10, 0]), None, Some(&[600 * SECOND, 300 * SECOND])).unwrap();
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
        let e = grid(None, Some(&[0]), None).unwrap_err();
        assert_eq!(e.field_name(), Some("memory_mb"));
        assert_eq!(grid(None, None, None).unwrap().len(), 1);
    }
}
