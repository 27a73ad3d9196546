//! Spec diagnostics: every problem names the file, line and column, shows the
//! line with a caret under the offending text, and suggests a fix when one is
//! obvious (an unknown key gets the nearest valid key).
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// Longest message or help text a diagnostic keeps, in characters.
const MAX_MESSAGE_CHARS: usize = 400;
/// Widest excerpt of a source line a diagnostic shows, in characters.
const MAX_LINE_CHARS: usize = 120;
/// Characters of context kept left of the caret when a long line is cut.
const LEFT_CONTEXT_CHARS: usize = 40;
/// Most diagnostics printed for one spec; the rest are counted.
const MAX_SHOWN: usize = 50;

#[derive(Debug, Clone)]
pub struct Diagnostic {
    pub file: PathBuf,
    /// 1-based line of the problem; 0 = the file as a whole.
    pub line: usize,
    /// 1-based column in characters.
    pub col: usize,
    pub message: String,
    pub help: Option<String>,
    /// The line, or a bounded window of it around the problem (`…` marks cuts).
    source_line: String,
    /// 1-based column of the caret inside `source_line` (u32: keeps the
    /// diagnostic small, it travels in `Result`s).
    caret_col: u32,
    caret_len: u32,
}

impl Diagnostic {
    /// A problem at byte `span` of `text` (the file's contents). Messages, help
    /// and the quoted line are bounded (by characters, never inside one), so a
    /// 1 MB line gives a message of a few hundred bytes.
    pub fn at(
        file: &Path,
        text: &str,
        span: Range<usize>,
        message: String,
        help: Option<String>,
    ) -> Self {
        let start = floor_char_boundary(text, span.start.min(text.len()));
        let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
        let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
        let line = text[..start].matches('\n').count() + 1;
        let col = text[line_start..start].chars().count() + 1;
        let end = floor_char_boundary(text, span.end.clamp(start, line_end));
        let caret_len = text[start..end].chars().count().max(1);
        let full = text[line_start..line_end].trim_end_matches('\r');
        let (source_line, caret_col, caret_len) = window(full, col, caret_len);
        Diagnostic {
            file: file.to_path_buf(),
            line,
            col,
            message: excerpt(&message, MAX_MESSAGE_CHARS),
            help: help.map(|h| excerpt(&h, MAX_MESSAGE_CHARS)),
            source_line,
            caret_col: caret_col as u32,
            caret_len: caret_len as u32,
        }
    }

    /// A problem with no position inside a file (e.g. the file cannot be read).
    pub fn whole_file(file: &Path, message: String) -> Self {
        Diagnostic {
            file: file.to_path_buf(),
            line: 0,
            col: 0,
            message: excerpt(&message, MAX_MESSAGE_CHARS),
            help: None,
            source_line: String::new(),
            caret_col: 0,
            caret_len: 0,
        }
    }
}

/// `s` if it has at most `max` characters, else its first characters and
/// `…(N characters)`: for quoting suite text in messages. Cuts between
/// characters, never inside a multi-byte one.
pub fn excerpt(s: &str, max: usize) -> String {
    let n = s.chars().count();
    if n <= max {
        return s.to_string();
    }
    let head: String = s.chars().take(max.saturating_sub(1)).collect();
    format!("{head}…({n} characters)")
}

/// A window of at most `MAX_LINE_CHARS` characters of `line` around the caret
/// at 1-based character column `col`: (text, caret column in it, caret length).
fn window(line: &str, col: usize, caret_len: usize) -> (String, usize, usize) {
    let n = line.chars().count();
    if n <= MAX_LINE_CHARS {
        return (line.to_string(), col, caret_len);
    }
    let from = (col - 1)
        .saturating_sub(LEFT_CONTEXT_CHARS)
        .min(n - MAX_LINE_CHARS);
    let to = (from + MAX_LINE_CHARS).min(n);
    let mut text: String = line.chars().skip(from).take(to - from).collect();
    let mut caret_col = col - from;
    if from > 0 {
        text.insert(0, '…');
        caret_col += 1;
    }
    if to < n {
        text.push('…');
    }
    let room = (to - from) - (col - 1 - from);
    (text, caret_col, caret_len.min(room).max(1))
}

/// The largest char boundary of `s` at or below byte `i`.
fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Rendered by `annotate-snippets` (rustc's layout: the message, the line with
/// its number, carets under the problem, `= help:`). The first line keeps the
/// `error: FILE:LINE:COL: message` form that editors and our tests look for.
impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use annotate_snippets::{AnnotationKind, Level, Renderer, Snippet};
        if self.line == 0 {
            return write!(f, "error: {}: {}", self.file.display(), self.message);
        }
        let title = format!(
            "{}:{}:{}: {}",
            self.file.display(),
            self.line,
            self.col,
            self.message
        );
        let text = self.source_line.as_str();
        let byte = |col: usize| text.char_indices().nth(col).map_or(text.len(), |(i, _)| i);
        let from = self.caret_col as usize - 1;
        let span = byte(from)..byte(from + self.caret_len as usize);
        let snippet = Snippet::source(text)
            .line_start(self.line)
            .annotation(AnnotationKind::Primary.span(span));
        let mut group = Level::ERROR.primary_title(title).element(snippet);
        if let Some(h) = &self.help {
            group = group.element(Level::HELP.message(h.as_str()));
        }
        write!(f, "{}", Renderer::plain().render(&[group]))
    }
}

/// All problems found in a spec (we report every one, not only the first).
#[derive(Debug, Clone)]
pub struct SpecErrors(pub Vec<Diagnostic>);

impl fmt::Display for SpecErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().take(MAX_SHOWN).enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            writeln!(f, "{d}")?;
        }
        let n = self.0.len();
        if n > MAX_SHOWN {
            writeln!(f, "\n… and {} more errors not shown", n - MAX_SHOWN)?;
        }
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
    // The distance is at least the length difference, and the cut-off is a third
    // of a valid word: a much longer `got` matches nothing (and a 1 MB word
    // would cost a 1 MB × len matrix per candidate).
    let longest = valid.iter().map(|v| v.chars().count()).max().unwrap_or(0);
    if got.chars().count() > 2 * longest + 2 {
        return None;
    }
    valid
        .iter()
        .map(|v| (strsim::damerau_levenshtein(got, v), *v))
        .filter(|(d, v)| *d <= 2.max(v.len() / 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, v)| v)
}
