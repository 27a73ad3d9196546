//! Size and load time of `report.html` for a long, busy run (issue 14 §1): a
//! synthetic 5-minute run of 5 nodes at 500 ops/s (150k operations over 10
//! keys, 20 clients, one stale read so `linearizable` fails; no info operations, which would make
//! the search hard), status samples
//! every 100 ms, a fault every 20 s. Prints the file size, the time to build
//! it, and how long headless Chromium takes to load it (wall time of
//! `--dump-dom`, and the page's own parse and first-draw times), three times.
//!
//!   cargo bench --bench report_html            (needs `chromium` on PATH)
//!
//! The page and a screenshot are left in `target/report-html-bench/`.
use raft_harness::check::{self, Evidence, NodeInfo};
use raft_harness::history::Op;
use raft_harness::lin::gen::{generate_kv_history, stale_one_read, GenConfig};
use raft_harness::observe::StatusSample;
use raft_harness::report::{self, html, NodeReport, Report};
use raft_harness::trace::FaultEvent;
use std::path::Path;
use std::time::{Duration, Instant};

const RUN_US: u64 = 300_000_000;
const NODES: u32 = 5;

/// 150k operations spread over the run, one of them a stale read.
fn history() -> Vec<Op> {
    let mut ops = generate_kv_history(&GenConfig {
        seed: 14,
        ops: 150_000,
        keys: 10,
        clients: 20,
        info_percent: 0,
        fail_percent: 1,
    });
    let last = ops
        .iter()
        .map(|o| o.complete_us.unwrap_or(o.invoke_us))
        .max()
        .unwrap_or(1);
    let scale = RUN_US as f64 / last as f64;
    for o in &mut ops {
        o.invoke_us = (o.invoke_us as f64 * scale) as u64;
        o.complete_us = o.complete_us.map(|c| (c as f64 * scale) as u64);
        o.node = (o.client % NODES + 1) as i32;
    }
    stale_one_read(&mut ops, 70_000);
    ops
}

/// Every node polled every 100 ms; a leader per 20 s period.
fn statuses() -> Vec<StatusSample> {
    let mut out = Vec::new();
    for t in (0..RUN_US).step_by(100_000) {
        let period = (t / 20_000_000) as u32;
        let leader = period % NODES + 1;
        for n in 1..=NODES {
            out.push(StatusSample {
                t_us: t + u64::from(n) * 100,
                sent_us: t,
                node: n,
                state: if n == leader { "Leader" } else { "Follower" }.into(),
                term: period as i32 + 1,
                voted_for: leader as i32,
                leader_id: leader as i32,
                ext: None,
            });
        }
    }
    out
}

/// A kill + restart or an isolation + heal every 20 s.
fn faults() -> Vec<FaultEvent> {
    let ev = |t_us, action: &str, nodes: Vec<u32>, cut_off: Vec<u32>| FaultEvent {
        t_us,
        action: action.parse().expect("a fault action name"),
        nodes,
        detail: String::new(),
        at: "bench.toml:1".into(),
        cut_off,
    };
    let mut out = Vec::new();
    for k in 0..15u64 {
        let t = k * 20_000_000 + 5_000_000;
        let n = (k % u64::from(NODES)) as u32 + 1;
        if k % 2 == 0 {
            out.push(ev(t, "kill", vec![n], vec![]));
            out.push(ev(t + 4_000_000, "restart", vec![n], vec![]));
        } else {
            out.push(ev(t, "net-isolate", vec![n], vec![n]));
            out.push(ev(t + 6_000_000, "heal", vec![], vec![]));
        }
    }
    out
}

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/report-html-bench");
    std::fs::create_dir_all(&dir).unwrap();
    let ev = Evidence {
        nodes: (1..=NODES)
            .map(|id| NodeInfo {
                id,
                kind: "rust".into(),
                journal: false,
                data_dir: true,
            })
            .collect(),
        statuses: statuses(),
        history: history(),
        faults: faults(),
        ..Default::default()
    };
    let checks = check::run_all(
        &ev,
        Duration::from_secs(60),
        raft_harness::lin::Cancel::new(),
    );
    let mut r = Report {
        suite: "bench-5min-500ops".into(),
        duration_s: RUN_US as f64 / 1e6,
        checks,
        faults: ev.faults.clone(),
        nodes: (1..=NODES)
            .map(|id| NodeReport {
                id,
                kind: "rust".into(),
                port: 29080 + id as u16,
                command: vec![],
                starts: 1,
                journal: false,
                implementation: None,
                log_printed_bytes: 0,
                log_cut_bytes: 0,
            })
            .collect(),
        ..Default::default()
    };
    report::decide(&mut r, false);
    let t = Instant::now();
    let page = html::render(&r, Some(&ev));
    let build = t.elapsed();
    let path = dir.join("report.html");
    report::write_text(&path, &page).unwrap();
    println!(
        "report.html: {} operations, {} status samples, verdict {:?}: {:.2} MB, built in {:.0} ms",
        ev.history.len(),
        ev.statuses.len(),
        r.verdict,
        page.len() as f64 / 1e6,
        build.as_secs_f64() * 1000.0
    );
    for i in 1..=3 {
        load(&path, &dir, i);
    }
    redraws(&page, &dir);
    let png = dir.join("report.png");
    let _ = chromium(&dir)
        .args(["--window-size=1400,1500"])
        .arg(format!("--screenshot={}", png.display()))
        .arg(format!("file://{}", path.display()))
        .output();
    println!("screenshot: {}", png.display());
}

fn chromium(dir: &Path) -> std::process::Command {
    let mut c = std::process::Command::new("chromium");
    c.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
    ])
    .arg(format!("--user-data-dir={}", dir.join("profile").display()));
    c
}

/// Load the page once in headless Chromium; print the wall time and the
/// page's own measurements (JSON parse, parse + first draw).
fn load(path: &Path, dir: &Path, i: u32) {
    let t = Instant::now();
    let dom = dump_dom(dir, path);
    let wall = t.elapsed();
    let get = |name: &str| attr(&dom, name);
    println!(
        "load {i}: chromium --dump-dom {:.2} s wall; in page (ms since navigation): script starts {}, drawn {}; JSON.parse {} ms, parse + first draw {} ms; ready={} errors={} ops={}",
        wall.as_secs_f64(),
        get("data-script-start-ms"),
        get("data-ready-ms"),
        get("data-parse-ms"),
        get("data-render-ms"),
        get("data-ready"),
        get("data-errors"),
        get("data-ops"),
    );
}

/// The DOM of the page at `path` once headless Chromium has run its scripts.
fn dump_dom(dir: &Path, path: &Path) -> String {
    let out = chromium(dir)
        .arg("--dump-dom")
        .arg(format!("file://{}", path.display()))
        .output()
        .expect("chromium on PATH");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The value of the first `name="…"` attribute in `dom`, or `?`.
fn attr(dom: &str, name: &str) -> String {
    let re = regex::Regex::new(&format!(r#"{name}="([^"]*)""#)).unwrap();
    re.captures(dom)
        .map(|c| c[1].to_string())
        .unwrap_or_else(|| "?".into())
}

/// Time of one redraw of the whole run (every operation visited) and of a
/// zoomed-in one, from a copy of the page with a script that clicks the zoom
/// buttons ten times each.
fn redraws(page: &str, dir: &Path) {
    let script = r#"<script>
(function () {
  function time(id, n) {
    var t = performance.now();
    for (var i = 0; i < n; i++) document.getElementById(id).click();
    return ((performance.now() - t) / n).toFixed(1);
  }
  var full = time("zoom-fit", 10);
  for (var i = 0; i < 6; i++) document.getElementById("zoom-in").click();
  var t = performance.now();
  for (var k = 0; k < 10; k++) {
    document.getElementById("zoom-out").click();
    document.getElementById("zoom-in").click();
  }
  var zoomed = ((performance.now() - t) / 20).toFixed(1);
  document.body.setAttribute("data-redraw-full-ms", full);
  document.body.setAttribute("data-redraw-zoomed-ms", zoomed);
})();
</script></body>"#;
    let copy = dir.join("redraw.html");
    std::fs::write(&copy, page.replace("</body>", script)).unwrap();
    let dom = dump_dom(dir, &copy);
    let get = |name: &str| attr(&dom, name);
    println!(
        "redraw: whole run (150k operations visited) {} ms, zoomed to ~1/64 of the run {} ms (mean of 10 / 20)",
        get("data-redraw-full-ms"),
        get("data-redraw-zoomed-ms")
    );
}
