//! A kind file (only `[kind.NAME]` tables, included by suites) given where a suite is
//! expected: said as such, with how kind files are used, in the words of `run FILE`
//! (`runner::select::not_a_suite`), instead of "the suite has no nodes". `explore FILE`
//! loads its base suite here (`explore::gen::load_base`), so it says the same.
use super::tables::Top;
use super::{Errs, Src};

/// Whether `top` is a kind file's: a `[kind.*]` table and none of `[[node]]`, `[[step]]`,
/// `[workload]` (the rule of `runner::select::is_kind_file`).
pub(super) fn is_kind_file(top: &Top) -> bool {
    top.kind.is_some() && top.node.is_none() && top.step.is_none() && top.workload.is_none()
}

/// Refuses a kind file given as a suite (one error at its first line; true when refused).
pub(super) fn refuse(src: &Src, errs: &mut Errs, top: &Top) -> bool {
    if !is_kind_file(top) {
        return false;
    }
    let name = src.file.file_name().map_or_else(
        || src.file.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let folder = src
        .file
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| ".".to_string(), |p| p.display().to_string());
    errs.help(
        src,
        0..0,
        "this is a kind file (only [kind.NAME] tables: how to build and start each node \
         program), not a suite: it has no [[node]], [[step]] or [workload]",
        format!(
            "suites use it with `include = [\"{name}\"]`; give a suite that does (e.g. \
             `{folder}/failover.toml`)"
        ),
    );
    true
}
