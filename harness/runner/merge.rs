//! The files of a whole invocation: one merged `junit.xml` (a `<testsuite>`
//! per suite run, a `<testcase>` per check with its time; failures carry the
//! explanation text) and an `index.html` linking every run's `report.html`,
//! `report.json`, `junit.xml` and the child's log.
use crate::report::{self, Report, Verdict};
use std::path::{Path, PathBuf};

/// What one suite's child left behind.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Suite name and the file as given (for `rerun:`).
    pub name: String,
    pub file: PathBuf,
    /// The child's exit code (130 when it was interrupted).
    pub code: i32,
    /// The run's report folder, as the child printed it.
    pub run_dir: Option<PathBuf>,
    /// Its report.json, if it wrote one.
    pub report: Option<Report>,
    /// The child's terminal output.
    pub log: PathBuf,
    pub secs: f64,
    /// The seed the run used (report.json, else the child's first line).
    pub seed: Option<u64>,
    /// Why the suite was never started (an interrupt came first); None for a
    /// suite that ran. Such a suite is listed as skipped in junit.xml and as
    /// `NOT RUN` in index.html; it neither passed nor failed.
    pub not_run: Option<String>,
}

impl Outcome {
    /// A suite that was never started, for `why` (e.g. the batch was
    /// interrupted first): no code of its own, exit 130 as the batch's.
    pub fn never_started(name: &str, file: &Path, log: &Path, why: &str) -> Outcome {
        Outcome {
            name: name.to_string(),
            file: file.to_path_buf(),
            code: report::exit::INTERRUPTED,
            run_dir: None,
            report: None,
            log: log.to_path_buf(),
            secs: 0.0,
            seed: None,
            not_run: Some(why.to_string()),
        }
    }

    /// The run's verdict: its report's, else what its exit code says (a
    /// suite never started counts as interrupted).
    pub fn verdict(&self) -> Verdict {
        if self.not_run.is_some() {
            return Verdict::Interrupted;
        }
        if let Some(r) = &self.report {
            return r.verdict;
        }
        match self.code {
            report::exit::PASS => Verdict::Pass,
            report::exit::CHECK_FAILED => Verdict::Fail,
            report::exit::UNDECIDED => Verdict::Undecided,
            report::exit::INTERRUPTED => Verdict::Interrupted,
            _ => Verdict::Error,
        }
    }

    pub fn passed(&self) -> bool {
        self.code == report::exit::PASS && self.verdict() == Verdict::Pass
    }

    /// Names of the checks that failed or stayed unknown.
    pub fn failing_checks(&self) -> Vec<String> {
        use crate::check::Status;
        self.report
            .iter()
            .flat_map(|r| r.checks.iter())
            .filter(|c| matches!(c.status, Status::Fail | Status::Unknown))
            .map(|c| c.name.clone())
            .collect()
    }
}

/// The testsuite of a run that wrote no report.json: one error case `run`
/// with the end of the child's output.
fn missing_report_suite(o: &Outcome) -> quick_junit::TestSuite {
    use quick_junit::{NonSuccessKind, TestCase, TestCaseStatus, TestSuite};
    let mut suite = TestSuite::new(o.name.clone());
    suite.set_time(std::time::Duration::from_secs_f64(o.secs.max(0.0)));
    let mut st = TestCaseStatus::non_success(NonSuccessKind::Error);
    st.set_message(format!(
        "the run wrote no report.json (exit {}); its output is in {}",
        o.code,
        o.log.display()
    ));
    st.set_description(crate::cluster::build::tail(&o.log, 30));
    let mut tc = TestCase::new("run", st);
    tc.set_classname(o.name.clone());
    suite.add_test_case(tc);
    suite
}

/// The testsuite of a suite never started: one skipped case `run` saying why.
fn not_run_suite(o: &Outcome, why: &str) -> quick_junit::TestSuite {
    use quick_junit::{TestCase, TestCaseStatus, TestSuite};
    let mut suite = TestSuite::new(o.name.clone());
    let mut st = TestCaseStatus::skipped();
    st.set_message(format!("not run: {why}"));
    let mut tc = TestCase::new("run", st);
    tc.set_classname(o.name.clone());
    suite.add_test_case(tc);
    suite
}

/// The merged JUnit XML of an invocation that took `secs`.
pub fn junit(outcomes: &[Outcome], secs: f64) -> String {
    let mut rep = quick_junit::Report::new("raft-harness");
    rep.set_time(std::time::Duration::from_secs_f64(secs.max(0.0)));
    for o in outcomes {
        rep.add_test_suite(match (&o.not_run, &o.report) {
            (Some(why), _) => not_run_suite(o, why),
            (None, Some(r)) => report::junit_suite(r),
            (None, None) => missing_report_suite(o),
        });
    }
    rep.to_string().unwrap_or_default()
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// `target` as seen from the folder `from` (both under one root or absolute):
/// a relative path when one can be made, else `target` as it is.
pub fn relative(from: &Path, target: &Path) -> String {
    let (Ok(f), Ok(t)) = (std::path::absolute(from), std::path::absolute(target)) else {
        return target.display().to_string();
    };
    let fc: Vec<_> = f.components().collect();
    let tc: Vec<_> = t.components().collect();
    let common = fc.iter().zip(&tc).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<String> = vec!["..".to_string(); fc.len() - common];
    parts.extend(
        tc[common..]
            .iter()
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    parts.join("/")
}

fn verdict_word(o: &Outcome) -> &'static str {
    if o.not_run.is_some() {
        return "NOT RUN";
    }
    match o.verdict() {
        Verdict::Pass if o.passed() => "PASS",
        Verdict::Pass => "ERROR",
        Verdict::Fail => "FAIL",
        Verdict::Undecided => "UNDECIDED",
        Verdict::Error => "ERROR",
        Verdict::Interrupted => "INTERRUPTED",
    }
}

/// `index.html` of an invocation written into `dir`: one row per suite run
/// with its verdict, seed, time and links (report.html is linked even when the
/// run has not written one).
pub fn index_html(dir: &Path, outcomes: &[Outcome], closing: &str) -> String {
    let mut rows = String::new();
    for o in outcomes {
        let link = |name: &str| match &o.run_dir {
            Some(d) => format!(
                "<a href=\"{}\">{}</a>",
                esc(&relative(dir, &d.join(name))),
                esc(name)
            ),
            None => "—".to_string(),
        };
        let output = match o.not_run {
            Some(_) => "—".to_string(),
            None => format!("<a href=\"{}\">output</a>", esc(&relative(dir, &o.log))),
        };
        rows.push_str(&format!(
            "<tr class=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.1} s</td><td>{}</td><td>{} {} {} {output}</td></tr>\n",
            verdict_word(o).to_lowercase().replace(' ', "-"),
            esc(&o.name),
            esc(&o.file.display().to_string()),
            verdict_word(o),
            o.seed.map_or("—".into(), |s| s.to_string()),
            o.secs,
            esc(&o.not_run.clone().unwrap_or_else(|| o.failing_checks().join(", "))),
            link("report.html"),
            link("report.json"),
            link("junit.xml"),
        ));
    }
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>raft-harness: {}</title>\n<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}td,th{{padding:.3em .8em;border-bottom:1px solid #ddd;text-align:left}}tr.pass td:nth-child(3){{color:#080}}tr:not(.pass) td:nth-child(3){{color:#b00;font-weight:bold}}</style></head>\n<body><h1>raft-harness: {}</h1>\n<table><thead><tr><th>suite</th><th>file</th><th>verdict</th><th>seed</th><th>time</th><th>failing checks</th><th>files</th></tr></thead><tbody>\n{rows}</tbody></table>\n<p><a href=\"junit.xml\">junit.xml</a> (all suites)</p></body></html>\n",
        esc(closing),
        esc(closing)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_links_climb_out_of_the_batch_folder() {
        assert_eq!(
            relative(Path::new("/r/batch.d/1"), Path::new("/r/s/2/report.html")),
            "../../s/2/report.html"
        );
        assert_eq!(
            relative(Path::new("/r/b"), Path::new("/r/b/x.log")),
            "x.log"
        );
    }

    #[test]
    fn a_run_without_report_is_an_error_suite_and_html_is_escaped() {
        let o = Outcome {
            name: "a<b".into(),
            file: "s/a.toml".into(),
            code: 3,
            run_dir: None,
            report: None,
            log: "/nonexistent/log".into(),
            secs: 1.0,
            seed: None,
            not_run: None,
        };
        assert_eq!(o.verdict(), Verdict::Error);
        assert!(!o.passed());
        let x = junit(std::slice::from_ref(&o), 2.0);
        assert!(
            x.contains("<error") && x.contains("wrote no report.json (exit 3)"),
            "{x}"
        );
        let h = index_html(Path::new("/r/batch.d/1"), &[o], "0 passed, 1 failed");
        assert!(h.contains("a&lt;b") && !h.contains("a<b"), "{h}");
        assert!(h.contains("ERROR"), "{h}");
    }

    #[test]
    fn a_suite_never_started_is_skipped_in_junit_and_not_run_in_the_index() {
        let o = Outcome::never_started(
            "late",
            Path::new("s/late.toml"),
            Path::new("/r/batch.d/1/logs/late.log"),
            "the batch was interrupted before it started",
        );
        assert_eq!(o.verdict(), Verdict::Interrupted);
        assert!(!o.passed());
        let x = junit(std::slice::from_ref(&o), 1.0);
        assert!(x.contains("<skipped"), "{x}");
        assert!(
            x.contains("not run: the batch was interrupted before it started"),
            "{x}"
        );
        assert!(!x.contains("<error") && !x.contains("<failure"), "{x}");
        let h = index_html(
            Path::new("/r/batch.d/1"),
            &[o],
            "0 passed, 0 failed, 1 not run",
        );
        assert!(h.contains("<td>NOT RUN</td>"), "{h}");
        assert!(
            h.contains("the batch was interrupted before it started"),
            "{h}"
        );
    }
}
