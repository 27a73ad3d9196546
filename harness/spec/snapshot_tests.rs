//! Snapshots (insta) of what a person sees for each kind of suite mistake:
//! the whole rendered message, layout included. The `.snap` files are
//! committed under `harness/spec/snapshots/`; a changed message fails until
//! it is reviewed (`INSTA_UPDATE=always cargo test --lib spec::` rewrites them,
//! then `git diff` shows the change).
use super::tests::{load_including, ONE_KIND};

const NODE: &str = "[[node]]\nid = 1\nkind = \"rust\"\n";

/// The rendered errors of a suite `body` (after an include of the kinds), the
/// temp folder's path replaced by `<dir>`.
fn rendered(body: &str) -> String {
    let (dir, spec) = load_including(ONE_KIND, body);
    match spec {
        Ok(_) => panic!("expected errors for:\n{body}"),
        Err(e) => e
            .to_string()
            .replace(&dir.path().display().to_string(), "<dir>"),
    }
}

/// One snapshot per kind of mistake, each in `snapshots/` under its own name (the
/// suite body is the snapshot's description).
#[test]
fn every_kind_of_mistake_renders_as_its_snapshot() {
    let long = format!("\"{}\"", "漢字".repeat(100));
    let cases = [
        (
            "snapshot_unknown_key_with_suggestion",
            format!("{NODE}[cluster]\nheartbeat = 50\n"),
        ),
        (
            "snapshot_bad_election_timeout_alone",
            format!("{NODE}[cluster]\nelection_timeout_ms = \"soon\"\nheartbeat_ms = 100\n"),
        ),
        (
            "snapshot_integer_beyond_64_bits",
            "[[node]]\nid = -99999999999999999999\nkind = \"rust\"\n".to_string(),
        ),
        (
            "snapshot_huge_float",
            format!("{NODE}[workload]\ntype = \"register\"\nrate = 1e300\n"),
        ),
        (
            "snapshot_unknown_kind_and_wrong_type",
            "[[node]]\nid = \"one\"\nkind = \"rsut\"\n[[step]]\nwait = \"leader\"\ntimeout_s = \"long\"\n"
                .to_string(),
        ),
        (
            "snapshot_nested_repeat_over_the_bound",
            format!("{NODE}[[step]]\nrepeat = 10000\nsteps = [{{ repeat = 11, steps = [{{ sleep_s = 0 }}] }}]\n"),
        ),
        (
            "snapshot_a_long_line_is_windowed_with_tabs_and_wide_text",
            format!("{NODE}[cluster]\n\thost\t= {long}\n"),
        ),
        (
            "snapshot_bad_explore_table",
            format!("{NODE}[explore]\nfaults = [\"kil\", \"lag\"]\nfaults_per_trial = [3, 1]\nhold_s = \"long\"\n"),
        ),
        (
            "snapshot_isolate_of_a_label_of_every_node",
            format!("[cluster]\nnetwork = \"rpc\"\n{NODE}[[node]]\nid = 2\nkind = \"rust\"\n[[step]]\nmsg = \"delay\"\ndelay_ms = 5\nlabel = \"slow\"\n[[step]]\nnet = \"isolate\"\ntarget = \"@slow\"\n"),
        ),
        (
            "snapshot_hold_s_without_a_composed_fault_and_huge",
            format!("{NODE}[explore]\nhold_s = [1.0, 1e300]\n"),
        ),
        (
            "snapshot_kind_file_given_as_a_suite",
            "[kind.other]\ncommand = [\"bin/other\", \"{id}\"]\n".to_string(),
        ),
        (
            "snapshot_required_checks_the_schedule_cannot_judge",
            format!("{NODE}[[step]]\nsleep_s = 1\n[checks]\nrequired = [\"liveness\", \"restarts\", \"isolated_commits\"]\n"),
        ),
        (
            "snapshot_leader_wait_of_a_kind_no_node_has",
            format!("{NODE}[[step]]\nwait = \"leader\"\nkind = \"rsut\"\n"),
        ),
        (
            "snapshot_msg_step_with_no_link_and_new_leader_without_a_fault",
            format!("[cluster]\nnetwork = \"rpc\"\n{NODE}[[node]]\nid = 2\nkind = \"rust\"\n[[step]]\nmsg = \"drop-request\"\nfrom = 1\nto = 1\n[[step]]\nwait = \"new-leader\"\n"),
        ),
        (
            "snapshot_previous_target_with_no_earlier_fault",
            format!("{NODE}[[step]]\nfault = \"restart\"\ntarget = \"previous\"\n"),
        ),
        (
            "snapshot_peer_addrs_through_rpc_links",
            "[kind.old]\ncommand = [\"bin/old\", \"{peer_addrs}\"]\n[cluster]\nnetwork = \"rpc\"\n[[node]]\nid = 1\nkind = \"old\"\n".to_string(),
        ),
    ];
    for (name, body) in cases {
        insta::with_settings!({ description => body.as_str(), omit_expression => true }, {
            insta::assert_snapshot!(name, rendered(&body));
        });
    }
}
