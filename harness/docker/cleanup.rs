//! Leftovers of dead runs on the engine: containers and networks carrying the run labels
//! (see [`super::LABEL_RUN`]) whose harness is certainly gone are removed; a live run's are
//! never touched — the rule of `cluster::cleanup` for processes, by label instead of marker.
//!
//! Dead means: made on this machine (same host name) and either in an earlier boot or by a
//! harness pid that is not alive with the recorded start time. Objects made by a harness on
//! another machine (a shared remote engine) are left alone: their owner cannot be checked.
use super::{cli, LABEL_BOOT, LABEL_OWNER, LABEL_RUN};
use crate::ports::Owner;

/// Host-name label (with [`LABEL_BOOT`] it says where the owner pid means something).
pub const LABEL_HOST: &str = "org.raft-harness.host";

/// One labelled object as listed by the engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Labelled {
    pub id: String,
    pub run: String,
    pub owner: String,
    pub boot: String,
    pub host: String,
}

/// This machine, as the labels name it.
#[derive(Debug, Clone)]
pub struct Here {
    pub host: String,
    pub boot: String,
}

impl Here {
    pub fn now() -> Here {
        Here {
            host: hostname(),
            boot: super::boot_id(),
        }
    }
}

pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

/// `PID.START` → Owner.
pub fn parse_owner(s: &str) -> Option<Owner> {
    let (pid, start) = s.split_once('.')?;
    Some(Owner {
        pid: pid.parse().ok()?,
        start: start.parse().ok()?,
    })
}

/// The object's harness is certainly gone (see the module doc). Unreadable labels: not dead.
pub fn is_dead(o: &Labelled, here: &Here, alive: &dyn Fn(&Owner) -> bool) -> bool {
    if o.host.is_empty() || o.host != here.host || here.boot.is_empty() {
        return false;
    }
    if o.boot != here.boot {
        return !o.boot.is_empty();
    }
    match parse_owner(&o.owner) {
        Some(owner) => !alive(&owner),
        None => false,
    }
}

const FORMAT: &str = "{{.ID}}\t{{.Label \"org.raft-harness.run\"}}\t{{.Label \"org.raft-harness.owner\"}}\t{{.Label \"org.raft-harness.boot\"}}\t{{.Label \"org.raft-harness.host\"}}";

/// Parse the lines of [`FORMAT`].
pub fn parse_list(text: &str) -> Vec<Labelled> {
    text.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (f.len() == 5).then(|| Labelled {
                id: f[0].into(),
                run: f[1].into(),
                owner: f[2].into(),
                boot: f[3].into(),
                host: f[4].into(),
            })
        })
        .collect()
}

/// Every labelled container and network (all states).
pub fn list() -> Result<(Vec<Labelled>, Vec<Labelled>), String> {
    let filter = format!("label={LABEL_RUN}");
    let c = cli(&["ps", "-a", "--filter", &filter, "--format", FORMAT])?;
    let n = cli(&["network", "ls", "--filter", &filter, "--format", FORMAT])?;
    Ok((parse_list(&c), parse_list(&n)))
}

/// Remove the containers, then the networks, of dead runs. Returns one line per run removed.
pub fn remove_dead(here: &Here) -> Result<Vec<String>, String> {
    let (containers, networks) = list()?;
    let alive = |o: &Owner| o.alive();
    let mut lines = Vec::new();
    let dead_c: Vec<&Labelled> = containers
        .iter()
        .filter(|o| is_dead(o, here, &alive))
        .collect();
    if !dead_c.is_empty() {
        let mut args = vec!["rm", "-f", "-v"];
        args.extend(dead_c.iter().map(|o| o.id.as_str()));
        cli(&args)?;
    }
    for o in &dead_c {
        lines.push(format!(
            "removed container {} of dead run {} (harness {})",
            o.id, o.run, o.owner
        ));
    }
    for o in networks.iter().filter(|o| is_dead(o, here, &alive)) {
        cli(&["network", "rm", &o.id])?;
        lines.push(format!(
            "removed network {} of dead run {} (harness {})",
            o.id, o.run, o.owner
        ));
    }
    Ok(lines)
}

/// The labels every object of a run carries.
pub fn labels(run_id: &str, owner: Owner, here: &Here) -> Vec<String> {
    vec![
        format!("{LABEL_RUN}={run_id}"),
        format!("{LABEL_OWNER}={}.{}", owner.pid, owner.start),
        format!("{LABEL_BOOT}={}", here.boot),
        format!("{LABEL_HOST}={}", here.host),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(owner: &str, boot: &str, host: &str) -> Labelled {
        Labelled {
            id: "c1".into(),
            run: "r".into(),
            owner: owner.into(),
            boot: boot.into(),
            host: host.into(),
        }
    }

    fn here() -> Here {
        Here {
            host: "h".into(),
            boot: "b".into(),
        }
    }

    #[test]
    fn a_dead_owner_on_this_boot_is_dead_and_a_live_one_is_not() {
        let dead = |_: &Owner| false;
        let live = |_: &Owner| true;
        assert!(is_dead(&obj("42.7", "b", "h"), &here(), &dead));
        assert!(!is_dead(&obj("42.7", "b", "h"), &here(), &live));
    }

    #[test]
    fn an_earlier_boot_is_dead_whatever_its_pid() {
        let live = |_: &Owner| true;
        assert!(is_dead(&obj("42.7", "old", "h"), &here(), &live));
    }

    #[test]
    fn other_machines_and_unreadable_labels_are_never_dead() {
        let dead = |_: &Owner| false;
        for o in [
            obj("42.7", "b", "other"),
            obj("42.7", "b", ""),
            obj("garbage", "b", "h"),
            obj("", "b", "h"),
            obj("42.7", "", "h"),
        ] {
            assert!(!is_dead(&o, &here(), &dead), "{o:?}");
        }
    }

    #[test]
    fn list_lines_parse_and_short_lines_are_skipped() {
        let l = parse_list("abc\trun1\t1.2\tb\th\nbroken line\n");
        assert_eq!(
            l,
            vec![obj("1.2", "b", "h")]
                .into_iter()
                .map(|mut o| {
                    o.id = "abc".into();
                    o.run = "run1".into();
                    o
                })
                .collect::<Vec<_>>()
        );
    }
}
