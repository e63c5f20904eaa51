//! Keep-alive and pre-warming policies: when an idle on-demand instance is unloaded, and whether
//! and when an unloaded application is loaded again ahead of its next predicted invocation.
//!
//! A [`KeepAlivePolicy`] is the configured rule, shared by the run; [`KeepAlivePolicy::app`] makes
//! one [`AppKeepAlive`] per application, a model with its own state (nexosim's habit: `&mut self`
//! on every input). The engine tells it each idle period as it ends ([`AppKeepAlive::observe`]) and
//! asks it, each time an instance goes idle, for the two windows of "Serverless in the Wild"
//! (Shahrad et al., USENIX ATC 2020): a pre-warm window (unload now, load again that much later)
//! and a keep-alive window (how long the instance stays loaded). Since a learning policy's windows
//! change, expiries do not come in the order instances went idle; the pool keeps a heap of them.
//!
//! The state is per application (a function is its own application unless the trace says
//! otherwise): its idle periods are those of the whole application, and a pre-warm decision loads
//! one instance of each of its functions already invoked ([`AppState`], [`Signal`]; see the
//! README).

mod hybrid;
mod observed;

use std::fmt;
use std::sync::Arc;

pub use hybrid::{HybridHistogram, HybridParams};
pub use observed::{LambdaObserved, ObservedLifetime};

use crate::error::ConfigError;
use crate::time::{MINUTE, Micros, SECOND, parse_duration};

/// What a policy decides when an instance goes idle, microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Windows {
    /// 0: keep the instance loaded now. Otherwise unload it now and pre-warm one instance this
    /// long after (it pays its init, then waits for `keep_alive`).
    pub prewarm: Micros,
    /// How long the instance stays loaded: from now, or from a pre-warmed instance's readiness.
    pub keep_alive: Micros,
}

/// Which rule made a decision; counted per function in `FunctionStats::keep_alive_decisions`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// A fixed window (`fixed`, `none`).
    Fixed = 0,
    /// The hybrid policy's histogram (head and tail percentiles).
    Histogram = 1,
    /// The hybrid policy's standard keep-alive of the whole range (histogram not representative).
    Fallback = 2,
    /// The hybrid policy's forecaster (idle times mostly out of range).
    Forecast = 3,
    /// A lifetime drawn from a measured distribution.
    Observed = 4,
}

/// The decision modes' names in output, indexed by `Mode as usize`.
pub const MODE_NAMES: [&str; 5] = [
    "fixed",
    "histogram",
    "fallback_standard_keep_alive",
    "forecast_mean_of_last_5_idle_times",
    "observed_lifetime",
];

/// A learning application policy: sees idle periods, decides windows.
pub trait Learner: Send + fmt::Debug {
    /// The application was idle (no request in flight) for `idle` before a request arrived.
    fn observe(&mut self, idle: Micros);
    /// An instance goes idle now: the windows, and which rule chose them.
    fn decide(&mut self) -> (Windows, Mode);
}

/// One application's policy state. A fixed window needs none and stays off the learners' path.
#[derive(Debug)]
pub enum AppKeepAlive {
    Fixed(Micros),
    Learner(Box<dyn Learner>),
}

impl AppKeepAlive {
    /// True if the policy watches idle periods (the engine tracks them only then).
    #[inline]
    pub fn learns(&self) -> bool {
        matches!(self, AppKeepAlive::Learner(_))
    }

    #[inline]
    pub fn observe(&mut self, idle: Micros) {
        if let AppKeepAlive::Learner(l) = self {
            l.observe(idle);
        }
    }

    #[inline]
    pub fn decide(&mut self) -> (Windows, Mode) {
        match self {
            AppKeepAlive::Fixed(k) => (
                Windows {
                    prewarm: 0,
                    keep_alive: *k,
                },
                Mode::Fixed,
            ),
            AppKeepAlive::Learner(l) => l.decide(),
        }
    }
}

/// One application's keep-alive state, shared by its functions: the policy's state and the
/// application's idle periods (no request of any of its functions in flight). A function alone in
/// its application holds its own; the functions of a larger application are stepped together
/// (in one partition, in (time, phase, function) order) and the driver lends the application's
/// state to each in turn (`engine::driver`).
#[derive(Debug)]
pub(crate) struct AppState {
    pub ka: AppKeepAlive,
    /// Requests of the application being served or waiting for an init.
    pub in_flight: u32,
    /// Since when nothing has been in flight, if nothing is (an idle period of the application).
    pub idle_since: Option<Micros>,
    /// True when the application has more than one function: what one of them decides for the
    /// application is told to the others through `signal`.
    pub shared: bool,
    /// Set by the function that just stepped, for the application's other functions.
    pub signal: Option<Signal>,
}

/// What a function tells the other functions of its application.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Signal {
    /// Pre-warm one instance at `at` (each function already invoked), kept `keep` once ready.
    Prewarm { at: Micros, keep: Micros },
    /// A request arrived: pending pre-warms are moot.
    Cancel,
}

impl AppState {
    pub fn new(ka: AppKeepAlive) -> AppState {
        AppState {
            ka,
            in_flight: 0,
            idle_since: None,
            shared: false,
            signal: None,
        }
    }

    /// What a function holds while the driver keeps its application's state: never consulted.
    pub fn lent() -> AppState {
        AppState::new(AppKeepAlive::Fixed(0))
    }
}

pub trait KeepAlivePolicy: Send + Sync + fmt::Debug {
    /// A fresh state for one application; `seed` feeds the policies that draw at random.
    fn app(&self, seed: u64) -> AppKeepAlive;

    /// True if expiries come in the order instances went idle (a fixed window): the pool then
    /// expires from the front of its idle deque and needs no heap.
    fn monotone(&self) -> bool {
        false
    }

    /// About the longest an instance stays loaded after its last use, microseconds: how far back
    /// the instances alive at a moment can have been last used (the `cyclic` warm-up replays at
    /// least this much).
    fn longest(&self) -> Micros;

    /// A maximum instance lifetime the policy brings (`lambda-observed`), microseconds; an
    /// explicit `max_lifetime` wins.
    fn max_lifetime(&self) -> Option<Micros> {
        None
    }

    /// A short description for output.
    fn describe(&self) -> String;
}

/// The same keep-alive for every idle period (Lambda: about 10 minutes, measured; see
/// `pricing/README.md`, behaviour sources).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FixedKeepAlive(pub Micros);

impl KeepAlivePolicy for FixedKeepAlive {
    fn app(&self, _seed: u64) -> AppKeepAlive {
        AppKeepAlive::Fixed(self.0)
    }

    fn monotone(&self) -> bool {
        true
    }

    fn longest(&self) -> Micros {
        self.0
    }

    fn describe(&self) -> String {
        format!("fixed {} s", self.0 as f64 / 1e6)
    }
}

/// "No unloading" (SitW's upper bound on warm starts): an idle instance stays loaded to the end
/// of the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoUnloading;

/// What `none` reports as its longest keep-alive (the cyclic warm-up then replays the whole
/// trace, as it is capped at the trace's length): a year.
const NONE_REACH: Micros = 365 * 24 * 3600 * SECOND;

impl KeepAlivePolicy for NoUnloading {
    fn app(&self, _seed: u64) -> AppKeepAlive {
        AppKeepAlive::Fixed(Micros::MAX)
    }

    fn monotone(&self) -> bool {
        true
    }

    fn longest(&self) -> Micros {
        NONE_REACH
    }

    fn describe(&self) -> String {
        "none (no unloading)".to_string()
    }
}

/// A policy as `--keep-alive-policy` names it: parsed once, ordered (a sweep axis sorts it),
/// turned into a [`KeepAlivePolicy`] by [`KeepAliveSpec::policy`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum KeepAliveSpec {
    /// `fixed:DURATION` (`--keep-alive DURATION` is the shorthand).
    Fixed(Micros),
    /// `none`.
    None,
    /// `hybrid[:RANGE[:HEAD:TAIL]]`.
    Hybrid(HybridParams),
    /// `lambda-observed`.
    LambdaObserved,
}

/// The policy names, for `--help` and errors (the one list).
pub const POLICY_FORMS: &str = "fixed:DURATION, none, hybrid[:RANGE[:HEAD:TAIL]], lambda-observed";

impl KeepAliveSpec {
    /// Parses `fixed:10m`, `none`, `hybrid`, `hybrid:2h`, `hybrid:4h:5:99`, `lambda-observed`.
    /// Errors name the field `keep_alive_policy`.
    pub fn parse(s: &str) -> Result<KeepAliveSpec, ConfigError> {
        let err = |why: String| ConfigError::field("keep_alive_policy", format!("{s:?}: {why}"));
        let s = s.trim();
        let (name, rest) = match s.split_once(':') {
            Some((n, r)) => (n, Some(r)),
            None => (s, None),
        };
        match (name, rest) {
            ("fixed", Some(d)) => match parse_duration(d) {
                Some(k) => Ok(KeepAliveSpec::Fixed(k)),
                None => Err(err("fixed needs a duration such as fixed:10m".into())),
            },
            ("none", None) => Ok(KeepAliveSpec::None),
            ("lambda-observed", None) => Ok(KeepAliveSpec::LambdaObserved),
            ("hybrid", rest) => HybridParams::parse(rest)
                .map(KeepAliveSpec::Hybrid)
                .map_err(err),
            _ => Err(err(format!(
                "unknown policy; expected one of {POLICY_FORMS}"
            ))),
        }
    }

    /// The spec as it parses back (`fixed:600s`, `hybrid:4h:5:99`).
    pub fn spec(&self) -> String {
        match self {
            KeepAliveSpec::Fixed(k) => format!("fixed:{}s", *k as f64 / 1e6),
            KeepAliveSpec::None => "none".to_string(),
            KeepAliveSpec::Hybrid(p) => p.spec(),
            KeepAliveSpec::LambdaObserved => "lambda-observed".to_string(),
        }
    }

    /// The policy this spec names.
    pub fn policy(&self) -> Arc<dyn KeepAlivePolicy> {
        match *self {
            KeepAliveSpec::Fixed(k) => Arc::new(FixedKeepAlive(k)),
            KeepAliveSpec::None => Arc::new(NoUnloading),
            KeepAliveSpec::Hybrid(p) => Arc::new(HybridHistogram(p)),
            KeepAliveSpec::LambdaObserved => Arc::new(LambdaObserved::shipped()),
        }
    }
}

impl fmt::Display for KeepAliveSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.spec())
    }
}

/// Minutes as a spec duration: `90m` → `90m`, `2h` → `2h`.
fn spec_duration(us: Micros) -> String {
    if us.is_multiple_of(60 * MINUTE) {
        format!("{}h", us / (60 * MINUTE))
    } else if us.is_multiple_of(MINUTE) {
        format!("{}m", us / MINUTE)
    } else {
        format!("{}s", us as f64 / 1e6)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse_and_print_back() {
        for s in [
            "fixed:600s",
            "none",
            "hybrid:4h:5:99",
            "hybrid:1h:5:99",
            "lambda-observed",
        ] {
            assert_eq!(KeepAliveSpec::parse(s).unwrap().spec(), s);
        }
        assert_eq!(
            KeepAliveSpec::parse("hybrid").unwrap(),
            KeepAliveSpec::parse("hybrid:4h:5:99").unwrap()
        );
        assert_eq!(
            KeepAliveSpec::parse("fixed:10m").unwrap(),
            KeepAliveSpec::Fixed(600 * SECOND)
        );
    }

    #[test]
    fn bad_specs_name_the_field_and_the_value() {
        for s in [
            "lru",
            "fixed",
            "fixed:soon",
            "hybrid:0",
            "hybrid:0m",
            "hybrid:4h:5:101",
            "hybrid:4h:-1:99",
            "hybrid:4h:99:5",
            "none:1",
        ] {
            let e = KeepAliveSpec::parse(s).unwrap_err();
            assert_eq!(e.field_name(), Some("keep_alive_policy"), "{s}");
            assert!(e.to_string().contains(&format!("{s:?}")), "{e}");
        }
    }

    #[test]
    fn fixed_and_none_decide_without_state() {
        let mut a = FixedKeepAlive(5 * SECOND).app(0);
        assert!(!a.learns());
        a.observe(SECOND);
        assert_eq!(
            a.decide(),
            (
                Windows {
                    prewarm: 0,
                    keep_alive: 5 * SECOND
                },
                Mode::Fixed
            )
        );
        assert_eq!(NoUnloading.app(0).decide().0.keep_alive, Micros::MAX);
    }
}
