//! Why a run ended before its checks: the one error type of the run's stages.
//! Its text becomes the report's `error`; the exit code follows from the
//! verdict ([`crate::report::Verdict::exit_code`]): 130 when interrupted,
//! else 3 (cannot run).
use std::fmt::Display;

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// Ports, claims and leftovers (`cluster::cleanup`), the node folders, the
    /// link proxies, a node that does not start: the text says which.
    #[error("{0}")]
    Setup(String),
    #[error("build task failed: {0}")]
    BuildTask(tokio::task::JoinError),
    /// A node kind's build step failed (its log is under `build/`).
    #[error("{0}")]
    Build(String),
    /// Ctrl+C before the schedule began; `during` says in which stage.
    #[error("interrupted {during}")]
    Interrupted { during: String },
}

impl RunError {
    /// A setup error with `what` in front of the cause, or the cause alone.
    pub fn setup(what: &str, e: impl Display) -> Self {
        if what.is_empty() {
            RunError::Setup(e.to_string())
        } else {
            RunError::Setup(format!("{what}: {e}"))
        }
    }

    pub fn interrupted(during: impl Into<String>) -> Self {
        RunError::Interrupted {
            during: during.into(),
        }
    }
}
