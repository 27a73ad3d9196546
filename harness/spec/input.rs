//! Reading suite and kind files safely, and the names that become file names.
//!
//! A suite path may name anything: a FIFO (opening it would block until a
//! writer comes), `/dev/zero` (reading it never ends), a huge file, bytes that
//! are not UTF-8. Every such case is a diagnostic naming the file (and, for bad
//! UTF-8, the line and column of the first bad byte), never a hang or a panic.
use super::diag::{excerpt, Diagnostic};
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// Largest suite or kinds file accepted, in bytes (1 MiB; shipped suites are < 4 KiB).
pub const MAX_FILE_BYTES: u64 = 1 << 20;

/// Longest suite or kind name, in characters (it becomes part of a file name).
pub const MAX_NAME_CHARS: usize = 200;

/// The text of a suite or kinds file. Errors (as the message of a diagnostic
/// about the whole file, or at the first invalid byte): not a regular file,
/// larger than `MAX_FILE_BYTES`, unreadable, not UTF-8.
pub fn read_source(file: &Path) -> Result<String, Diagnostic> {
    let whole = |m: String| Diagnostic::whole_file(file, m);
    // O_NONBLOCK: opening a FIFO with no writer returns at once instead of waiting.
    let mut f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(nix::fcntl::OFlag::O_NONBLOCK.bits())
        .open(file)
        .map_err(|e| whole(format!("cannot read the file: {e}")))?;
    let meta = f
        .metadata()
        .map_err(|e| whole(format!("cannot read the file: {e}")))?;
    if !meta.is_file() {
        return Err(whole(format!(
            "cannot read the file: it is {}, not a regular file",
            file_type_name(&meta.file_type())
        )));
    }
    let mut bytes = Vec::new();
    (&mut f)
        .take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| whole(format!("cannot read the file: {e}")))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(whole(format!(
            "the file is larger than {} bytes (1 MiB), the limit for suite and kinds files",
            MAX_FILE_BYTES
        )));
    }
    utf8(file, bytes)
}

/// The bytes as text, or a diagnostic at the line and column of the first byte
/// that is not UTF-8.
fn utf8(file: &Path, bytes: Vec<u8>) -> Result<String, Diagnostic> {
    match String::from_utf8(bytes) {
        Ok(s) => Ok(s),
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            let bytes = e.into_bytes();
            let bad = bytes[at];
            // The lossy text keeps the valid prefix byte for byte, so `at` is
            // the same offset in it; the bad byte shows as U+FFFD (3 bytes).
            let text = String::from_utf8_lossy(&bytes);
            Err(Diagnostic::at(
                file,
                &text,
                at..at + 3,
                format!("the file is not valid UTF-8: byte 0x{bad:02X} at byte offset {at}"),
                Some("suites must be UTF-8 text".into()),
            ))
        }
    }
}

fn file_type_name(t: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a FIFO (named pipe)"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_socket() {
        "a socket"
    } else {
        "not a regular file"
    }
}

/// The toml crate reports a date or time where a suite value is read as
/// `invalid type: string "$__toml_private_datetime", ...` (its internal marker):
/// the message a suite author gets instead, naming the key when the line shows it.
pub fn date_message(toml_message: &str, text: &str, at: usize) -> Option<String> {
    if !toml_message.contains("$__toml_private") {
        return None;
    }
    let at = at.min(text.len());
    let line_start = text
        .get(..at)
        .and_then(|t| t.rfind('\n'))
        .map_or(0, |i| i + 1);
    // `key = ` just before the value, also inside an inline table or array.
    let key = text
        .get(line_start..at)
        .and_then(|l| l.trim_end().strip_suffix('='))
        .and_then(|k| {
            k.trim_end()
                .rsplit(|c: char| c.is_whitespace() || "{[,".contains(c))
                .next()
        })
        .map(|k| k.trim_matches('"'))
        .filter(|k| !k.is_empty());
    let expected = "expected a string, a number, a boolean, an array or a table \
                    (quote it if you mean text)";
    Some(match key {
        Some(k) => format!(
            "`{}`: dates are not accepted here; {expected}",
            excerpt(k, 40)
        ),
        None => format!("dates are not accepted here; {expected}"),
    })
}

/// Why `name` cannot be used where it becomes a file or folder name (a report
/// folder, a build log), or None when it can: empty or blank, longer than
/// `MAX_NAME_CHARS`, `.`/`..`, or holding `/`, `\`, `..` or control characters.
pub fn name_problem(name: &str) -> Option<String> {
    if name.trim().is_empty() {
        return Some("must not be empty or blank".into());
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Some(format!("must be at most {MAX_NAME_CHARS} characters long"));
    }
    if name.contains('/') || name.contains('\\') {
        return Some("must not contain `/` or `\\`".into());
    }
    if name.contains("..") || name == "." {
        return Some("must not be `.` or contain `..`".into());
    }
    if name.chars().any(char::is_control) {
        return Some("must not contain control characters".into());
    }
    None
}
