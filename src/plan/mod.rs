//! Planning over the engine: the platform a caller describes (an offering's behaviour with typed
//! overrides) turned into the [`crate::engine::PlatformConfig`] the engine runs. The binary
//! parses flags into these types once; library callers build them directly.

pub mod breakeven;
pub mod compare;
pub mod fleet;
pub mod platform;

pub use platform::{
    CpuOverride, CpuRef, PlatformOverrides, PolicyChoice, origins, platform_config,
};
