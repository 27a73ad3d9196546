//! Cancellation, low in the pipeline so every stage may use it: a flag that
//! long work polls ([`Cancel`]: builds, the linearizability search, batches of
//! runs), and [`on_signals`], which calls back on every SIGINT/SIGTERM.
use std::sync::atomic::{AtomicBool, Ordering};

/// A flag that ends running searches (and whatever else polls it) when set.
///
/// Copyable so that `lin::Limits` stays `Copy`: it points at a flag that lives
/// as long as the process (one small allocation per [`Cancel::new`], never
/// freed; a run makes one).
#[derive(Debug, Clone, Copy)]
pub struct Cancel(&'static AtomicBool);

impl Cancel {
    /// A new flag, not set.
    pub fn new() -> Self {
        Cancel(Box::leak(Box::new(AtomicBool::new(false))))
    }
    /// Ask everything polling this flag to stop.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }
    /// Whether [`Cancel::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

impl Default for Cancel {
    fn default() -> Self {
        Cancel::new()
    }
}

/// Two handles are equal when they share one flag.
impl PartialEq for Cancel {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self.0, other.0)
    }
}
impl Eq for Cancel {}

/// Call `each` on every SIGINT and SIGTERM, from a thread of its own.
///
/// The handlers are registered before this returns, so from then on neither
/// signal has its default effect (death). If they cannot be registered (no
/// runtime, no signal driver) nothing is watched and the defaults stay.
pub fn on_signals(mut each: impl FnMut() + Send + 'static) {
    use tokio::signal::unix::{signal, SignalKind};
    let Ok(rt) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        return;
    };
    let signals = {
        let _g = rt.enter();
        (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        )
    };
    let (Ok(mut int), Ok(mut term)) = signals else {
        return;
    };
    std::thread::spawn(move || loop {
        rt.block_on(async {
            tokio::select! {
                _ = int.recv() => {}
                _ = term.recv() => {}
            }
        });
        each();
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flag_is_set_for_every_copy_and_only_for_its_own() {
        let a = Cancel::new();
        let b = a;
        let other = Cancel::new();
        assert!(!b.is_cancelled());
        a.cancel();
        assert!(b.is_cancelled());
        assert!(!other.is_cancelled());
        assert_eq!(a, b);
        assert_ne!(a, other);
    }
}
