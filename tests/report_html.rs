//! report.html in a real browser (issue 14 §2): real runs of this build's
//! rust-node (a passing one, a stale-read node behind a partition that fails
//! linearizability, interrupted ones, one that cannot start) render in headless
//! Chromium with no script or console error, show every node on the timeline,
//! and highlight a failing check. Each run's page is screenshot as `report.png`
//! in its report folder (under `target/tmp/report_html/`, kept for a person
//! to look at).
//!
//! The page records its own errors (`window.onerror`, unhandled rejections,
//! `console.error`) and what it drew in `#page-status`; the test reads them
//! back from `chromium --headless --dump-dom`. Chromium must be installed
//! (`tests/run-all.sh` installs the Debian package): without it these tests
//! fail, they never skip. Ports: 29000-29099.
mod support;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use support::kinds::{stubborn_build_kind, write_kinds};
use support::suite::{
    cluster, fault_leader_under_load, harness_std, nodes, register, stale_reads, steps,
    write_suite, LEADER,
};
use support::{wait_exit, wait_until, Guard};

/// The Chromium binary, or a failure saying how to get it.
fn chromium() -> PathBuf {
    for name in ["chromium", "chromium-browser"] {
        if let Some(p) = std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|d| d.join(name))
                .find(|p| p.is_file())
        }) {
            return p;
        }
    }
    panic!(
        "chromium is not installed: the report.html tests need headless Chromium. \
         tests/run-all.sh installs it (as root: apt-get install -y chromium); install it and rerun"
    );
}

/// A private folder of this test under cargo's target tmp dir, emptied first.
fn workdir(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("report_html")
        .join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Run `cmd` in its own process group; kill the group if it outlives `limit`.
fn run_bounded(mut cmd: Command, limit: Duration) -> std::process::Output {
    cmd.process_group(0)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = cmd.spawn().expect("spawn");
    let pid = child.id() as i32;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(limit) {
        Ok(out) => out.expect("wait"),
        Err(_) => {
            let _ = nix::sys::signal::killpg(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
            panic!("{cmd:?} did not finish within {limit:?}");
        }
    }
}

fn chromium_cmd(profile: &Path) -> Command {
    let mut c = Command::new(chromium());
    c.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--hide-scrollbars",
        "--allow-file-access-from-files",
    ])
    .arg(format!("--user-data-dir={}", profile.display()));
    c
}

fn file_url(p: &Path) -> String {
    format!("file://{}", std::fs::canonicalize(p).unwrap().display())
}

/// What the page reported about itself after loading.
#[derive(Debug)]
struct PageState {
    dom: String,
    ready: bool,
    errors: usize,
    error_text: String,
    nodes: Vec<u32>,
    /// Per node: bands, down and cut-off stretches drawn on the timeline.
    drawn: Vec<(u32, usize)>,
    failing: Vec<String>,
    highlighted: usize,
}

fn attr(tag: &str, name: &str) -> Option<String> {
    let re = regex::Regex::new(&format!(r#"\s{name}="([^"]*)""#)).unwrap();
    re.captures(tag).map(|c| c[1].to_string())
}

fn numbers(list: &str) -> Vec<u32> {
    list.split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect()
}

/// Load `page` in headless Chromium and read `#page-status` and `#page-errors` back.
fn load(page: &Path) -> PageState {
    assert!(
        page.is_file(),
        "no page to load: {} does not exist",
        page.display()
    );
    let profile = tempfile::tempdir().unwrap();
    let mut c = chromium_cmd(profile.path());
    c.arg("--dump-dom").arg(file_url(page));
    let out = run_bounded(c, Duration::from_secs(180));
    let dom = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        dom.contains("</html>"),
        "chromium gave no DOM for {} (status {:?}):\n{}",
        page.display(),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let status = regex::Regex::new(r#"<div id="page-status"[^>]*>"#)
        .unwrap()
        .find(&dom)
        .map(|m| m.as_str().to_string())
        .unwrap_or_default();
    let get = |n: &str| attr(&status, n).unwrap_or_default();
    let error_text = regex::Regex::new(r#"(?s)<pre id="page-errors"[^>]*>(.*?)</pre>"#)
        .unwrap()
        .captures(&dom)
        .map(|c| c[1].to_string())
        .unwrap_or_default();
    PageState {
        ready: get("data-ready") == "1",
        errors: get("data-errors").parse().unwrap_or(usize::MAX),
        error_text,
        nodes: numbers(&get("data-nodes")),
        drawn: get("data-drawn")
            .split(',')
            .filter_map(|p| {
                let (n, c) = p.split_once(':')?;
                Some((n.parse().ok()?, c.parse().ok()?))
            })
            .collect(),
        failing: get("data-failing")
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
        highlighted: get("data-highlighted").parse().unwrap_or(0),
        dom,
    }
}

/// The page loaded, ran to its end, and recorded no error of any kind.
fn assert_clean(p: &PageState, page: &Path) {
    assert_eq!(
        p.errors,
        0,
        "{} recorded errors:\n{}",
        page.display(),
        p.error_text
    );
    assert!(p.ready, "{} never finished drawing", page.display());
}

/// Every node of the run has its row on the timeline with something drawn in it.
fn assert_every_node(p: &PageState, ids: &[u32]) {
    assert_eq!(p.nodes, ids, "timeline rows");
    for id in ids {
        assert!(
            p.dom.contains(&format!(r#"data-node="{id}""#)),
            "no row label for node {id}"
        );
        let drawn = p.drawn.iter().find(|(n, _)| n == id).map_or(0, |d| d.1);
        assert!(drawn > 0, "nothing drawn for node {id}: {:?}", p.drawn);
    }
}

/// Zoom, pan, hover and follow the links of a copy of `page` (a script added
/// at its end does what a person would): no error may come of it, and the
/// linked operation must be selected.
fn assert_interactions_work(page: &Path) {
    let script = r#"<script>
(function () {
  var c = document.getElementById("tl"), r = c.getBoundingClientRect();
  function mouse(type, x, y, target) {
    (target || c).dispatchEvent(new MouseEvent(type, { bubbles: true, clientX: r.left + x, clientY: r.top + y }));
  }
  document.getElementById("zoom-in").click();
  document.getElementById("zoom-out").click();
  for (var y = 40; y < r.height; y += 7) mouse("mousemove", r.width / 2, y);
  mouse("mousedown", 300, 60); mouse("mousemove", 200, 60, window); mouse("mouseup", 200, 60, window);
  c.dispatchEvent(new WheelEvent("wheel", { bubbles: true, cancelable: true, deltaY: -100, clientX: r.left + 100, clientY: r.top + 60 }));
  document.getElementById("zoom-fit").click();
  ["a[data-node]", "a[data-t]", "a[data-entry]", "a[data-op]"].forEach(function (sel) {
    var a = document.querySelector(sel); if (a) a.click();
  });
  document.body.setAttribute("data-interacted", "1");
})();
</script></body>"#;
    let copy = page.with_file_name("interact.html");
    let text = std::fs::read_to_string(page).unwrap();
    std::fs::write(&copy, text.replace("</body>", script)).unwrap();
    let p = load(&copy);
    assert_clean(&p, &copy);
    assert!(
        p.dom.contains(r#"data-interacted="1""#),
        "the interactions did not run"
    );
    let selected =
        regex::Regex::new(r#"<div id="selected"><div class="op mono" id="op-\d+""#).unwrap();
    assert!(
        selected.is_match(&p.dom),
        "following an operation link selected nothing"
    );
    let _ = std::fs::remove_file(&copy);
}

/// Save `report.png` next to the page, and check it is a real, non-trivial PNG.
fn screenshot(page: &Path, height: u32) -> PathBuf {
    let png = page.with_file_name("report.png");
    let profile = tempfile::tempdir().unwrap();
    let mut c = chromium_cmd(profile.path());
    c.arg(format!("--window-size=1400,{height}"))
        .arg(format!("--screenshot={}", png.display()))
        .arg(file_url(page));
    let out = run_bounded(c, Duration::from_secs(180));
    let bytes = std::fs::read(&png).unwrap_or_else(|e| {
        panic!(
            "no screenshot {} ({e}): {}",
            png.display(),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    assert!(
        bytes.len() > 20_000,
        "screenshot of {} bytes: blank?",
        bytes.len()
    );
    png
}

/// A kinds file that runs this build's rust-node (no build step), plus `extra`.
fn kinds(dir: &Path, extra: &str) {
    write_kinds(dir, &[extra.to_string()]);
}

/// A suite of 3 nodes of `kind` on `base_port`, with a register workload and `steps`.
fn suite(dir: &Path, name: &str, base_port: u16, kind: &str, steps: &str) -> PathBuf {
    let nodes = nodes(3, kind, "");
    let text = cluster(base_port, true, &nodes) + &register(4, 60) + "keys = 2\n" + steps;
    write_suite(dir, name, &text)
}

/// Run a suite to its end; returns its exit code, stderr and report folder.
fn run_suite(dir: &Path, spec: &Path) -> (Option<i32>, String, PathBuf) {
    let mut c = harness_std(dir);
    c.args(["run", spec.to_str().unwrap(), "--seed", "3"]);
    let out = run_bounded(c, Duration::from_secs(240));
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    let run = std::fs::canonicalize(dir.join("reports/latest"))
        .unwrap_or_else(|e| panic!("no reports/latest ({e}):\n{err}"));
    (out.status.code(), err, run)
}

#[test]
fn a_passing_runs_page_loads_without_errors_and_shows_every_node() {
    let dir = workdir("passing");
    kinds(&dir, "");
    let steps = fault_leader_under_load("1.5", "kill")
        + &steps(&[
            "sleep_s = 1",
            r#"fault = "restart"; target = "previous""#,
            "sleep_s = 1",
            r#"net = "isolate"; target = "follower""#,
            "sleep_s = 1.5",
            "heal = true",
            "sleep_s = 1",
            r#"workload = "stop""#,
            r#"wait = "caught-up""#,
        ]);
    let spec = suite(&dir, "failover", 29000, "rust", &steps);
    let (code, err, run) = run_suite(&dir, &spec);
    assert_eq!(code, Some(0), "{err}");
    let page = run.join("report.html");
    assert!(page.is_file(), "no report.html in {}", run.display());
    let p = load(&page);
    assert_clean(&p, &page);
    assert_every_node(&p, &[1, 2, 3]);
    assert!(p.failing.is_empty(), "{:?}", p.failing);
    assert_eq!(p.highlighted, 0, "a passing run highlights no operation");
    assert!(p.dom.contains(r#"id="verdict""#) && p.dom.contains(">PASS<"));
    assert!(!p.dom.contains(r#"id="failing-checks""#));
    // The checks are all there; TCP links see no message, and the page says so.
    assert!(p
        .dom
        .contains(r#"id="check-election_safety" class="check st-pass""#));
    assert!(p.dom.contains(r#"id="flow-none""#));
    assert!(p.dom.contains(r#"data-flow="none""#));
    screenshot(&page, 1500);
}

#[test]
fn a_stale_read_runs_page_highlights_the_failing_check_and_its_operations() {
    let dir = workdir("stale-read");
    kinds(&dir, "");
    // As in harness_cli's stale-read test: 5 nodes answering reads locally, one key.
    let spec = write_suite(&dir, "stale", &stale_reads(29060));
    let (code, err, run) = run_suite(&dir, &spec);
    assert_eq!(code, Some(1), "{err}");
    let page = run.join("report.html");
    let p = load(&page);
    assert_clean(&p, &page);
    assert_every_node(&p, &[1, 2, 3, 4, 5]);
    assert!(
        p.failing.contains(&"linearizable".to_string()),
        "{:?}",
        p.failing
    );
    // The failing check's row is marked, named at the top, and explained in full.
    assert!(p
        .dom
        .contains(r#"id="check-linearizable" class="check st-fail""#));
    assert!(p.dom.contains(r#"id="failing-checks""#));
    assert!(p.dom.contains(r#"id="explain-linearizable""#));
    assert!(p.dom.contains("cannot be placed"));
    // The operation that cannot be placed is linked and outlined on the timeline.
    assert!(p.dom.contains(r#"data-op=""#), "no operation link");
    assert!(p.highlighted >= 1, "no operation highlighted");
    screenshot(&page, 1900);
    assert_interactions_work(&page);

    // `check RUN_DIR` writes the page again from its re-check; report.json stays.
    let json_before = std::fs::read(run.join("report.json")).unwrap();
    std::fs::remove_file(&page).unwrap();
    let mut c = harness_std(&dir);
    c.args(["check", run.to_str().unwrap()]);
    let out = run_bounded(c, Duration::from_secs(120));
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(std::fs::read(run.join("report.json")).unwrap(), json_before);
    let p = load(&page);
    assert_clean(&p, &page);
    assert!(p.failing.contains(&"linearizable".to_string()));

    // A page that cannot be written is named, and the exit code is 3.
    std::fs::remove_file(&page).unwrap();
    std::fs::create_dir(&page).unwrap();
    let mut c = harness_std(&dir);
    c.args(["check", run.to_str().unwrap()]);
    let out = run_bounded(c, Duration::from_secs(120));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(
        err.contains("error: cannot write") && err.contains("report.html"),
        "{err}"
    );
}

#[test]
fn a_run_that_cannot_start_still_writes_a_page_that_loads() {
    let dir = workdir("cannot-start");
    kinds(
        &dir,
        "[kind.broken]\ncommand = [\"/nonexistent/raft-node\", \"{id}\", \"{port}\"]\nready_timeout_s = 5\n",
    );
    let spec = suite(&dir, "broken", 29020, "broken", LEADER);
    let (code, err, run) = run_suite(&dir, &spec);
    assert_eq!(code, Some(3), "{err}");
    let page = run.join("report.html");
    let p = load(&page);
    assert_clean(&p, &page);
    assert!(p.dom.contains(">ERROR<"), "verdict not shown");
    assert!(p.dom.contains("errorbox"), "the error is not shown");
}

fn sigint(c: &Child) {
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(c.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
}

/// The interrupted harness `g` exits 130 within `limit` (else fails showing its stderr, `dir/LOG`); the report
/// folder `dir/reports/latest` then points at.
fn interrupted_run(dir: &Path, g: &mut Guard, limit: Duration, log: &str) -> PathBuf {
    let code = wait_exit(&mut g.0, limit);
    let text = std::fs::read_to_string(dir.join(log)).unwrap_or_default();
    assert_eq!(code, Some(130), "{text}");
    std::fs::canonicalize(dir.join("reports/latest")).unwrap()
}

/// Elect a leader and write for a minute.
const WRITE_A_MINUTE: &str =
    "[[step]]\nwait = \"leader\"\n[[step]]\nworkload = \"start\"\n[[step]]\nsleep_s = 60\n";

#[test]
fn interrupted_runs_once_or_twice_write_a_page_that_loads() {
    let dir = workdir("interrupted");
    // A build that ignores SIGTERM for a minute: a second Ctrl+C must abandon it.
    kinds(&dir, &stubborn_build_kind(&dir.join("build.pid")));
    let log = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap_or_default();
    // Once: during the schedule, with the workload running.
    let spec = suite(&dir, "once", 29030, "rust", WRITE_A_MINUTE);
    let start = |spec: &Path, log: &str| {
        Guard(
            harness_std(&dir)
                .args(["run", spec.to_str().unwrap()])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(dir.join(log)).unwrap())
                .spawn()
                .unwrap(),
        )
    };
    let mut g = start(&spec, "once.err");
    assert!(
        wait_until(Duration::from_secs(120), || log("once.err")
            .contains("step 3/3")),
        "{}",
        log("once.err")
    );
    sigint(&g.0);
    let run = interrupted_run(&dir, &mut g, Duration::from_secs(120), "once.err");
    let page = run.join("report.html");
    let p = load(&page);
    assert_clean(&p, &page);
    assert_every_node(&p, &[1, 2, 3]);
    assert!(p.dom.contains(">INTERRUPTED<"));

    // Twice: the minimal report of a second Ctrl+C has its page too.
    let spec = suite(&dir, "twice", 29040, "stubborn", "");
    let mut g = start(&spec, "twice.err");
    assert!(wait_until(Duration::from_secs(120), || log("build.pid")
        .ends_with('\n')));
    sigint(&g.0);
    std::thread::sleep(Duration::from_millis(2500));
    sigint(&g.0);
    let run = interrupted_run(&dir, &mut g, Duration::from_secs(60), "twice.err");
    assert!(run.to_string_lossy().contains("twice"), "{}", run.display());
    let page = run.join("report.html");
    let p = load(&page);
    assert_clean(&p, &page);
    assert!(p.dom.contains("interrupted twice"));
    assert!(p.dom.contains(">INTERRUPTED<"));
}

/// A report of suite `suite` with nodes 1..=n (rust, on base_port+id) and nothing else.
fn synthetic_report(suite: &str, n: u32, base_port: u32) -> raft_harness::report::Report {
    use raft_harness::report::{NodeReport, Report};
    Report {
        suite: suite.into(),
        nodes: (1..=n)
            .map(|id| {
                // A node as report.json holds it (no implementation name).
                let node = serde_json::json!({"id": id, "kind": "rust", "port": base_port + id,
                    "command": [], "starts": 1, "journal": true,
                    "log_printed_bytes": 0, "log_cut_bytes": 0});
                serde_json::from_value::<NodeReport>(node).unwrap()
            })
            .collect(),
        ..Default::default()
    }
}

/// The browser check itself must reject broken pages: a script error, a
/// console error, and a page that never finishes drawing.
#[test]
fn the_browser_check_rejects_pages_with_errors() {
    use raft_harness::report::html;
    let dir = workdir("rejects");
    let r = synthetic_report("synthetic", 2, 29090);
    let good = html::render(&r, None);
    let write = |name: &str, text: &str| {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    // The good page passes the same check.
    let p = load(&write("good.html", &good));
    assert_clean(&p, &dir.join("good.html"));
    assert_eq!(p.nodes, vec![1, 2]);

    // Broken data: the script throws before drawing.
    let start = good.find(r#"id="data">"#).unwrap() + r#"id="data">"#.len();
    let (_, after_data) = good[start..].split_once("</script>").unwrap();
    let broken = format!("{}{{\"run\":</script>{after_data}", &good[..start]);
    let p = load(&write("broken.html", &broken));
    assert!(p.errors >= 1, "a script error went unseen: {p:?}");
    assert!(!p.ready);
    assert!(p.error_text.contains("error"), "{}", p.error_text);

    // A console error after a complete drawing is caught too.
    let planted = good.replace(
        "</body>",
        "<script>console.error('planted failure')</script></body>",
    );
    let p = load(&write("console.html", &planted));
    assert!(p.ready);
    assert_eq!(p.errors, 1, "{p:?}");
    assert!(p.error_text.contains("planted failure"), "{}", p.error_text);
}

/// A synthetic `messages.jsonl`: sparse heartbeats on 1→2, a dense burst of appends on 2→1,
/// votes and a pre-vote at one instant on 3→1.
fn synthetic_calls() -> Vec<raft_harness::net::trace::Message> {
    use raft_harness::net::trace::{Fate, Message, Method, Reply, Request};
    let mut out = Vec::new();
    let mut add = |from, to, method, sent_us: u64, req, reply, fate| {
        out.push(Message {
            id: out.len() as u64,
            from,
            to,
            method,
            path: None,
            req: Some(req),
            reply,
            error: None,
            sent_us,
            delivered_us: Some(sent_us + 200),
            replied_us: (fate != Fate::DroppedReply).then_some(sent_us + 900),
            fate,
            delay_ms: 0,
            rule: (fate != Fate::Pass).then_some(0),
        })
    };
    let append = |n: u32, commit| Request::Append {
        term: 3,
        leader: 1,
        prev_log_index: 4,
        prev_log_term: 2,
        entries: n,
        first: (n > 0).then_some((5, 3)),
        last: (n > 0).then_some((4 + n as i64, 3)),
        leader_commit: commit,
    };
    let ok = Reply::Append {
        term: 3,
        success: true,
        conflict_index: None,
        conflict_term: None,
    };
    for s in 0..10u64 {
        let t = s * 1_000_000 + 500_000;
        add(
            1,
            2,
            Method::AppendEntries,
            t,
            append(0, 4),
            Some(ok.clone()),
            Fate::Pass,
        );
    }
    for k in 0..1000u64 {
        let fate = if k == 500 {
            Fate::DroppedReply
        } else {
            Fate::Pass
        };
        let t = 5_000_500 + k / 2;
        add(
            2,
            1,
            Method::AppendEntries,
            t,
            append(2, 4),
            Some(ok.clone()),
            fate,
        );
    }
    let vote = Request::Vote {
        term: 4,
        candidate: 3,
        last_log_index: 6,
        last_log_term: 3,
    };
    let granted = Reply::Vote {
        term: 4,
        granted: true,
    };
    for fate in [Fate::DroppedRequest, Fate::Pass, Fate::Duplicate] {
        add(
            3,
            1,
            Method::RequestVote,
            2_000_000,
            vote.clone(),
            Some(granted.clone()),
            fate,
        );
    }
    add(
        3,
        1,
        Method::PreVote,
        2_000_000,
        vote,
        Some(granted),
        Fate::Pass,
    );
    out
}

/// With RPC-aware links the page draws every call: one mark per call where they are sparse,
/// one per pixel column where dense (every call counted in some mark), and hovering names the
/// Raft fields of the call under the mouse.
#[test]
fn the_message_flow_draws_every_call_aggregates_dense_ones_and_names_fields_on_hover() {
    use raft_harness::check::Evidence;
    use raft_harness::report::{html, Report};
    let dir = workdir("flow");
    let r = Report {
        duration_s: 10.0,
        ..synthetic_report("synthetic-flow", 3, 33300)
    };
    let ev = Evidence {
        messages: Some(synthetic_calls()),
        ..Default::default()
    };
    let page = dir.join("report.html");
    std::fs::write(&page, html::render(&r, Some(&ev))).unwrap();
    let p = load(&page);
    assert_clean(&p, &page);
    assert!(
        p.dom.contains(r#"data-flow="drawn""#),
        "no message flow drawn"
    );
    assert!(p.dom.contains(r#"data-flow-calls="1014""#));
    assert!(
        !p.dom.contains(r#"id="flow-none""#),
        "a note denies calls that exist"
    );
    let status = regex::Regex::new(r#"data-flow-drawn="([^"]*)""#).unwrap();
    let drawn: Vec<(String, usize, usize)> = status.captures(&p.dom).unwrap()[1]
        .split(',')
        .map(|d| {
            let v: Vec<&str> = d.split(':').collect();
            (
                v[0].to_string(),
                v[1].parse().unwrap(),
                v[2].parse().unwrap(),
            )
        })
        .collect();
    assert_eq!(drawn.len(), 3, "one row per link: {drawn:?}");
    assert_eq!(
        drawn[0],
        ("1-2".to_string(), 10, 10),
        "sparse: one mark a call"
    );
    let (link, marks, calls) = &drawn[1];
    assert_eq!(
        (link.as_str(), *calls),
        ("2-1", 1000),
        "every call in a mark"
    );
    assert!(
        (1..=2).contains(marks),
        "0.5 ms of calls is a pixel or two: {drawn:?}"
    );
    assert_eq!(
        drawn[2],
        ("3-1".to_string(), 2, 4),
        "votes: one aggregate + the pre-vote"
    );

    // Hover every pixel of every sub-lane; collect the tips.
    let script = r##"<script>
(function () {
  var c = document.getElementById("flow-tl"), r = c.getBoundingClientRect(), seen = {};
  document.querySelectorAll("#flow-labels .row-label").forEach(function (lab) {
    for (var y = lab.offsetTop + 2; y < lab.offsetTop + lab.offsetHeight - 2; y += 7)
      for (var x = 0; x < r.width; x++) {
        c.dispatchEvent(new MouseEvent("mousemove", { bubbles: true, clientX: r.left + x, clientY: r.top + y + 2 }));
        seen[document.getElementById("tip").textContent.split("\n").slice(1).join(" | ")] = 1;
      }
  });
  var out = document.createElement("pre"); out.id = "hovered"; out.textContent = Object.keys(seen).join("\n");
  document.body.appendChild(out);
})();
</script></body>"##;
    let copy = dir.join("hover.html");
    std::fs::write(
        &copy,
        std::fs::read_to_string(&page)
            .unwrap()
            .replace("</body>", script),
    )
    .unwrap();
    let p = load(&copy);
    assert_clean(&p, &copy);
    let hovered = regex::Regex::new(r#"(?s)<pre id="hovered">(.*?)</pre>"#)
        .unwrap()
        .captures(&p.dom)
        .map(|c| c[1].to_string())
        .expect("the hover script ran");
    for want in [
        "node 1 → node 2 AppendEntries (heartbeat) · fate delivered",
        "leaderId 1, prevLogIndex 4, prevLogTerm 2, entries 0, leaderCommit 4",
        "reply: term 3, success true",
        "calls in this pixel",
        "dropped-reply",
        "candidateId 3, lastLogIndex 6, lastLogTerm 3",
        "voteGranted true",
        "PreVote",
        "message fault #0",
    ] {
        assert!(hovered.contains(want), "no tip shows {want:?}:\n{hovered}");
    }
    screenshot(&page, 900);
}
