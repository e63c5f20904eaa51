//! Where each platform setting that can decide an answer came from, for the warnings: the
//! library's [`faasplan::plan::origins`] over the parsed flags.

use super::PlatformArgs;
use faasplan::offering::Offering;
use faasplan::warnings::Origins;

pub fn origins(a: &PlatformArgs, offering: Option<&Offering>) -> Origins {
    // The list-capable flags only count as given; their values do not matter here.
    match a.overrides_with(None, None, None) {
        Ok(mut o) => {
            o.memory_mb = a.memory_mb.as_ref().map(|_| 0);
            faasplan::plan::origins(&o, offering)
        }
        Err(_) => Origins::default(),
    }
}
