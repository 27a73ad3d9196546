//! Spec diagnostics: every problem names the file, line and column, shows the
//! line with a caret under the offending text, and suggests a fix when one is
//! obvious (an unknown key gets the nearest valid key).
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct Diagnostic {
    pub file: PathBuf,
    pub line: usize,
    pub col: usize,
    pub message: String,
    pub help: Option<String>,
    source_line: String,
    caret_len: usize,
}

impl Diagnostic {
    pub fn at(
        file: &Path,
        text: &str,
        span: Range<usize>,
        message: String,
        help: Option<String>,
    ) -> Self {
        let start = span.start.min(text.len());
        let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
        let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
        let line = text[..start].matches('\n').count() + 1;
        let col = text[line_start..start].chars().count() + 1;
        let end = span.end.clamp(start, line_end);
        Diagnostic {
            file: file.to_path_buf(),
            line,
            col,
            message,
            help,
            source_line: text[line_start..line_end]
                .trim_end_matches('\r')
                .to_string(),
            caret_len: text[start..end].chars().count().max(1),
        }
    }

    /// A problem with no position inside a file (e.g. the file cannot be read).
    pub fn whole_file(file: &Path, message: String) -> Self {
        Diagnostic {
            file: file.to_path_buf(),
            line: 0,
            col: 0,
            message,
            help: None,
            source_line: String::new(),
            caret_len: 0,
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            return write!(f, "error: {}: {}", self.file.display(), self.message);
        }
        writeln!(
            f,
            "error: {}:{}:{}: {}",
            self.file.display(),
            self.line,
            self.col,
            self.message
        )?;
        let num = self.line.to_string();
        let pad = " ".repeat(num.len());
        writeln!(f, "{pad} |")?;
        writeln!(f, "{num} | {}", self.source_line)?;
        write!(
            f,
            "{pad} | {}{}",
            " ".repeat(self.col - 1),
            "^".repeat(self.caret_len)
        )?;
        if let Some(h) = &self.help {
            write!(f, "\n{pad} = help: {h}")?;
        }
        Ok(())
    }
}

/// All problems found in a spec (we report every one, not only the first).
#[derive(Debug, Clone)]
pub struct SpecErrors(pub Vec<Diagnostic>);

impl fmt::Display for SpecErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            writeln!(f, "{d}")?;
        }
        let n = self.0.len();
        write!(
            f,
            "{n} error{} in the spec; nothing was started",
            if n == 1 { "" } else { "s" }
        )
    }
}

impl std::error::Error for SpecErrors {}

/// The help line for `got`, which is not one of `valid`: the nearest valid word
/// (shown with `show`) if it is a likely typo, else `list: a, b, c`.
pub fn did_you_mean(
    got: &str,
    valid: &[&str],
    show: impl Fn(&str) -> String,
    list: &str,
) -> String {
    match suggest(got, valid) {
        Some(s) => format!("did you mean {}?", show(s)),
        None => format!("{list}: {}", valid.join(", ")),
    }
}

/// `word` → `` `word` ``, for keys in help lines.
pub fn ticked(w: &str) -> String {
    format!("`{w}`")
}

/// `word` → `"word"`, for values in help lines.
pub fn quoted(w: &str) -> String {
    format!("\"{w}\"")
}

/// The valid word closest to `got`, if it is close enough to be a likely typo.
pub fn suggest<'a>(got: &str, valid: &[&'a str]) -> Option<&'a str> {
    valid
        .iter()
        .map(|v| (strsim::damerau_levenshtein(got, v), *v))
        .filter(|(d, v)| *d <= 2.max(v.len() / 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, v)| v)
}
