//! Node logs with a size cap: the head and the tail of what a node prints.
//!
//! A node's stdout and stderr go into a pipe; a copier thread per process
//! incarnation moves the bytes into `nodes/<id>.log`. The first `head` bytes a
//! node prints (over all its incarnations) go straight to the log. Past that,
//! bytes go to two alternating side files of `tail / 2` bytes each
//! (`<id>.log.tail0`, `<id>.log.tail1`): when one is full the other is
//! emptied and reused, so at any time they hold the last `tail / 2` to `tail`
//! bytes. [`NodeLog::finish`] appends a line saying how much was cut, then the
//! side files in order, to the log, and removes them. If the harness itself is
//! killed, the side files stay beside the log (nothing is lost but the middle).
//!
//! A node that prints faster than the disk takes is slowed by the pipe, never
//! lost track of; a node that prints 100 MB/s costs at most `head + tail`
//! bytes of disk.
use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How much of a node's output is kept, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cap {
    /// Bytes kept from the start (over all incarnations of the node).
    pub head: u64,
    /// Bytes kept from the end: between `tail / 2` and `tail`.
    pub tail: u64,
}

impl Cap {
    /// `total` bytes in all, half head and half tail. `u64::MAX` means no cap.
    pub fn total(total: u64) -> Cap {
        Cap {
            head: total / 2,
            tail: total - total / 2,
        }
    }
}

/// Default cap per node: 64 MiB in all (32 MiB head, 32 MiB tail); the spec's default.
pub use crate::spec::DEFAULT_NODE_LOG_CAP_BYTES as DEFAULT_CAP_BYTES;

/// What a finished log says about itself, for the report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LogStats {
    /// Bytes the node printed, over all incarnations.
    pub printed: u64,
    /// Bytes dropped from the middle (0 if the log is whole).
    pub cut: u64,
}

/// One node's log file and the state of its cap. Shared by the copier threads
/// of the node's incarnations; cheap to clone.
#[derive(Clone, Debug)]
pub struct NodeLog {
    inner: Arc<Mutex<State>>,
}

#[derive(Debug)]
struct State {
    path: PathBuf,
    cap: Cap,
    file: Option<File>,
    head_left: u64,
    tail: [Option<File>; 2],
    tail_len: [u64; 2],
    cur: usize,
    stats: LogStats,
    finished: bool,
    /// Copier threads still reading a pipe.
    copiers: usize,
}

impl State {
    fn tail_path(&self, i: usize) -> PathBuf {
        let mut p = self.path.clone().into_os_string();
        p.push(format!(".tail{i}"));
        PathBuf::from(p)
    }

    fn write(&mut self, mut buf: &[u8]) -> std::io::Result<()> {
        self.stats.printed += buf.len() as u64;
        if self.finished {
            self.stats.cut += buf.len() as u64;
            return Ok(());
        }
        if self.head_left > 0 {
            let n = (buf.len() as u64).min(self.head_left) as usize;
            self.head_file()?.write_all(&buf[..n])?;
            self.head_left -= n as u64;
            buf = &buf[n..];
        }
        if !buf.is_empty() {
            self.write_tail(buf)?;
        }
        Ok(())
    }

    fn head_file(&mut self) -> std::io::Result<&mut File> {
        if self.file.is_none() {
            self.file = Some(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&self.path)?,
            );
        }
        Ok(self.file.as_mut().expect("just opened"))
    }

    /// Bytes past the head: into the current side file, switching (and
    /// emptying the other one) when it is full.
    fn write_tail(&mut self, mut buf: &[u8]) -> std::io::Result<()> {
        let half = (self.cap.tail / 2).max(1);
        if self.cap.tail == 0 {
            self.stats.cut += buf.len() as u64;
            return Ok(());
        }
        while !buf.is_empty() {
            if self.tail_len[self.cur] >= half {
                self.cur = 1 - self.cur;
                self.stats.cut += self.tail_len[self.cur];
                self.tail_len[self.cur] = 0;
                self.tail[self.cur] = Some(File::create(self.tail_path(self.cur))?);
            }
            if self.tail[self.cur].is_none() {
                self.tail[self.cur] = Some(File::create(self.tail_path(self.cur))?);
            }
            let room = half - self.tail_len[self.cur];
            let n = (buf.len() as u64).min(room) as usize;
            self.tail[self.cur]
                .as_mut()
                .expect("opened above")
                .write_all(&buf[..n])?;
            self.tail_len[self.cur] += n as u64;
            buf = &buf[n..];
        }
        Ok(())
    }

    /// Append the cut marker and the side files (older first) to the log.
    fn finish(&mut self) -> std::io::Result<LogStats> {
        if self.finished {
            return Ok(self.stats);
        }
        self.finished = true;
        let had_tail = self.tail.iter().any(Option::is_some);
        self.tail = [None, None];
        if !had_tail {
            return Ok(self.stats);
        }
        let (cut, cap) = (self.stats.cut, self.cap);
        let older = 1 - self.cur;
        let order = [older, self.cur];
        let paths: Vec<PathBuf> = order.iter().map(|i| self.tail_path(*i)).collect();
        let f = self.head_file()?;
        if cut > 0 {
            writeln!(
                f,
                "\n=== raft-harness: {cut} bytes of this node's output were cut here (log cap: first {} and last {} bytes kept; raise [cluster] node_log_cap_mb to keep more) ===",
                cap.head, cap.tail
            )?;
        }
        for p in &paths {
            if let Ok(mut t) = File::open(p) {
                std::io::copy(&mut t, f)?;
            }
        }
        f.flush()?;
        for p in &paths {
            let _ = std::fs::remove_file(p);
        }
        Ok(self.stats)
    }
}

fn lock(m: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl NodeLog {
    /// A log at `path` (appended to, never truncated) with `cap`.
    pub fn new(path: &Path, cap: Cap) -> NodeLog {
        NodeLog {
            inner: Arc::new(Mutex::new(State {
                path: path.to_path_buf(),
                cap,
                file: None,
                head_left: cap.head,
                tail: [None, None],
                tail_len: [0, 0],
                cur: 0,
                stats: LogStats::default(),
                finished: false,
                copiers: 0,
            })),
        }
    }

    pub fn path(&self) -> PathBuf {
        lock(&self.inner).path.clone()
    }

    /// A line from the harness itself (e.g. "starting ..."): counted like node output.
    pub fn note(&self, line: &str) -> std::io::Result<()> {
        lock(&self.inner).write(format!("{line}\n").as_bytes())
    }

    /// Copy `from` (the read end of the node's output pipe) into the log on a
    /// thread of its own, until every writer has closed it. Write errors (a
    /// full disk) drop the rest of the output but keep draining the pipe, so
    /// the node never blocks on its own output.
    pub fn copy_from(
        &self,
        mut from: File,
        node: u32,
    ) -> std::io::Result<std::thread::JoinHandle<()>> {
        let me = self.clone();
        lock(&self.inner).copiers += 1;
        let spawned = std::thread::Builder::new()
            .name(format!("node-{node}-log"))
            .spawn(move || {
                let mut buf = vec![0u8; 64 * 1024];
                let mut failed = false;
                loop {
                    let n = match from.read(&mut buf) {
                        Ok(0) => break,
                        Ok(n) => n,
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                        Err(_) => break,
                    };
                    let mut st = lock(&me.inner);
                    if failed {
                        st.stats.printed += n as u64;
                        st.stats.cut += n as u64;
                    } else if st.write(&buf[..n]).is_err() {
                        failed = true;
                    }
                }
                lock(&me.inner).copiers -= 1;
            });
        if spawned.is_err() {
            lock(&self.inner).copiers -= 1;
        }
        spawned
    }

    /// Wait (up to `limit`, on the runtime's timer) until every copier has
    /// drained its pipe — all the node's processes are gone — then
    /// [`finish`](Self::finish). A process that outlives its node keeps its
    /// pipe open: its later output is cut.
    pub async fn finish_after_drain(&self, limit: Duration) -> std::io::Result<LogStats> {
        crate::wait::until(limit, DRAIN_POLL, || self.drained()).await;
        self.finish()
    }

    /// [`finish_after_drain`](Self::finish_after_drain) for code with no
    /// runtime to wait on (`Drop`, a build's blocking thread): blocks the thread.
    pub fn finish_after_drain_blocking(&self, limit: Duration) -> std::io::Result<LogStats> {
        crate::wait::until_blocking(limit, DRAIN_POLL, || self.drained());
        self.finish()
    }

    /// Every copier has seen the end of its pipe.
    fn drained(&self) -> bool {
        lock(&self.inner).copiers == 0
    }

    /// Finish the log (see the module doc). Later output is counted as cut.
    pub fn finish(&self) -> std::io::Result<LogStats> {
        lock(&self.inner).finish()
    }

    pub fn stats(&self) -> LogStats {
        lock(&self.inner).stats
    }
}

/// How often a drain wait looks at the copiers.
const DRAIN_POLL: Duration = Duration::from_millis(5);

/// A pipe for a node's stdout and stderr: (read end, write end). Both ends are
/// close-on-exec, so no other child inherits them; `Command` clears the flag
/// on the copies it installs as the child's fds 1 and 2.
pub fn output_pipe() -> std::io::Result<(File, std::os::fd::OwnedFd)> {
    let (r, w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(std::io::Error::from)?;
    Ok((File::from(r), w))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern(n: usize) -> Vec<u8> {
        (0..n).map(|i| b'a' + (i % 26) as u8).collect()
    }

    #[test]
    fn a_log_under_the_cap_is_whole_and_says_nothing() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("1.log");
        let log = NodeLog::new(&p, Cap::total(1000));
        log.note("=== start").unwrap();
        let (r, w) = output_pipe().unwrap();
        let t = log.copy_from(r, 1).unwrap();
        let mut w = File::from(w);
        w.write_all(b"hello\n").unwrap();
        drop(w);
        t.join().unwrap();
        let s = log.finish().unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"=== start\nhello\n");
        assert_eq!(
            s,
            LogStats {
                printed: 16,
                cut: 0
            }
        );
    }

    #[test]
    fn a_log_over_the_cap_keeps_head_and_tail_and_says_what_was_cut() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("2.log");
        let cap = Cap {
            head: 1000,
            tail: 400,
        };
        let log = NodeLog::new(&p, cap);
        let data = pattern(100_000);
        let (r, w) = output_pipe().unwrap();
        let t = log.copy_from(r, 2).unwrap();
        let mut w = File::from(w);
        for chunk in data.chunks(777) {
            w.write_all(chunk).unwrap();
        }
        drop(w);
        t.join().unwrap();
        let s = log.finish().unwrap();
        let got = std::fs::read(&p).unwrap();
        assert!(got.starts_with(&data[..1000]), "head kept");
        let text = String::from_utf8_lossy(&got);
        let marker = format!("{} bytes of this node's output were cut here", s.cut);
        assert!(text.contains(&marker), "{text}");
        let tail = text.rsplit_once("===\n").unwrap().1.as_bytes();
        assert!(
            tail.len() >= 200 && tail.len() <= 400,
            "{} tail bytes",
            tail.len()
        );
        assert!(data.ends_with(tail), "the tail is the last bytes, in order");
        assert_eq!(s.printed, 100_000);
        assert_eq!(s.cut as usize, 100_000 - 1000 - tail.len());
        assert!(!d.path().join("2.log.tail0").exists() && !d.path().join("2.log.tail1").exists());
    }

    #[test]
    fn the_head_is_shared_by_incarnations_and_later_output_is_cut() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("3.log");
        let log = NodeLog::new(&p, Cap { head: 10, tail: 10 });
        for i in 0..3 {
            let (r, w) = output_pipe().unwrap();
            let t = log.copy_from(r, 3).unwrap();
            let mut w = File::from(w);
            w.write_all(format!("run{i}:0123456789\n").as_bytes())
                .unwrap();
            drop(w);
            t.join().unwrap();
        }
        let s = log.finish().unwrap();
        assert_eq!(s.printed, 48);
        let got = String::from_utf8(std::fs::read(&p).unwrap()).unwrap();
        assert!(got.starts_with("run0:01234"), "{got}");
        assert!(got.ends_with("456789\n"), "{got}");
        log.note("late").unwrap();
        assert_eq!(log.stats().cut, s.cut + 5);
    }
}
