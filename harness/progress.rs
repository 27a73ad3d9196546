//! What a person watching a run sees: on a terminal, one live status line
//! (step, elapsed, ops, leader and term) with events printed above it; when
//! not a terminal (CI logs), plain timestamped lines only.
//!
//! The live line is an `indicatif` bar (`{wide_msg}`): indicatif cuts it to
//! the terminal's current width by display width (a CJK character takes two
//! columns), never inside a character, and redraws it at a bounded rate;
//! lines are printed above it with `println`. The one cut of our own is the
//! cap of `LIVE_MAX_CHARS` on a very wide terminal.
//!
//! Output is bounded: routine lines (a step begins, a `repeat` round begins, a
//! wait came out as expected, a fault had no node to act on) are printed in a
//! burst of `ROUTINE_BURST`, then at most `ROUTINE_PER_SEC` a second; the rest
//! are counted and reported as `… N routine lines not shown`. Events (faults,
//! heals, failed waits, nodes exiting, results) go through `line` and are
//! always printed. A big fast `repeat` thus prints a few hundred lines, not
//! 175 MB. Shipped suites have far fewer than `ROUTINE_BURST` steps: for them
//! nothing changes.
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::{IsTerminal, Write};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

/// Longest live status line, in characters (it is cut between characters).
const LIVE_MAX_CHARS: usize = 160;
/// Routine lines printed before the rate limit applies.
const ROUTINE_BURST: f64 = 100.0;
/// Routine lines printed per second once the burst is spent.
const ROUTINE_PER_SEC: f64 = 10.0;

type Sink = Box<dyn Write + Send>;

#[derive(Clone)]
pub struct Progress {
    inner: Arc<Mutex<State>>,
    start: Instant,
}

struct State {
    step: String,
    budget: Budget,
    out: Out,
}

/// Where lines go: plain lines to a writer, or above a live bar.
enum Out {
    Plain(Sink),
    Live(ProgressBar),
}

/// A token bucket for routine lines: `tokens` refill at `ROUTINE_PER_SEC` up
/// to `ROUTINE_BURST`; lines with no token left are counted in `hidden`.
struct Budget {
    tokens: f64,
    last: Instant,
    hidden: u64,
}

impl Budget {
    fn new(now: Instant) -> Self {
        Budget {
            tokens: ROUTINE_BURST,
            last: now,
            hidden: 0,
        }
    }

    /// Whether a routine line may be printed now (else it is counted).
    fn take(&mut self, now: Instant) -> bool {
        let secs = now.saturating_duration_since(self.last).as_secs_f64();
        self.tokens = (self.tokens + secs * ROUTINE_PER_SEC).min(ROUTINE_BURST);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            self.hidden += 1;
            false
        }
    }
}

impl Progress {
    /// Progress on stderr; live line only on a terminal outside CI.
    pub fn new(start: Instant) -> Self {
        if std::io::stderr().is_terminal() && std::env::var_os("CI").is_none() {
            Self::live(start, ProgressDrawTarget::stderr())
        } else {
            Self::to_writer(start, Box::new(std::io::stderr()))
        }
    }

    /// Plain timestamped lines written to `out` (no live line).
    pub fn to_writer(start: Instant, out: Sink) -> Self {
        Self::with_out(start, Out::Plain(out))
    }

    /// A live line drawn on `target` (a terminal), lines printed above it.
    pub fn live(start: Instant, target: ProgressDrawTarget) -> Self {
        let bar = ProgressBar::with_draw_target(None, target);
        if let Ok(style) = ProgressStyle::with_template("{wide_msg}") {
            bar.set_style(style);
        }
        Self::with_out(start, Out::Live(bar))
    }

    fn with_out(start: Instant, out: Out) -> Self {
        Progress {
            inner: Arc::new(Mutex::new(State {
                step: String::new(),
                budget: Budget::new(Instant::now()),
                out,
            })),
            start,
        }
    }

    /// The state, even if a thread panicked while holding it: progress output
    /// is never worth crashing a run for (the nodes would be killed and no
    /// report written).
    fn state(&self) -> MutexGuard<'_, State> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn stamp(&self) -> String {
        format!("[{:>7.2}s]", self.start.elapsed().as_secs_f64())
    }

    /// A permanent line (an event, a result): always printed.
    pub fn line(&self, msg: impl AsRef<str>) {
        let mut st = self.state();
        self.print(&mut st, msg.as_ref());
    }

    /// A routine line (e.g. a `repeat` round begins): printed within the budget.
    pub fn note(&self, msg: impl AsRef<str>) {
        let mut st = self.state();
        if st.budget.take(Instant::now()) {
            self.print(&mut st, msg.as_ref());
        }
    }

    /// The result of a wait: routine when it came out as `expected`, else an
    /// event (a failure is always printed).
    pub fn outcome(&self, expected: bool, msg: impl AsRef<str>) {
        if expected {
            self.note(msg)
        } else {
            self.line(msg)
        }
    }

    /// A new step begins: a routine line, and the step of the live line.
    pub fn step(&self, desc: String) {
        let mut st = self.state();
        if st.budget.take(Instant::now()) {
            self.print(&mut st, &desc);
        }
        st.step = desc;
    }

    /// Say how many routine lines were not shown, then print `msg` (above the
    /// live line on a terminal).
    fn print(&self, st: &mut State, msg: &str) {
        self.flush_hidden(st);
        emit(&mut st.out, &format!("{} {msg}", self.stamp()));
    }

    fn flush_hidden(&self, st: &mut State) {
        let hidden = std::mem::take(&mut st.budget.hidden);
        if hidden > 0 {
            let line = format!(
                "{} … {hidden} routine line{} not shown (at most {ROUTINE_PER_SEC} a second \
                 are printed; every fault and failure is)",
                self.stamp(),
                if hidden == 1 { "" } else { "s" }
            );
            emit(&mut st.out, &line);
        }
    }

    /// Redraw the live line (terminal only).
    pub fn tick(&self, ops: usize, leader: Option<(u32, i32)>) {
        let st = self.state();
        let Out::Live(bar) = &st.out else { return };
        let leader = leader.map_or("no leader".to_string(), |(n, t)| {
            format!("leader {n} term {t}")
        });
        let full = format!("{} {} · ops {ops} · {leader}", self.stamp(), st.step);
        bar.set_message(cut_chars(&full, LIVE_MAX_CHARS).to_string());
    }

    /// Clear the live line before the final table, and count what was not shown.
    pub fn finish(&self) {
        let mut st = self.state();
        self.flush_hidden(&mut st);
        match &mut st.out {
            Out::Live(bar) => bar.finish_and_clear(),
            Out::Plain(w) => {
                let _ = w.flush();
            }
        }
    }
}

/// One whole line, in one write (lines of concurrent tasks never interleave);
/// write errors (a closed pipe) are ignored: progress is not worth a crash.
fn emit(out: &mut Out, line: &str) {
    match out {
        Out::Live(bar) => bar.println(line),
        Out::Plain(w) => {
            let _ = w.write_all(format!("{line}\n").as_bytes());
        }
    }
}

/// The first `max` characters of `s` (never cut inside a multi-byte character).
pub fn cut_chars(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use indicatif::InMemoryTerm;

    /// A sink the test can read back.
    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);
    impl Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    impl Buf {
        fn text(&self) -> String {
            String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
        }
    }

    fn plain() -> (Progress, Buf) {
        let buf = Buf::default();
        (
            Progress::to_writer(Instant::now(), Box::new(buf.clone())),
            buf,
        )
    }

    /// A live progress on an in-memory terminal of `cols` columns.
    fn on_term(cols: u16) -> (Progress, InMemoryTerm) {
        let term = InMemoryTerm::new(8, cols);
        let target = ProgressDrawTarget::term_like_with_hz(Box::new(term.clone()), 255);
        (Progress::live(Instant::now(), target), term)
    }

    /// The last non-empty row of the terminal.
    fn live_row(term: &InMemoryTerm) -> String {
        let screen = term.contents();
        screen
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or_default()
            .to_string()
    }

    #[test]
    fn cut_chars_never_splits_a_character() {
        assert_eq!(cut_chars("a·b", 2), "a·");
        assert_eq!(cut_chars("··", 1), "·");
        assert_eq!(cut_chars("ab", 5), "ab");
        // Every cut of a string with multi-byte characters is valid text.
        let s = "x·é€𝄞".repeat(40);
        for n in 0..s.chars().count() + 2 {
            assert_eq!(cut_chars(&s, n).chars().count(), n.min(s.chars().count()));
        }
    }

    /// Today's main cut the live line at byte 160 with `String::truncate`, which
    /// panics when byte 160 falls inside `·`: every step length is tried so that
    /// the cut lands inside a multi-byte character at least once, on a terminal
    /// wider than 160 columns and on a narrow one.
    #[test]
    fn the_live_line_with_multibyte_text_at_the_cut_does_not_panic() {
        for cols in [200u16, 60] {
            for n in 100..200 {
                let (p, term) = on_term(cols);
                p.step(format!(
                    "step 1/1 ({}.toml:3) sleep 1.0 s ·é",
                    "s".repeat(n)
                ));
                p.tick(12, Some((2, 3)));
                let live = live_row(&term);
                assert!(live.starts_with('['), "the live line was drawn: {live:?}");
                let width = live.trim_end().chars().count();
                assert!(
                    width <= LIVE_MAX_CHARS.min(cols as usize),
                    "{width}: {live}"
                );
                p.finish();
            }
        }
    }

    /// Double-width characters: indicatif measures display columns, so the
    /// live line of 2-column characters holds half as many of them.
    #[test]
    fn the_live_line_fits_the_terminal_by_display_width() {
        let (p, term) = on_term(40);
        p.step(format!("step 1/1 {}", "漢".repeat(100)));
        p.tick(7, None);
        let live = live_row(&term);
        let wide = live.chars().filter(|c| *c == '漢').count();
        let narrow = live.trim_end().chars().count() - wide;
        assert!(wide > 0, "the live line was drawn: {live:?}");
        assert!(
            narrow + 2 * wide <= 40,
            "{} columns: {live}",
            narrow + 2 * wide
        );
        p.finish();
    }

    #[test]
    fn lines_are_printed_above_the_live_line() {
        let (p, term) = on_term(80);
        p.step("step 1/2 (s.toml:3) wait leader".into());
        p.tick(0, None);
        p.line("s.toml:3: leader after 12 ms");
        p.tick(5, Some((1, 2)));
        let screen = term.contents();
        let rows: Vec<&str> = screen.lines().filter(|l| !l.trim().is_empty()).collect();
        assert!(
            rows[0].ends_with("step 1/2 (s.toml:3) wait leader"),
            "{screen}"
        );
        assert!(
            rows[1].ends_with("s.toml:3: leader after 12 ms"),
            "{screen}"
        );
        assert!(rows[2].contains("· ops 5 · leader 1 term 2"), "{screen}");
        p.finish();
        assert!(
            !term.contents().contains("ops 5"),
            "finish clears the live line"
        );
    }

    #[test]
    fn a_poisoned_lock_does_not_crash_the_run() {
        let (p, buf) = plain();
        let p2 = p.clone();
        let _ = std::thread::spawn(move || {
            let _held = p2.inner.lock().unwrap();
            panic!("a thread panics while printing");
        })
        .join();
        assert!(p.inner.is_poisoned());
        p.step("step 1/1 next".into());
        p.tick(1, None);
        p.line("still printing");
        p.finish();
        assert!(buf.text().contains("still printing"), "{}", buf.text());
    }

    #[test]
    fn routine_lines_are_bounded_and_counted_events_are_all_printed() {
        let (p, buf) = plain();
        let t0 = Instant::now();
        let steps = 200_000u64;
        let mut total = steps;
        for i in 0..steps {
            p.step(format!("step {i} sleep 0.0 s"));
            if i % 50_000 == 0 {
                p.line(format!("event {i}"));
                p.outcome(false, format!("wait {i} not met"));
                p.outcome(true, format!("step {i}: wait met as expected"));
                total += 1;
            }
        }
        p.finish();
        let secs = t0.elapsed().as_secs_f64();
        let text = buf.text();
        let shown = text.lines().filter(|l| l.contains("] step ")).count() as u64;
        let limit = ROUTINE_BURST + ROUTINE_PER_SEC * secs + 1.0;
        assert!((shown as f64) <= limit, "{shown} step lines in {secs:.1} s");
        assert!(shown >= ROUTINE_BURST as u64);
        for i in (0..steps).step_by(50_000) {
            assert!(text.contains(&format!("] event {i}\n")), "event {i} lost");
            assert!(
                text.contains(&format!("] wait {i} not met\n")),
                "failure {i} lost"
            );
        }
        let hidden: u64 = text
            .lines()
            .filter_map(|l| l.split("… ").nth(1))
            .filter_map(|r| r.split(' ').next()?.parse::<u64>().ok())
            .sum();
        assert_eq!(shown + hidden, total, "every step line is shown or counted");
        assert!(text.len() < 100_000, "{} bytes printed", text.len());
    }
}
