//! Waiting for a process fact that gives no event to await (a node's processes gone from
//! /proc, a log pipe drained): ask again every `period` until it holds or `limit` passes.
use std::time::{Duration, Instant};

/// Asks `holds` every `period` (on the runtime's timer, never blocking a worker thread)
/// until it returns true (→ true) or `limit` has passed since the call (→ false). It is
/// always asked at least once, and once more after the last sleep.
pub async fn until(limit: Duration, period: Duration, mut holds: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + limit;
    loop {
        if let Some(answer) = settled(end, &mut holds) {
            return answer;
        }
        tokio::time::sleep(period).await;
    }
}

/// [`until`] for code with no runtime to wait on (`Drop`, a build's blocking thread,
/// tests): blocks the calling thread.
pub fn until_blocking(limit: Duration, period: Duration, mut holds: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + limit;
    loop {
        if let Some(answer) = settled(end, &mut holds) {
            return answer;
        }
        std::thread::sleep(period);
    }
}

/// One look: `Some(true)` once `holds`, `Some(false)` when it does not and `end` has passed,
/// `None` to look again.
fn settled(end: Instant, holds: &mut impl FnMut() -> bool) -> Option<bool> {
    if holds() {
        Some(true)
    } else if Instant::now() >= end {
        Some(false)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_condition_that_comes_true_ends_the_wait_with_true() {
        let mut asked = 0;
        let held = until_blocking(Duration::from_secs(60), Duration::from_millis(1), || {
            asked += 1;
            asked == 3
        });
        assert!(held);
        assert_eq!(asked, 3);
    }

    #[tokio::test]
    async fn a_condition_that_never_holds_gives_false_after_the_limit() {
        let mut asked = 0;
        let held = until(Duration::ZERO, Duration::from_millis(1), || {
            asked += 1;
            false
        })
        .await;
        assert!(!held);
        assert_eq!(asked, 1, "asked once even with no time to wait");
    }
}
