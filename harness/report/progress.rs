//! What a person watching a run sees: on a terminal, one live status line
//! (step, elapsed, ops, leader and term) with events printed above it; when
//! not a terminal (CI logs), plain timestamped lines only.
use std::io::{IsTerminal, Write};
use std::sync::{Arc, Mutex};
use std::time::Instant;

#[derive(Clone)]
pub struct Progress {
    inner: Arc<Mutex<State>>,
    tty: bool,
    start: Instant,
}

struct State {
    step: String,
    live_len: usize,
}

impl Progress {
    pub fn new(start: Instant) -> Self {
        Progress {
            inner: Arc::new(Mutex::new(State {
                step: String::new(),
                live_len: 0,
            })),
            tty: std::io::stderr().is_terminal() && std::env::var_os("CI").is_none(),
            start,
        }
    }

    fn stamp(&self) -> String {
        format!("[{:>7.2}s]", self.start.elapsed().as_secs_f64())
    }

    /// A permanent line (an event, a result).
    pub fn line(&self, msg: impl AsRef<str>) {
        let mut st = self.inner.lock().unwrap();
        let mut err = std::io::stderr().lock();
        if self.tty && st.live_len > 0 {
            let _ = write!(err, "\r{}\r", " ".repeat(st.live_len));
            st.live_len = 0;
        }
        let _ = writeln!(err, "{} {}", self.stamp(), msg.as_ref());
    }

    /// A new step begins.
    pub fn step(&self, desc: String) {
        self.line(&desc);
        self.inner.lock().unwrap().step = desc;
    }

    /// Redraw the live line (terminal only).
    pub fn tick(&self, ops: usize, leader: Option<(u32, i32)>) {
        if !self.tty {
            return;
        }
        let mut st = self.inner.lock().unwrap();
        let leader = leader.map_or("no leader".to_string(), |(n, t)| {
            format!("leader {n} term {t}")
        });
        let mut text = format!("{} {} · ops {ops} · {leader}", self.stamp(), st.step);
        text.truncate(160);
        let pad = st.live_len.saturating_sub(text.chars().count());
        let _ = write!(std::io::stderr().lock(), "\r{text}{}", " ".repeat(pad));
        st.live_len = text.chars().count();
    }

    /// Clear the live line before the final table.
    pub fn finish(&self) {
        let mut st = self.inner.lock().unwrap();
        if self.tty && st.live_len > 0 {
            let _ = write!(std::io::stderr().lock(), "\r{}\r", " ".repeat(st.live_len));
            st.live_len = 0;
        }
    }
}
