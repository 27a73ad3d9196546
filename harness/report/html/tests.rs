//! Unit tests of the payload of report.html: every derivation is checked on
//! small hand-made evidence, including inputs it must not draw.
use super::*;
use crate::check::fixtures::{fail, fault, history, info, ok, op, stale_read, status};
use crate::report::{NodeReport, Verdict};

fn node(id: u32) -> NodeReport {
    NodeReport {
        id,
        kind: "rust".into(),
        port: 29000 + id as u16,
        command: vec![],
        starts: 1,
        journal: true,
        implementation: None,
        log_printed_bytes: 0,
        log_cut_bytes: 0,
    }
}

/// The JSON payload of a rendered page, read back as a browser would.
fn payload_of(page: &str) -> serde_json::Value {
    let start = page
        .find(r#"<script type="application/json" id="data">"#)
        .unwrap();
    let rest = &page[start..];
    let body = &rest[rest.find('>').unwrap() + 1..rest.find("</script>").unwrap()];
    serde_json::from_str(body).unwrap()
}

#[test]
fn equal_answers_merge_and_a_change_or_a_gap_starts_a_new_band() {
    let s = [
        status(1, 100, "Follower", 1, None),
        status(1, 200, "Follower", 1, None),
        status(1, 300, "Candidate", 2, None),
        status(1, 400, "Leader", 2, None),
        // 10 s of silence: the Leader band must not stretch over it.
        status(1, 10_000_400, "Leader", 2, None),
    ];
    let refs: Vec<&StatusSample> = s.iter().collect();
    let spans = role_spans(&refs, 500_000, 50);
    let got: Vec<(u64, u64, Band, i32)> = spans
        .iter()
        .map(|r| (r.from, r.to, r.band, r.term))
        .collect();
    assert_eq!(
        got,
        vec![
            (100, 300, Band::Follower, 1),
            (300, 400, Band::Candidate, 2),
            (400, 450, Band::Leader, 2),
            (10_000_400, 10_000_450, Band::Leader, 2),
        ]
    );
}

#[test]
fn kills_pauses_and_exits_last_until_the_node_comes_back() {
    let faults = [
        fault(1_000, "kill", &[2], &[]),
        fault(2_000, "pause", &[3], &[]),
        fault(3_000, "restart", &[2], &[]),
        fault(4_000, "resume", &[3], &[]),
        fault(5_000, "stop", &[1], &[]),
        fault(6_000, "workload-stop", &[], &[]),
    ];
    let exits = [(3, "exit status 1".to_string(), 4_500)];
    let (down, restarts) = process_spans(&faults, &exits, 9_000);
    let of = |n: u32| -> Vec<(u64, u64, Why, bool)> {
        down[&n]
            .iter()
            .map(|s| (s.from, s.to, s.why, s.open))
            .collect()
    };
    assert_eq!(of(2), vec![(1_000, 3_000, Why::Killed, false)]);
    assert_eq!(
        of(3),
        vec![
            (2_000, 4_000, Why::Paused, false),
            (4_500, 9_000, Why::Exited, true)
        ]
    );
    assert_eq!(of(1), vec![(5_000, 9_000, Why::Stopped, true)]);
    assert_eq!(restarts[&2], vec![3_000]);
    assert!(!restarts.contains_key(&1));
}

#[test]
fn cut_off_nodes_follow_each_network_step_until_the_heal() {
    let faults = [
        fault(1_000, "net-isolate", &[1], &[1]),
        // A second step adds node 2 to the cut; node 1 stays cut.
        fault(2_000, "net-isolate", &[2], &[1, 2]),
        fault(3_000, "heal", &[], &[]),
        fault(4_000, "net-halves", &[], &[3]),
    ];
    let cut = cut_spans(&faults, 9_000);
    let of = |n: u32| -> Vec<(u64, u64, bool)> {
        cut[&n].iter().map(|s| (s.from, s.to, s.open)).collect()
    };
    assert_eq!(of(1), vec![(1_000, 3_000, false)]);
    assert_eq!(of(2), vec![(2_000, 3_000, false)]);
    assert_eq!(of(3), vec![(4_000, 9_000, true)]);
}

#[test]
fn a_fault_window_ends_when_its_last_node_is_back_or_at_the_heal() {
    let faults = [
        fault(1_000, "kill", &[1, 2], &[]),
        fault(2_000, "restart", &[1], &[]),
        fault(3_000, "restart", &[2], &[]),
        fault(4_000, "net-isolate", &[3], &[3]),
        fault(5_000, "heal", &[], &[]),
        fault(6_000, "pause", &[3], &[]),
        fault(6_500, "workload-stop", &[], &[]),
    ];
    let w: Vec<(u64, u64, &str, bool)> = windows(&faults, 9_000)
        .iter()
        .map(|w| (w.from, w.to, w.action.name(), w.open))
        .map(|(a, b, c, d)| (a, b, if c == "kill" { "kill" } else { "other" }, d))
        .collect();
    assert_eq!(
        w,
        vec![
            (1_000, 3_000, "kill", false),
            (4_000, 5_000, "other", false),
            (6_000, 9_000, "other", true),
        ]
    );
    // Restart or resume alone, or workload events, are no windows.
    assert!(windows(&[fault(1, "restart", &[1], &[])], 10).is_empty());
}

#[test]
fn the_current_leader_needs_a_majority_of_its_term() {
    let st = |node, t, state: &str, term, leader| {
        let mut s = status(node, t, state, term, None);
        s.leader_id = leader;
        s
    };
    let samples = vec![
        st(1, 100, "Leader", 2, 1),
        // Alone: a Leader of term 2 whose term no one else reports is not the leader.
        st(2, 200, "Follower", 2, 1),
        st(3, 300, "Follower", 2, 1),
        // A cut-off node with a higher term does not take it over.
        st(3, 400, "Candidate", 7, -1),
        st(1, 500, "Leader", 2, 1),
    ];
    let spans = leader_spans(&samples, 3, 1_000_000);
    assert_eq!(
        spans,
        vec![LeaderSpan {
            from: 200,
            to: 500,
            node: 1,
            term: 2
        }]
    );
    // Three nodes, one Leader answering alone: never a current leader.
    assert!(leader_spans(&samples[..1], 3, 1_000_000).is_empty());
}

#[test]
fn operations_become_sorted_columns_that_decode_to_the_history() {
    let mut h = vec![
        op(7, 2, "GET k2", 500, None, Outcome::Info, None),
        op(3, 1, "SET k1 5", 100, Some(180), Outcome::Ok, Some("OK")),
        op(4, 1, "CAS k1 5 6", 200, Some(260), Outcome::Fail, None),
        op(5, 3, "noop", 300, Some(310), Outcome::Ok, None),
    ];
    h[2].message = "x".repeat(500);
    let (keys, c) = op_columns(&h);
    assert_eq!(keys, vec!["k1", "", "k2"]);
    assert_eq!(c.id, vec![3, 4, 5, 7]);
    assert_eq!(c.dinv, vec![100, 100, 100, 200]);
    assert_eq!(c.dur, vec![80, 60, 10, -1]);
    assert_eq!(c.out, vec![0, 1, 0, 2]);
    assert_eq!(c.key, vec![0, 0, 1, 2]);
    assert_eq!(c.cmd, vec!["SET 5", "CAS 5 6", "noop", "GET"]);
    assert_eq!(c.res[0].as_deref(), Some("OK"));
    assert_eq!(c.msg[&1].chars().count(), MAX_MSG);
    assert_eq!(c.msg.len(), 1);
}

#[test]
fn rate_counts_per_second_and_leaves_out_the_probes() {
    let h = history([
        ok(1, "SET k 1", (100_000, 110_000), Some("OK")),
        ok(1, "SET k 2", (200_000, 230_000), Some("OK")),
        fail(2, "GET k", (900_000, 1_100_000)),
        info(2, "GET k", 1_200_000),
        // The harness's probe (client 0) is not workload.
        ok(0, "GET k", (1_300_000, 1_310_000), Some("2")),
    ]);
    let r = rate(&h, 2_500_000);
    assert_eq!(r.ok, vec![2, 0, 0]);
    assert_eq!(r.fail, vec![0, 1, 0]);
    assert_eq!(r.info, vec![0, 1, 0]);
    assert_eq!(r.p50, vec![Some(30_000), None, None]);
    assert_eq!(r.p99, vec![Some(30_000), None, None]);
}

#[test]
fn the_failed_linearizable_check_gives_its_operations_by_id() {
    let ev = Evidence::default().with_history(stale_read());
    let c = crate::check::linearizable::check(&ev, std::time::Duration::from_secs(5));
    assert_eq!(c.status, Status::Fail);
    let f = lin_focus(std::slice::from_ref(&c));
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(
        (f[0].key.as_str(), f[0].stuck, f[0].prefix_len),
        ("k", 2, 2)
    );
    assert_eq!(
        f[0].prefix.iter().map(|p| p.0).collect::<Vec<_>>(),
        vec![0, 1]
    );
    // A passing check, or a detail of another shape, highlights nothing.
    let ok = crate::check::linearizable::check(
        &Evidence {
            history: ev.history[..2].to_vec(),
            ..Default::default()
        },
        std::time::Duration::from_secs(5),
    );
    assert!(lin_focus(&[ok]).is_empty());
    let mut odd = c.clone();
    odd.detail = Some(serde_json::json!({"keys": "not a list"}));
    assert!(lin_focus(&[odd]).is_empty());
}

#[test]
fn entries_named_by_failing_checks_are_looked_up_in_each_nodes_last_log() {
    use crate::observe::Entry;
    let log = |node, t_us, cmds: &[(i32, &str)]| LogSnapshot {
        t_us,
        node,
        status: status(node, t_us, "Follower", 1, Some(0)),
        entries: cmds
            .iter()
            .enumerate()
            .map(|(i, (term, c))| Entry {
                index: i as i32,
                term: *term,
                command: c.to_string(),
            })
            .collect(),
    };
    let ev = Evidence {
        logs: vec![log(1, 10, &[(1, "old")]), log(2, 20, &[(1, "a"), (2, "b")])],
        final_logs: vec![log(1, 99, &[(1, "a"), (3, "c")])],
        ..Default::default()
    };
    let mut fail = CheckResult::new("log_matching", "x");
    fail.status = Status::Fail;
    fail.summary = "nodes 1 (at 0.000 s) and 2 (at 0.000 s) both have index 0 in term 1, but differ at index 1".into();
    let mut pass = CheckResult::new("durability", "x");
    pass.summary = "index 0 everywhere".into();
    let e = named_entries(&[fail, pass.clone()], &ev);
    assert_eq!(e.keys().copied().collect::<Vec<_>>(), vec![0, 1]);
    let at1: Vec<(u32, i32, &str, bool)> = e[&1]
        .iter()
        .map(|x| (x.node, x.term, x.command.as_str(), x.last))
        .collect();
    assert_eq!(at1, vec![(1, 3, "c", true), (2, 2, "b", false)]);
    // A passing check names nothing worth a look.
    assert!(named_entries(&[pass], &ev).is_empty());
}

#[test]
fn the_page_is_self_contained_and_no_value_can_close_its_script() {
    let r = Report {
        suite: "evil</script><script>alert(1)</script>".into(),
        verdict: Verdict::Interrupted,
        nodes: vec![node(1), node(2)],
        faults: vec![fault(5, "kill", &[2], &[])],
        ..Default::default()
    };
    let page = render(&r, None);
    assert!(page.starts_with("<!DOCTYPE html>"));
    // Nothing fetched: no external script, style, or URL of any scheme.
    for bad in ["src=\"http", "href=\"http", "<link", "@import", "//cdn"] {
        assert!(!page.contains(bad), "{bad}");
    }
    // Every marker filled, exactly one data element.
    assert!(!page.contains("{{"), "a marker is left");
    assert_eq!(page.matches("</script>").count(), 3);
    assert!(page.contains("<title>evil&lt;/script&gt;"));
    let p = payload_of(&page);
    assert_eq!(p["run"]["suite"], "evil</script><script>alert(1)</script>");
    assert_eq!(p["run"]["verdict"], "interrupted");
    assert_eq!(p["evidence"], false);
    // Without evidence the report's own nodes and faults are still drawn.
    assert_eq!(p["nodes"].as_array().unwrap().len(), 2);
    assert_eq!(p["nodes"][1]["down"][0]["why"], "killed");
    assert_eq!(p["windows"][0]["open"], true);
}

#[test]
fn commands_are_split_into_key_and_the_rest_only_when_well_formed() {
    assert_eq!(split_key("GET k1"), ("k1", "GET".to_string()));
    assert_eq!(split_key("SET k1 7"), ("k1", "SET 7".to_string()));
    assert_eq!(split_key("CAS k1 7 8"), ("k1", "CAS 7 8".to_string()));
    assert_eq!(split_key("DEL k1"), ("k1", "DEL".to_string()));
    for odd in ["SET k1", "GET a b", "NOOP", ""] {
        assert_eq!(split_key(odd), ("", odd.to_string()), "{odd:?}");
    }
}
