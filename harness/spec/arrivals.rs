//! `[workload] mode` and `max_clients`: closed-loop clients or open-loop arrivals (issue 13 §1).
//!
//! ```toml
//! [workload]
//! mode = "open"        # "closed" (default): each client waits for its answer before the next
//! rate = 40            # open: Poisson arrivals at this total rate (must be > 0)
//! clients = 4          # open: logical clients ready at the start (more are made on demand)
//! max_clients = 200    # open: most requests in flight at once per group (≥ clients)
//! ```
use super::{as_word, ClientGroup, ClientMode, Errs, Fields, Src};

/// Most logical clients a group may have at once (`max_clients`' upper bound).
pub const MAX_CLIENTS: i64 = 10_000;

/// Read `mode` and `max_clients` of a `[workload]` table whose `clients`, `rate` and groups are
/// already read. Errors (each at its key): an open loop without a rate (in the table or in a
/// group), `max_clients` below `clients`, `max_clients` with the closed loop.
pub(super) fn read(
    src: &Src,
    errs: &mut Errs,
    f: &Fields,
    clients: u32,
    rate: f64,
    groups: &[ClientGroup],
) -> (ClientMode, Option<u32>) {
    let mode = f
        .get("mode")
        .and_then(|v| as_word(src, errs, v, "mode", ClientMode::WORDS))
        .unwrap_or_default();
    let max = f
        .uint(src, errs, "max_clients", 1, MAX_CLIENTS)
        .map(|m| m as u32);
    match mode {
        ClientMode::Closed => {
            if max.is_some() {
                errs.help(
                    src,
                    f.key_span("max_clients"),
                    "`max_clients` applies to open-loop arrivals only",
                    "add `mode = \"open\"`, or remove `max_clients` (closed loop: `clients` is the concurrency)",
                );
            }
        }
        ClientMode::Open => open_checks(src, errs, f, clients, rate, groups, max),
    }
    (mode, max)
}

fn open_checks(
    src: &Src,
    errs: &mut Errs,
    f: &Fields,
    clients: u32,
    rate: f64,
    groups: &[ClientGroup],
    max: Option<u32>,
) {
    let no_rate = if rate <= 0.0 && f.get("rate").is_some() {
        Some(f.key_span("rate"))
    } else if rate <= 0.0 {
        Some(f.key_span("mode"))
    } else if groups.iter().any(|g| g.rate <= 0.0) {
        Some(f.key_span("group"))
    } else {
        None
    };
    if let Some(span) = no_rate {
        errs.help(
            src,
            span,
            "open-loop arrivals (`mode = \"open\"`) need a rate above 0 (here 0 = as fast as answers come)",
            "set `rate` (total requests per second) in `[workload]` and every `[[workload.group]]`, or use `mode = \"closed\"`",
        );
    }
    let most = groups.iter().map(|g| g.clients).fold(clients, u32::max);
    if let Some(m) = max.filter(|&m| m < most) {
        errs.help(
            src,
            f.key_span("max_clients"),
            format!("`max_clients` {m} is below `clients` {most}"),
            "`clients` logical clients are made at the start; the cap must allow them",
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::spec::{load, ClientMode, Spec, SpecErrors};

    fn load_text(workload: &str) -> Result<Spec, SpecErrors> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.toml");
        let suite = format!(
            "[kind.rust]\ncommand = [\"bin/node\", \"{{id}}\", \"{{port}}\", \"{{peers}}\"]\n\
             [[node]]\nid = 1\nkind = \"rust\"\n[[node]]\nid = 2\nkind = \"rust\"\n\
             [workload]\ntype = \"register\"\n{workload}\n[[step]]\nwait = \"leader\"\n"
        );
        std::fs::write(&p, suite).unwrap();
        load(&p)
    }

    fn errors(workload: &str) -> String {
        match load_text(workload) {
            Ok(_) => panic!("expected errors for:\n{workload}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn the_closed_loop_stays_the_default_and_the_open_loop_loads() {
        let w = load_text("rate = 40").unwrap().workload.unwrap();
        assert_eq!((w.mode, w.max_clients), (ClientMode::Closed, None));
        let w = load_text("mode = \"open\"\nrate = 40\nmax_clients = 50")
            .unwrap()
            .workload
            .unwrap();
        assert_eq!((w.mode, w.max_clients), (ClientMode::Open, Some(50)));
    }

    #[test]
    fn open_loop_mistakes_are_named_at_their_key() {
        let e = errors("mode = \"open\"");
        assert!(e.contains("need a rate above 0"), "{e}");
        assert!(e.contains("s.toml:11"), "points at `mode`: {e}");
        let e = errors("mode = \"open\"\nrate = 0");
        assert!(e.contains("s.toml:12") && e.contains("need a rate"), "{e}");
        let e = errors("mode = \"open\"\nrate = 10\n[[workload.group]]\nrate = 0");
        assert!(
            e.contains("need a rate above 0"),
            "a group without a rate: {e}"
        );
        let e = errors("mode = \"open\"\nrate = 10\nclients = 8\nmax_clients = 4");
        assert!(e.contains("`max_clients` 4 is below `clients` 8"), "{e}");
        let e = errors("rate = 10\nmax_clients = 4");
        assert!(e.contains("applies to open-loop arrivals only"), "{e}");
        let e = errors("mode = \"opne\"\nrate = 10");
        assert!(e.contains("did you mean \"open\""), "{e}");
        let e = errors("mode = \"open\"\nrate = 10\nmax_clients = 0");
        assert!(e.contains("max_clients"), "{e}");
    }
}
