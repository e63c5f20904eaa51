//! A scenario file: a study a team can save and rerun (`--scenario FILE`, or `faasplan.toml` in
//! the working directory). It holds the trace and the flags of `simulate`, `sweep`, `compare`
//! and `breakeven` by their long names, shared or per command:
//!
//! ```toml
//! version = 1
//! trace = "api-steady.csv"                 # relative to this file
//! offering = ["aws-lambda-arm64"]
//! memory-mb = 1024
//! provisioned-schedule = "08:00-20:00=20,else=0"
//!
//! [compare]
//! fleet = ["m7g.large:slots=8,count=2"]
//! ```
//!
//! The file becomes command-line flags placed before the user's, and a flag given on the command
//! line wins over the file's (the file's is then left out). So a scenario means exactly what its
//! flags mean, and clap checks every value. Errors name the file, line and column of the key.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::{ArgAction, CommandFactory};

use super::Cli;

/// The commands that take a scenario.
pub const COMMANDS: [&str; 4] = ["simulate", "sweep", "compare", "breakeven"];

/// The file read when no `--scenario` is given, if it is in the working directory.
pub const DEFAULT_FILE: &str = "faasplan.toml";

/// Settings whose values are files: relative paths in a scenario are relative to the scenario's
/// folder, so it runs from anywhere.
const PATH_KEYS: [&str; 9] = [
    "durations",
    "memory",
    "next-day",
    "power-tuning",
    "servers",
    "per-minute",
    "out",
    "report",
    "offering",
];

/// Where the flags of a run came from, to point a bad value back at its line.
#[derive(Debug, Default)]
pub struct Origin {
    file: Option<PathBuf>,
    /// (long flag, line, column) of each setting the file added.
    keys: Vec<(String, usize, usize)>,
}

impl Origin {
    /// "FILE:LINE:COLUMN: `KEY` comes from this scenario" for a command-line error about a flag
    /// the scenario set.
    pub fn locate(&self, err: &clap::Error) -> Option<String> {
        let file = self.file.as_ref()?;
        let arg = match err.get(clap::error::ContextKind::InvalidArg)? {
            clap::error::ContextValue::String(s) => s.clone(),
            clap::error::ContextValue::Strings(v) => v.first()?.clone(),
            _ => return None,
        };
        let long = arg.trim_start_matches("--");
        let long = long.split([' ', '=', '<']).next().unwrap_or(long);
        let (_, line, column) = self.keys.iter().find(|(k, _, _)| k == long)?;
        Some(format!(
            "note: {}:{line}:{column}: `{long}` comes from this scenario",
            file.display()
        ))
    }
}

/// One setting of the file: a long flag and its values (one per occurrence; none for a boolean
/// flag that is on).
struct Setting {
    long: String,
    values: Vec<String>,
    /// A boolean set to false: nothing is added.
    off: bool,
    line: usize,
    column: usize,
}

/// `args` (the process's) with the scenario's settings added, and where they came from. Commands
/// other than [`COMMANDS`] are left alone (and refuse `--scenario`).
pub fn expand(mut args: Vec<OsString>) -> anyhow::Result<(Vec<OsString>, Origin)> {
    let cmd = args
        .get(1)
        .and_then(|a| a.to_str())
        .unwrap_or_default()
        .to_string();
    let explicit = take_scenario_flag(&mut args)?;
    if !COMMANDS.contains(&cmd.as_str()) {
        if explicit.is_some() {
            bail!(
                "--scenario: only {} take a scenario file",
                COMMANDS.join(", ")
            );
        }
        return Ok((args, Origin::default()));
    }
    let path = match explicit {
        Some(p) => p,
        None if Path::new(DEFAULT_FILE).is_file() => {
            eprintln!(
                "note: read the scenario {DEFAULT_FILE} in the working directory (--scenario FILE names another)"
            );
            PathBuf::from(DEFAULT_FILE)
        }
        None => return Ok((args, Origin::default())),
    };
    let text = faasplan::dist::read_text(&path)
        .with_context(|| format!("--scenario: {}: cannot read", path.display()))?;
    let (trace, settings) = parse(&text, &path, &cmd)?;
    let user_flags: Vec<String> = args[2..]
        .iter()
        .filter_map(|a| a.to_str())
        .filter_map(|a| a.strip_prefix("--"))
        .map(|a| a.split('=').next().unwrap_or(a).to_string())
        .collect();
    let command = Cli::command();
    let sub = command
        .find_subcommand(&cmd)
        .context("a subcommand without a definition")?;
    let mut added = Vec::new();
    let mut origin = Origin {
        file: Some(path.clone()),
        keys: Vec::new(),
    };
    for s in settings {
        // Flags win over the file: a flag on the command line replaces the file's setting.
        if s.off || user_flags.contains(&s.long) {
            continue;
        }
        let append = sub
            .get_arguments()
            .find(|a| a.get_long() == Some(s.long.as_str()))
            .is_some_and(|a| matches!(a.get_action(), ArgAction::Append));
        if s.values.is_empty() {
            added.push(OsString::from(format!("--{}", s.long)));
        } else if append {
            for v in &s.values {
                added.push(OsString::from(format!("--{}={v}", s.long)));
            }
        } else {
            added.push(OsString::from(format!(
                "--{}={}",
                s.long,
                s.values.join(",")
            )));
        }
        origin.keys.push((s.long, s.line, s.column));
    }
    let mut out: Vec<OsString> = args[..2].to_vec();
    out.extend(added);
    out.extend(args[2..].iter().cloned());
    // The file's trace, unless the command line names one (or --rate): a parse that misses only
    // a required argument says the command line has none.
    if let Some(trace) = trace
        && let Err(e) = Cli::command().try_get_matches_from(&out)
        && e.kind() == clap::error::ErrorKind::MissingRequiredArgument
    {
        out.push(trace.into_os_string());
    }
    Ok((out, origin))
}

/// Removes `--scenario FILE` (or `--scenario=FILE`) from `args` and returns the file.
fn take_scenario_flag(args: &mut Vec<OsString>) -> anyhow::Result<Option<PathBuf>> {
    let Some(i) = args.iter().position(|a| {
        a.to_str()
            .is_some_and(|s| s == "--scenario" || s.starts_with("--scenario="))
    }) else {
        return Ok(None);
    };
    let flag = args.remove(i);
    let flag = flag.to_string_lossy();
    if let Some(v) = flag.strip_prefix("--scenario=") {
        return Ok(Some(PathBuf::from(v)));
    }
    if i >= args.len() {
        bail!("--scenario: give the scenario file, e.g. --scenario workloads/scenario-api.toml");
    }
    Ok(Some(PathBuf::from(args.remove(i))))
}

/// The long flags of the scenario commands, and which command takes each.
fn flags_of(cmd: &str) -> Vec<String> {
    let command = Cli::command();
    command
        .find_subcommand(cmd)
        .map(|s| {
            s.get_arguments()
                .filter_map(|a| a.get_long().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Parses the file: its trace (resolved against the file's folder) and the settings for `cmd`
/// (the shared ones, then `[cmd]`'s, which replace shared ones of the same name).
fn parse(text: &str, path: &Path, cmd: &str) -> anyhow::Result<(Option<PathBuf>, Vec<Setting>)> {
    use toml::de::{DeTable, DeValue};
    let at = |span: std::ops::Range<usize>, reason: String| {
        let (line, column) = faasplan::dist::line_column(text, span.start);
        anyhow::anyhow!("{}:{line}:{column}: {reason}", path.display())
    };
    let table = DeTable::parse(text).map_err(|e| {
        at(
            e.span().unwrap_or(0..0),
            format!("not a scenario (TOML): {}", e.message().trim()),
        )
    })?;
    let dir = path.parent().unwrap_or(Path::new(""));
    let relative = |v: &str| -> String {
        let p = Path::new(v);
        if v == "-" || p.is_absolute() || dir.as_os_str().is_empty() {
            v.to_string()
        } else {
            dir.join(p).display().to_string()
        }
    };
    let any_flag: Vec<(String, Vec<String>)> = COMMANDS
        .iter()
        .map(|c| (c.to_string(), flags_of(c)))
        .collect();
    let this = flags_of(cmd);
    let mut trace = None;
    let mut version = None;
    let mut shared = Vec::new();
    let mut own = Vec::new();

    // One key = value: a Setting, or an error at the key.
    let setting = |key: &toml::Spanned<toml::de::DeString>,
                   value: &toml::Spanned<DeValue>|
     -> anyhow::Result<Option<Setting>> {
        let long = key.get_ref().replace('_', "-");
        if long == "scenario" {
            return Err(at(key.span(), "a scenario cannot name another".into()));
        }
        if !any_flag.iter().any(|(_, f)| f.contains(&long)) {
            return Err(at(
                key.span(),
                format!(
                    "unknown setting `{}`: a scenario holds `version`, `trace`, the long flags of \
                     {} (without the dashes), and [simulate], [sweep], [compare] or [breakeven] \
                     tables of them",
                    key.get_ref(),
                    COMMANDS.join(", ")
                ),
            ));
        }
        if !this.contains(&long) {
            // Another command's flag (a fleet for compare, a grid for sweep): not for this one.
            return Ok(None);
        }
        let (line, column) = faasplan::dist::line_column(text, key.span().start);
        let scalar = |v: &toml::Spanned<DeValue>| -> anyhow::Result<String> {
            let s = match v.get_ref() {
                DeValue::String(s) => s.to_string(),
                DeValue::Integer(i) => i.as_str().replace('_', ""),
                DeValue::Float(f) => f.as_str().replace('_', ""),
                DeValue::Boolean(b) => b.to_string(),
                other => {
                    return Err(at(
                        v.span(),
                        format!(
                            "`{}`: expected a string, number or boolean, found {}",
                            key.get_ref(),
                            other.type_str()
                        ),
                    ));
                }
            };
            Ok(
                if PATH_KEYS.contains(&long.as_str())
                    && (long != "offering" || s.ends_with(".toml"))
                {
                    relative(&s)
                } else {
                    s
                },
            )
        };
        let (values, off) = match value.get_ref() {
            DeValue::Boolean(true) => (Vec::new(), false),
            DeValue::Boolean(false) => (Vec::new(), true),
            DeValue::Array(items) => (items.iter().map(scalar).collect::<Result<_, _>>()?, false),
            _ => (vec![scalar(value)?], false),
        };
        Ok(Some(Setting {
            long,
            values,
            off,
            line,
            column,
        }))
    };

    for (key, value) in table.get_ref() {
        match key.get_ref().as_ref() {
            "version" => {
                let ok = matches!(value.get_ref(), DeValue::Integer(i) if i.as_str() == "1");
                if !ok {
                    return Err(at(
                        value.span(),
                        "version: this faasplan reads version 1".into(),
                    ));
                }
                version = Some(1);
            }
            "trace" => match value.get_ref() {
                DeValue::String(s) => trace = Some(PathBuf::from(relative(s))),
                other => {
                    return Err(at(
                        value.span(),
                        format!("trace: expected a file name, found {}", other.type_str()),
                    ));
                }
            },
            "function" => {
                return Err(at(
                    key.span(),
                    "[function.NAME] tables are not read: give per-function settings as the \
                     flags take them, e.g. provisioned = \"api=20,webhook=0\" or memory-mb = \
                     \"'img-*'=2048\""
                        .into(),
                ));
            }
            c if COMMANDS.contains(&c) => {
                let DeValue::Table(t) = value.get_ref() else {
                    return Err(at(
                        value.span(),
                        format!("[{c}]: expected a table of {c}'s flags"),
                    ));
                };
                for (k, v) in t {
                    if let Some(s) = setting(k, v)?
                        && c == cmd
                    {
                        own.push(s);
                    }
                }
            }
            _ => {
                if let Some(s) = setting(key, value)? {
                    shared.push(s);
                }
            }
        }
    }
    if version.is_none() {
        return Err(at(0..0, "missing `version = 1`".into()));
    }
    shared.retain(|s: &Setting| !own.iter().any(|o| o.long == s.long));
    shared.extend(own);
    Ok((trace, shared))
}
