//! How suites run side by side without port clashes (the scheme `explore`
//! shares; documented in `suites/README.md`):
//!
//! - **Network namespaces** where the user may create one (root: `unshare -n`;
//!   otherwise unprivileged user namespaces: `unshare -rn`), with `lo` brought
//!   up inside: every suite has the whole port space to itself, so suites with
//!   fixed ports (`{peer_addrs}`, e.g. `blackbox` on 5001…) run in parallel too.
//!   Claims are per namespace: each child gets a state dir of its own.
//! - Else **port offsets**: the child in slot `s` (0 ≤ s < jobs) adds
//!   `s × offset_step` to every node port; slot 0 keeps the suite's own ports.
//!   A suite with fixed ports runs alone, in slot 0.
use std::path::{Path, PathBuf};
use std::process::Command;

/// What the user asked for (`--isolation`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Choice {
    /// Namespaces if they can be created, else port offsets.
    Auto,
    /// Network namespaces only (exit 3 if they cannot be created).
    Netns,
    /// Port offsets only (no namespaces).
    Offsets,
}

/// The scheme in use for an invocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Isolation {
    /// One network namespace per suite; `user`: through a user namespace (`unshare -rn`).
    Netns { user: bool },
    /// Slot `s` shifts every node port by `s × step`.
    Offsets { step: u16 },
}

/// The shell line run inside a new namespace: bring `lo` up, then become the harness.
const IN_NS: &str = "ip link set lo up && exec \"$0\" \"$@\"";

/// The `unshare` flags that work here, if any: `-n` when we may (root or
/// CAP_SYS_ADMIN), else `-rn` (unprivileged user namespaces), each tried by
/// really creating one and bringing `lo` up in it.
pub fn probe_netns() -> Option<bool> {
    let try_flags = |flags: &str| {
        Command::new("unshare")
            .args([flags, "--", "sh", "-c", "ip link set lo up"])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if try_flags("-n") {
        Some(false)
    } else if try_flags("-rn") {
        Some(true)
    } else {
        None
    }
}

/// Decide the scheme. Err (exit 3) when namespaces were demanded and cannot be made.
pub fn decide(choice: Choice, offset_step: u16) -> Result<Isolation, String> {
    let offsets = Isolation::Offsets { step: offset_step };
    match choice {
        Choice::Offsets => Ok(offsets),
        Choice::Auto => Ok(probe_netns().map_or(offsets, |user| Isolation::Netns { user })),
        Choice::Netns => probe_netns()
            .map(|user| Isolation::Netns { user })
            .ok_or_else(|| {
                "--isolation netns: cannot create a network namespace here (`unshare -n` and `unshare -rn` both failed); use --isolation offsets"
                    .to_string()
            }),
    }
}

impl Isolation {
    /// Whether a suite with fixed ports may run next to others.
    pub fn fixed_ports_in_parallel(self) -> bool {
        matches!(self, Isolation::Netns { .. })
    }

    /// The port offset of a child in `slot` (0 for namespaces and for slot 0).
    pub fn offset(self, slot: usize) -> u32 {
        match self {
            Isolation::Netns { .. } => 0,
            Isolation::Offsets { step } => slot as u32 * u32::from(step),
        }
    }

    /// One line for the terminal.
    pub fn describe(self, jobs: usize) -> String {
        match self {
            Isolation::Netns { user: false } => {
                format!("{jobs} at a time, each in its own network namespace (unshare -n)")
            }
            Isolation::Netns { user: true } => format!(
                "{jobs} at a time, each in its own network namespace (unshare -rn, user namespace)"
            ),
            Isolation::Offsets { step } => format!(
                "{jobs} at a time, ports shifted by {step} per parallel slot; suites with fixed ports run alone"
            ),
        }
    }

    /// The child process for `args` (a `raft-harness run …` command line
    /// without the program): the harness itself, or the harness inside a new
    /// network namespace with a state dir of its own (`state_dir`).
    pub fn command(
        self,
        harness: &Path,
        args: &[std::ffi::OsString],
        state_dir: Option<&Path>,
    ) -> Command {
        let mut cmd = match self {
            Isolation::Offsets { .. } => Command::new(harness),
            Isolation::Netns { user } => {
                let mut c = Command::new("unshare");
                c.arg(if user { "-rn" } else { "-n" })
                    .args(["--", "sh", "-c", IN_NS])
                    .arg(harness);
                c
            }
        };
        cmd.args(args);
        if let Some(d) = state_dir {
            cmd.env("RAFT_HARNESS_STATE_DIR", d);
        }
        cmd
    }

    /// The private state dir of the child of `index` (namespaces only): claims
    /// in one namespace concern no other.
    pub fn state_dir(self, base: &Path, index: usize) -> Option<PathBuf> {
        match self {
            Isolation::Netns { .. } => {
                Some(base.join(format!("netns-{}-{index}", std::process::id())))
            }
            Isolation::Offsets { .. } => None,
        }
    }
}

/// Shift every node port of `spec` by `offset` (`--port-offset`). Err (exit
/// 2) for a suite with fixed ports, or a port that would pass 65535, naming the
/// node and its port.
pub fn offset_ports(spec: &mut crate::spec::Spec, offset: u32) -> Result<(), String> {
    if offset == 0 {
        return Ok(());
    }
    if super::select::fixed_ports(spec) {
        return Err(format!(
            "{}: --port-offset {offset}: this suite has fixed ports (a kind passes plain HOST:PORT peers, `{{peer_addrs}}`, whose servers derive their id from the port); run it without an offset",
            spec.file.display()
        ));
    }
    for n in spec.nodes.iter_mut() {
        let moved = u32::from(n.port) + offset;
        n.port = u16::try_from(moved).map_err(|_| {
            format!(
                "{}: --port-offset {offset}: node {} would listen on port {moved} (its port {} + {offset}), above 65535",
                spec.file.display(),
                n.id,
                n.port
            )
        })?;
    }
    Ok(())
}
