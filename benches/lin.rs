//! Linearizability checker benchmark: `cargo bench --bench lin`.
//!
//! Prints one row per history: the public reference corpus
//! (`$RAFT_HARNESS_REFERENCE_HISTORIES`, default ../shared/histories; where it
//! is absent one line says so and the rest still runs), the histories recorded
//! from real runs in tests/data/histories, and generated ones (10 keys, fixed
//! seeds): wall time, states explored, peak memoisation bytes, and at the end
//! the process's peak RSS. A corpus that is present but unreadable is exit 2.
//! `LIN_BENCH_ONLY=text` runs only the histories whose name contains `text`;
//! `LIN_BENCH_VERBOSE=1` also prints per-key stats of the kv histories.
use raft_harness::history::read_jsonl;
use raft_harness::lin::gen::{corrupt_one_read, generate_kv_history, GenConfig};
use raft_harness::lin::jepsen::parse_jepsen_log;
use raft_harness::lin::kvtext::parse_kv_history;
use raft_harness::lin::{
    check, check_kv_history, AppendKv, CasRegister, Limits, Stats, VerdictKind,
};
use std::path::{Path, PathBuf};
use std::time::Instant;

struct Row {
    name: String,
    ops: usize,
    verdict: VerdictKind,
    expected: Option<VerdictKind>,
    ms: f64,
    stats: Stats,
}

fn print_header() {
    println!(
        "{:<28} {:>7} {:>8} {:>8} {:>10} {:>12} {:>12}",
        "history", "ops", "verdict", "expected", "wall ms", "states", "cache KiB"
    );
}

fn print_row(r: &Row) {
    let expected = r.expected.map_or("-".to_string(), |e| e.to_string());
    let flag = match r.expected {
        Some(e) if e != r.verdict => "  <-- WRONG",
        _ => "",
    };
    println!(
        "{:<28} {:>7} {:>8} {:>8} {:>10.2} {:>12} {:>12.1}{flag}",
        r.name,
        r.ops,
        r.verdict.to_string(),
        expected,
        r.ms,
        r.stats.states_explored,
        r.stats.cache_bytes as f64 / 1024.0
    );
}

/// Times `run` (one check: its verdict and search stats), prints the row and returns it.
fn timed_row(
    name: String,
    ops: usize,
    expected: VerdictKind,
    run: impl FnOnce() -> (VerdictKind, Stats),
) -> Row {
    let t = Instant::now();
    let (verdict, stats) = run();
    let row = Row {
        name,
        ops,
        verdict,
        expected: Some(expected),
        ms: t.elapsed().as_secs_f64() * 1e3,
        stats,
    };
    print_row(&row);
    row
}

/// The parsed history, or exit 2 naming `path` and the error.
fn or_exit<T, E: std::fmt::Display>(parsed: Result<T, E>, path: &Path) -> T {
    parsed.unwrap_or_else(|e| {
        eprintln!("error: {}: {e}", path.display());
        std::process::exit(2)
    })
}

/// `(file, verdict)` rows of `dir/expected.tsv`; exit 2 naming the file and
/// line when it cannot be read or a row is not `FILE<TAB>true|false`.
fn expected(dir: &Path) -> Vec<(String, VerdictKind)> {
    let path = dir.join("expected.tsv");
    let text = read(&path);
    let mut rows = Vec::new();
    for (i, l) in text.lines().enumerate().skip(1) {
        let k = match l.split_once('\t').map(|(f, v)| (f, v.trim())) {
            Some((f, "true")) => (f, VerdictKind::Ok),
            Some((f, "false")) => (f, VerdictKind::Illegal),
            _ if l.trim().is_empty() => continue,
            _ => {
                eprintln!(
                    "error: {}:{}: expected FILE<TAB>true|false, found {l:?}",
                    path.display(),
                    i + 1
                );
                std::process::exit(2)
            }
        };
        rows.push((k.0.to_string(), k.1));
    }
    rows
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| {
        eprintln!("error: cannot read {}: {e}", path.display());
        std::process::exit(2)
    })
}

fn peak_rss_kib() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn summary(label: &str, rows: &[Row]) {
    if rows.is_empty() {
        println!("-- {label}: none selected (LIN_BENCH_ONLY)\n");
        return;
    }
    let total: f64 = rows.iter().map(|r| r.ms).sum();
    let worst = rows
        .iter()
        .max_by(|a, b| a.ms.total_cmp(&b.ms))
        .map_or(String::new(), |r| format!("{} {:.2} ms", r.name, r.ms));
    let wrong = rows
        .iter()
        .filter(|r| r.expected.is_some_and(|e| e != r.verdict))
        .count();
    println!(
        "-- {label}: {} histories, total {total:.1} ms, slowest {worst}, wrong verdicts {wrong}\n",
        rows.len()
    );
}

fn verbose() -> bool {
    std::env::var_os("LIN_BENCH_VERBOSE").is_some()
}

/// The reference corpus folder, or `None` (said in one line) when absent.
fn corpus_root() -> Option<PathBuf> {
    let root = raft_harness::lin::reference_corpus_dir();
    match root.try_exists() {
        Ok(true) => Some(root),
        Ok(false) => {
            println!(
                "reference corpus: absent ({}), 102 Jepsen + 6 kv histories not run\n",
                root.display()
            );
            None
        }
        Err(e) => {
            eprintln!("error: reference corpus {}: {e}", root.display());
            std::process::exit(2)
        }
    }
}

/// One row a history listed in `dir/expected.tsv` (and `wanted`): parsed by `parse` (exit 2
/// when it cannot be), checked and timed by `run`.
fn corpus_rows<T, E: std::fmt::Display>(
    dir: &Path,
    wanted: &dyn Fn(&str) -> bool,
    parse: impl Fn(&str) -> Result<Vec<T>, E>,
    run: impl Fn(&[T]) -> (VerdictKind, Stats),
) -> Vec<Row> {
    let mut rows = Vec::new();
    for (file, exp) in expected(dir) {
        if !wanted(&file) {
            continue;
        }
        let path = dir.join(&file);
        let h = or_exit(parse(&read(&path)), &path);
        rows.push(timed_row(file, h.len(), exp, || run(&h)));
    }
    rows
}

fn jepsen_rows(dir: &Path, limits: Limits, wanted: &dyn Fn(&str) -> bool) -> Vec<Row> {
    corpus_rows(dir, wanted, parse_jepsen_log, |h| {
        let r = check(&CasRegister, h, limits);
        if verbose() {
            print!("{r}");
        }
        (r.verdict, r.stats)
    })
}

fn kv_rows(dir: &Path, limits: Limits, wanted: &dyn Fn(&str) -> bool) -> Vec<Row> {
    corpus_rows(dir, wanted, parse_kv_history, |h| {
        let r = check(&AppendKv, h, limits);
        if verbose() {
            for p in &r.partitions {
                println!("  key {:?}: {} {:?}", p.key, p.verdict.kind(), p.stats);
            }
        }
        (r.verdict, r.stats)
    })
}

/// The histories recorded from real runs (tests/data/histories/README.md).
fn recorded_rows(limits: Limits, wanted: &dyn Fn(&str) -> bool) -> Vec<Row> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/histories");
    let mut rows = Vec::new();
    for (file, exp) in [
        ("failover-rust.jsonl", VerdictKind::Ok),
        ("stale-read.jsonl", VerdictKind::Illegal),
    ] {
        if !wanted(file) {
            continue;
        }
        let h = read_jsonl(&dir.join(file)).unwrap_or_else(|e| {
            eprintln!("error: {e}");
            std::process::exit(2)
        });
        rows.push(timed_row(file.to_string(), h.len(), exp, || {
            let r = check_kv_history(&h, limits);
            (r.verdict, r.stats)
        }));
    }
    rows
}

fn generated_rows(limits: Limits, wanted: &dyn Fn(&str) -> bool) -> Vec<Row> {
    let mut rows = Vec::new();
    for ops in [1_000, 10_000, 100_000] {
        for clients in [5, 20, 50] {
            for (bad, info) in [(false, 2), (true, 2), (false, 0), (true, 0)] {
                let name = format!(
                    "gen {}k c{clients} i{info}{}",
                    ops / 1000,
                    if bad { " bad" } else { "" }
                );
                if !wanted(&name) {
                    continue;
                }
                let cfg = GenConfig {
                    seed: 42 + ops as u64 + clients as u64,
                    ops,
                    keys: 10,
                    clients,
                    info_percent: info,
                    fail_percent: 2,
                };
                let mut h = generate_kv_history(&cfg);
                if bad {
                    corrupt_one_read(&mut h, ops / 2);
                }
                let exp = if bad {
                    VerdictKind::Illegal
                } else {
                    VerdictKind::Ok
                };
                rows.push(timed_row(name, h.len(), exp, || {
                    let r = check_kv_history(&h, limits);
                    (r.verdict, r.stats)
                }));
            }
        }
    }
    rows
}

fn main() {
    // The default limits, but 10 s instead of 60 s so that a run stays short.
    let limits = Limits {
        time: Some(std::time::Duration::from_secs(10)),
        ..Limits::default()
    };
    println!("limits: {limits:?}\n");
    let only = std::env::var("LIN_BENCH_ONLY").unwrap_or_default();
    let wanted = |name: &str| name.contains(only.as_str());

    if let Some(root) = corpus_root() {
        print_header();
        summary(
            "jepsen-etcd",
            &jepsen_rows(&root.join("jepsen-etcd"), limits, &wanted),
        );
        summary("kv", &kv_rows(&root.join("kv"), limits, &wanted));
    }
    print_header();
    summary(
        "recorded from real runs (tests/data/histories)",
        &recorded_rows(limits, &wanted),
    );
    print_header();
    summary(
        "generated (10 keys, iN = N% info ops, 2% fail ops, bad = one read corrupted)",
        &generated_rows(limits, &wanted),
    );
    println!(
        "threads: {}, peak RSS of this process: {} KiB",
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        peak_rss_kib().map_or("?".to_string(), |k| k.to_string())
    );
}
