//! Network faults under the docker backend: packet filters inside each container's network
//! namespace (entered from the host with `nsenter -t PID -n`, so the harness must be root and
//! the engine local). A cut directed link (A, B) — A's calls to B and their responses, see
//! `crate::net` — is one rule in A's namespace: packets to B's address and port are dropped
//! (`blackhole`) or answered with a TCP reset (`reject`). B's own calls to A leave from other
//! ports and pass, so one-way cuts keep their meaning. The harness reaches nodes through the
//! published loopback ports, whose traffic arrives from the network's gateway, never from a
//! peer address: no rule can cut it.
//!
//! Every sync rewrites the chain `RH-CUT` (hooked from OUTPUT) of each running node in one
//! `iptables-restore --noflush` call. Delay, jitter and loss (`flaky`) are not mapped: such a
//! fault is an error naming the link.
use crate::net::{LinkFault, LinkMode};
use std::collections::BTreeMap;
use std::io::Write as _;
use std::net::SocketAddrV4;
use std::process::{Command, Stdio};

pub const CHAIN: &str = "RH-CUT";

/// The rules of each node's chain: `rules[a]` holds one `-A` line per cut link (a, b).
pub fn rules(
    faults: &[((u32, u32), LinkFault)],
    addr: &dyn Fn(u32) -> SocketAddrV4,
) -> Result<BTreeMap<u32, Vec<String>>, String> {
    let mut out: BTreeMap<u32, Vec<String>> = BTreeMap::new();
    for &((a, b), f) in faults {
        if f.delay_ms > 0 || f.jitter_ms > 0 || f.loss_rate > 0.0 {
            return Err(format!(
                "link {a}→{b}: delay/jitter/loss ({f}) is not supported by the docker backend (only blackhole and reject cuts)"
            ));
        }
        let target = match f.mode {
            LinkMode::Pass => continue,
            LinkMode::Blackhole => "DROP".to_string(),
            LinkMode::Reject => "REJECT --reject-with tcp-reset".to_string(),
        };
        let to = addr(b);
        out.entry(a).or_default().push(format!(
            "-A {CHAIN} -d {}/32 -p tcp --dport {} -j {target}",
            to.ip(),
            to.port()
        ));
    }
    Ok(out)
}

/// The `iptables-restore --noflush` input that makes `CHAIN` hold exactly `lines`.
pub fn restore_input(lines: &[String]) -> String {
    let mut s = format!("*filter\n:{CHAIN} - [0:0]\n");
    for l in lines {
        s.push_str(l);
        s.push('\n');
    }
    s.push_str("COMMIT\n");
    s
}

fn nsenter(pid: i32, args: &[&str], stdin: Option<&str>) -> Result<(), String> {
    let pid_s = pid.to_string();
    let mut cmd = Command::new("nsenter");
    cmd.args(["-t", &pid_s, "-n", "--"])
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot run nsenter (needs root and a local engine): {e}"))?;
    if let (Some(text), Some(mut w)) = (stdin, child.stdin.take()) {
        w.write_all(text.as_bytes())
            .map_err(|e| format!("nsenter -t {pid}: writing rules: {e}"))?;
    }
    let out = child
        .wait_with_output()
        .map_err(|e| format!("nsenter -t {pid}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "`nsenter -t {pid} -n {}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// Make the node whose container runs as host pid `pid` hold exactly `lines`, creating the
/// chain and its OUTPUT hook on first use (a restarted container has a fresh namespace).
pub fn apply(pid: i32, lines: &[String]) -> Result<(), String> {
    nsenter(
        pid,
        &["iptables-restore", "-w", "--noflush"],
        Some(&restore_input(lines)),
    )?;
    if nsenter(pid, &["iptables", "-w", "-C", "OUTPUT", "-j", CHAIN], None).is_err() {
        nsenter(pid, &["iptables", "-w", "-I", "OUTPUT", "-j", CHAIN], None)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(id: u32) -> SocketAddrV4 {
        SocketAddrV4::new([10, 213, 7, 10 + id as u8].into(), 15100 + id as u16)
    }

    #[test]
    fn a_cut_link_is_a_rule_in_the_callers_namespace_only() {
        let r = rules(
            &[
                ((1, 2), LinkFault::BLACKHOLE),
                ((2, 1), LinkFault::PASS),
                ((3, 1), LinkFault::REJECT),
            ],
            &addr,
        )
        .unwrap();
        assert_eq!(
            r[&1],
            vec!["-A RH-CUT -d 10.213.7.12/32 -p tcp --dport 15102 -j DROP"]
        );
        assert_eq!(
            r[&3],
            vec!["-A RH-CUT -d 10.213.7.11/32 -p tcp --dport 15101 -j REJECT --reject-with tcp-reset"]
        );
        assert!(!r.contains_key(&2), "a passing link makes no rule");
    }

    #[test]
    fn delay_and_loss_are_refused_with_the_link_named() {
        for f in [LinkFault::delay(50, 0), LinkFault::loss(0.2)] {
            let e = rules(&[((4, 5), f)], &addr).unwrap_err();
            assert!(e.contains("link 4→5"), "{e}");
        }
    }

    #[test]
    fn restore_input_declares_the_chain_so_it_is_flushed() {
        let s = restore_input(&[]);
        assert_eq!(s, "*filter\n:RH-CUT - [0:0]\nCOMMIT\n");
    }
}
