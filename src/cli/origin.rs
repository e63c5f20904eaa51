//! Where each platform setting that can decide an answer came from, for the warnings: the
//! library's [`faasplan::plan::origins`] over the parsed flags.

use super::PlatformArgs;
use faasplan::offering::Offering;
use faasplan::warnings::Origins;

pub fn origins(a: &PlatformArgs, offering: Option<&Offering>) -> Origins {
    // The swept (list) flags do not decide an origin; the rest were checked when the platform
    // was built, so an error here cannot happen after a run.
    a.overrides_with(None, None, None)
        .map(|o| faasplan::plan::origins(&o, offering))
        .unwrap_or_default()
}
