//! The event journal (node-contract §5): one JSON object per line, written to the file with a
//! single `write` before the node acts on the event. Without `--journal` it writes nothing.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value};

pub struct Journal {
    node: i32,
    file: Option<File>,
}

impl Journal {
    pub fn open(node: i32, path: Option<&Path>) -> std::io::Result<Journal> {
        let file = match path {
            Some(p) => Some(OpenOptions::new().create(true).append(true).open(p)?),
            None => None,
        };
        Ok(Journal { node, file })
    }

    /// Appends `{"ts_us":..,"node":..,"event":..,<fields>}`.
    pub fn write(&mut self, event: &str, fields: &[(&str, Value)]) -> std::io::Result<()> {
        let Some(file) = self.file.as_mut() else {
            return Ok(());
        };
        let ts_us = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_micros() as u64);
        let mut obj = Map::new();
        obj.insert("ts_us".into(), ts_us.into());
        obj.insert("node".into(), self.node.into());
        obj.insert("event".into(), event.into());
        for (k, v) in fields {
            obj.insert((*k).to_string(), v.clone());
        }
        let mut line = serde_json::to_string(&Value::Object(obj))?;
        line.push('\n');
        file.write_all(line.as_bytes())?;
        file.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lines_have_ts_node_event_and_fields() {
        let (_dir, path) = crate::testutil::temp_path("j.jsonl");
        let mut j = Journal::open(3, Some(&path)).unwrap();
        j.write("role", &[("role", json!("Leader")), ("term", json!(4))])
            .unwrap();
        j.write("stop", &[]).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["node"], 3);
        assert_eq!(lines[0]["event"], "role");
        assert_eq!(lines[0]["role"], "Leader");
        assert_eq!(lines[0]["term"], 4);
        assert!(lines[0]["ts_us"].as_u64().unwrap() > 1_600_000_000_000_000);
        assert_eq!(lines[1]["event"], "stop");
    }
}
