//! Durable Raft state in `--data-dir` (node-contract §7), shared layout of the reference nodes:
//! `state.json` = `{"term":T,"voted_for":V}` replaced atomically (tmp file, fsync, rename, fsync
//! the directory); `log.jsonl` = one `{"index":I,"term":T,"command":C}` per line, appended and
//! fsynced; a truncation rewrites it atomically the same way.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::core::{Entry, HardState};

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("data dir {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("data dir {path}: corrupt file: {detail}")]
    Corrupt { path: PathBuf, detail: String },
}

#[derive(Serialize, Deserialize)]
struct StateFile {
    term: i32,
    voted_for: i32,
}

#[derive(Serialize, Deserialize)]
struct LogLine {
    index: i32,
    term: i32,
    command: String,
}

pub struct Storage {
    dir: PathBuf,
    log: File,
    stats: SyncStats,
}

/// What this node made durable, for the throughput bench (fsyncs per write, issue 15 §3):
/// `fsyncs` counts every fsync/fdatasync of a file or directory, `appends` the log appends
/// and `entries` the entries they carried. Logged at a clean stop.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SyncStats {
    pub fsyncs: u64,
    pub appends: u64,
    pub entries: u64,
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> StorageError + '_ {
    move |source| StorageError::Io {
        path: path.to_path_buf(),
        source,
    }
}

impl Storage {
    /// Opens (creating if missing) the data dir and recovers its state. Writes `state.json`
    /// once, so an unwritable directory fails here, at start-up.
    pub fn open(dir: &Path) -> Result<(Storage, HardState, Vec<Entry>), StorageError> {
        fs::create_dir_all(dir).map_err(io_err(dir))?;
        let state_path = dir.join("state.json");
        let hs = match fs::read(&state_path) {
            Ok(bytes) => {
                let s: StateFile =
                    serde_json::from_slice(&bytes).map_err(|e| StorageError::Corrupt {
                        path: state_path.clone(),
                        detail: e.to_string(),
                    })?;
                HardState {
                    term: s.term,
                    voted_for: s.voted_for,
                }
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => HardState::default(),
            Err(e) => return Err(io_err(&state_path)(e)),
        };
        let log_path = dir.join("log.jsonl");
        let (entries, torn_tail) = match fs::read_to_string(&log_path) {
            Ok(text) => parse_log(&log_path, &text)?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => (Vec::new(), false),
            Err(e) => return Err(io_err(&log_path)(e)),
        };
        if torn_tail || !log_path.exists() {
            // A crash mid-append can leave half a line: drop it (it was never acknowledged).
            rewrite_atomically(dir, "log.jsonl", &encode_entries(&entries))?;
        }
        let log = OpenOptions::new()
            .append(true)
            .open(&log_path)
            .map_err(io_err(&log_path))?;
        let mut storage = Storage {
            dir: dir.to_path_buf(),
            log,
            stats: SyncStats::default(),
        };
        storage.save_hard_state(hs)?;
        Ok((storage, hs, entries))
    }

    pub fn save_hard_state(&mut self, hs: HardState) -> Result<(), StorageError> {
        let json = serde_json::to_vec(&StateFile {
            term: hs.term,
            voted_for: hs.voted_for,
        })
        .expect("plain struct serializes");
        rewrite_atomically(&self.dir, "state.json", &json)?;
        self.stats.fsyncs += 2; // the file and its directory
        Ok(())
    }

    pub fn stats(&self) -> SyncStats {
        self.stats
    }

    pub fn append(&mut self, entries: &[Entry]) -> Result<(), StorageError> {
        let path = self.dir.join("log.jsonl");
        self.log
            .write_all(&encode_entries(entries))
            .map_err(io_err(&path))?;
        self.log.sync_data().map_err(io_err(&path))?;
        self.stats.fsyncs += 1;
        self.stats.appends += 1;
        self.stats.entries += entries.len() as u64;
        Ok(())
    }

    /// Rewrites the log as exactly `kept` (the entries below the truncation point).
    pub fn truncate(&mut self, kept: &[Entry]) -> Result<(), StorageError> {
        rewrite_atomically(&self.dir, "log.jsonl", &encode_entries(kept))?;
        self.stats.fsyncs += 2;
        let path = self.dir.join("log.jsonl");
        self.log = OpenOptions::new()
            .append(true)
            .open(&path)
            .map_err(io_err(&path))?;
        Ok(())
    }
}

fn encode_entries(entries: &[Entry]) -> Vec<u8> {
    let mut buf = Vec::new();
    for e in entries {
        serde_json::to_writer(
            &mut buf,
            &LogLine {
                index: e.index,
                term: e.term,
                command: e.command.clone(),
            },
        )
        .expect("plain struct serializes");
        buf.push(b'\n');
    }
    buf
}

/// Returns the entries and whether an unterminated, unparseable last line was dropped.
fn parse_log(path: &Path, text: &str) -> Result<(Vec<Entry>, bool), StorageError> {
    let mut entries = Vec::new();
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    for (n, raw) in lines.iter().enumerate() {
        let line = raw.trim_end_matches('\n');
        if line.trim().is_empty() {
            continue;
        }
        let parsed: Result<LogLine, _> = serde_json::from_str(line);
        let last_unterminated = n + 1 == lines.len() && !raw.ends_with('\n');
        let l = match parsed {
            Ok(l) => l,
            Err(_) if last_unterminated => return Ok((entries, true)),
            Err(e) => {
                return Err(StorageError::Corrupt {
                    path: path.to_path_buf(),
                    detail: format!("line {}: {e}", n + 1),
                })
            }
        };
        if l.index != entries.len() as i32 {
            return Err(StorageError::Corrupt {
                path: path.to_path_buf(),
                detail: format!(
                    "line {}: index {} where {} was expected",
                    n + 1,
                    l.index,
                    entries.len()
                ),
            });
        }
        entries.push(Entry {
            index: l.index,
            term: l.term,
            command: l.command,
        });
    }
    let torn = text.as_bytes().last().is_some_and(|&b| b != b'\n');
    Ok((entries, torn))
}

/// Writes `name` atomically: `name.tmp`, fsync, rename over `name`, fsync the directory.
fn rewrite_atomically(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), StorageError> {
    let tmp = dir.join(format!("{name}.tmp"));
    let dst = dir.join(name);
    let mut f = File::create(&tmp).map_err(io_err(&tmp))?;
    f.write_all(bytes).map_err(io_err(&tmp))?;
    f.sync_all().map_err(io_err(&tmp))?;
    drop(f);
    fs::rename(&tmp, &dst).map_err(io_err(&dst))?;
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err(dir))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{temp_file, temp_path};

    fn e(index: i32, term: i32, command: &str) -> Entry {
        Entry {
            index,
            term,
            command: command.into(),
        }
    }

    #[test]
    fn fresh_dir_starts_empty_and_writes_state_file() {
        let (_dir, data) = temp_path("new/sub");
        let (_s, hs, log) = Storage::open(&data).unwrap();
        assert_eq!(hs, HardState::default());
        assert!(log.is_empty());
        let state: serde_json::Value =
            serde_json::from_slice(&fs::read(data.join("state.json")).unwrap()).unwrap();
        assert_eq!(state, serde_json::json!({"term": 0, "voted_for": -1}));
        assert!(data.join("log.jsonl").exists());
    }

    #[test]
    fn state_and_log_round_trip_through_truncation_and_reload() {
        let dir = tempfile::tempdir().unwrap();
        {
            let (mut s, _, _) = Storage::open(dir.path()).unwrap();
            s.save_hard_state(HardState {
                term: 3,
                voted_for: 2,
            })
            .unwrap();
            s.append(&[e(0, 1, ""), e(1, 1, "SET a 1")]).unwrap();
            s.append(&[e(2, 2, "SET b with\"quote")]).unwrap();
            s.truncate(&[e(0, 1, "")]).unwrap();
            s.append(&[e(1, 3, "DEL a")]).unwrap();
        }
        let (_s, hs, log) = Storage::open(dir.path()).unwrap();
        assert_eq!(
            hs,
            HardState {
                term: 3,
                voted_for: 2
            }
        );
        assert_eq!(log, vec![e(0, 1, ""), e(1, 3, "DEL a")]);
        let text = fs::read_to_string(dir.path().join("log.jsonl")).unwrap();
        assert_eq!(
            text.lines().next().unwrap(),
            r#"{"index":0,"term":1,"command":""}"#
        );
        assert!(!dir.path().join("state.json.tmp").exists());
    }

    #[test]
    fn torn_last_line_is_dropped_but_corruption_elsewhere_is_an_error() {
        let (dir, _) = temp_file(
            "log.jsonl",
            "{\"index\":0,\"term\":1,\"command\":\"x\"}\n{\"index\":1,\"te",
        );
        let (mut s, _, log) = Storage::open(dir.path()).unwrap();
        assert_eq!(log, vec![e(0, 1, "x")]);
        s.append(&[e(1, 1, "y")]).unwrap();
        drop(s);
        let (_s, _, log) = Storage::open(dir.path()).unwrap();
        assert_eq!(log, vec![e(0, 1, "x"), e(1, 1, "y")]);

        let (bad, _) = temp_file(
            "log.jsonl",
            "garbage\n{\"index\":0,\"term\":1,\"command\":\"x\"}\n",
        );
        assert!(matches!(
            Storage::open(bad.path()),
            Err(StorageError::Corrupt { .. })
        ));
    }

    #[test]
    fn unwritable_data_dir_fails_to_open() {
        let (_dir, file) = temp_file("plain-file", "x");
        assert!(matches!(
            Storage::open(&file.join("sub")),
            Err(StorageError::Io { .. })
        ));
    }
}
