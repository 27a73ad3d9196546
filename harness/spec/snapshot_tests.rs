//! Snapshots (insta) of what a person sees for each kind of suite mistake:
//! the whole rendered message, layout included. The `.snap` files are
//! committed under `harness/spec/snapshots/`; a changed message fails until
//! it is reviewed (`INSTA_UPDATE=always cargo test --lib spec::` rewrites them,
//! then `git diff` shows the change).
use super::*;

const KINDS: &str = "[kind.rust]\ncommand = [\"bin/node\", \"{id}\", \"{port}\", \"{peers}\"]\n";
const NODE: &str = "[[node]]\nid = 1\nkind = \"rust\"\n";

/// The rendered errors of a suite `body` (after an include of the kinds), the
/// temp folder's path replaced by `<dir>`.
fn rendered(body: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("kinds.toml"), KINDS).unwrap();
    let p = dir.path().join("s.toml");
    std::fs::write(&p, format!("include = [\"kinds.toml\"]\n{body}")).unwrap();
    match load(&p) {
        Ok(_) => panic!("expected errors for:\n{body}"),
        Err(e) => e
            .to_string()
            .replace(&dir.path().display().to_string(), "<dir>"),
    }
}

#[test]
fn snapshot_unknown_key_with_suggestion() {
    insta::assert_snapshot!(rendered(&format!("{NODE}[cluster]\nheartbeat = 50\n")));
}

#[test]
fn snapshot_bad_election_timeout_alone() {
    insta::assert_snapshot!(rendered(&format!(
        "{NODE}[cluster]\nelection_timeout_ms = \"soon\"\nheartbeat_ms = 100\n"
    )));
}

#[test]
fn snapshot_integer_beyond_64_bits() {
    insta::assert_snapshot!(rendered(
        "[[node]]\nid = -99999999999999999999\nkind = \"rust\"\n"
    ));
}

#[test]
fn snapshot_huge_float() {
    insta::assert_snapshot!(rendered(&format!(
        "{NODE}[workload]\ntype = \"register\"\nrate = 1e300\n"
    )));
}

#[test]
fn snapshot_unknown_kind_and_wrong_type() {
    insta::assert_snapshot!(rendered(
        "[[node]]\nid = \"one\"\nkind = \"rsut\"\n[[step]]\nwait = \"leader\"\ntimeout_s = \"long\"\n"
    ));
}

#[test]
fn snapshot_nested_repeat_over_the_bound() {
    insta::assert_snapshot!(rendered(&format!(
        "{NODE}[[step]]\nrepeat = 10000\nsteps = [{{ repeat = 11, steps = [{{ sleep_s = 0 }}] }}]\n"
    )));
}

#[test]
fn snapshot_a_long_line_is_windowed_with_tabs_and_wide_text() {
    let long = format!("\"{}\"", "漢字".repeat(100));
    insta::assert_snapshot!(rendered(&format!("{NODE}[cluster]\n\thost\t= {long}\n")));
}

#[test]
fn snapshot_bad_explore_table() {
    insta::assert_snapshot!(rendered(&format!(
        "{NODE}[explore]\nfaults = [\"kil\", \"lag\"]\nfaults_per_trial = [3, 1]\nhold_s = \"long\"\n"
    )));
}
