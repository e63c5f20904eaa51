//! The offerings shipped in `pricing/`, embedded in the binary so that `--offering NAME` works
//! from any directory. A new shipped offering is a new `pricing/NAME.toml` plus one line here; a
//! test checks that this list and the folder agree.

/// One embedded offering file.
#[derive(Debug, Clone, Copy)]
pub struct Shipped {
    pub name: &'static str,
    pub text: &'static str,
}

impl Shipped {
    /// The path shown in messages, relative to the repository root.
    pub fn display_path(&self) -> String {
        format!("pricing/{}.toml", self.name)
    }
}

macro_rules! shipped {
    ($($name:literal),* $(,)?) => {
        &[$(Shipped { name: $name, text: include_str!(concat!("../../pricing/", $name, ".toml")) }),*]
    };
}

/// Every shipped offering, in the order `faasplan offerings` lists them.
pub const ALL: &[Shipped] = shipped![
    "aws-lambda-x86",
    "aws-lambda-arm64",
    "azure-functions-consumption",
    "azure-functions-flex",
    "azure-functions-premium-ep1",
    "azure-functions-premium-ep2",
    "azure-functions-premium-ep3",
    "gcp-cloud-functions-gen1",
    "gcp-cloud-run-request",
    "gcp-cloud-run-instance",
];

pub fn find(name: &str) -> Option<Shipped> {
    ALL.iter().copied().find(|s| s.name == name)
}

pub fn names() -> Vec<&'static str> {
    ALL.iter().map(|s| s.name).collect()
}
