//! Which steps `shrink` must never remove (issue 13 §2): the first `wait = "leader"` (or
//! `"new-leader"`, with or without `kind`) — without it the first fault may hit a cluster
//! that has no leader yet, and the shrunk suite reproduces only by luck — and every such wait
//! that a later step needs: one that aims at a role (`target`, `from` or `to` = `leader`,
//! `follower` or `candidate`, or a `nemesis`, which aims at the leader) before the next wait.
use toml::Value;

/// Words of a target that are only defined while the cluster has a leader.
const ROLE_TARGETS: &[&str] = &["leader", "follower", "candidate"];

fn is_leader_wait(step: &Value) -> bool {
    matches!(
        step.get("wait").and_then(Value::as_str),
        Some("leader" | "new-leader")
    )
}

/// True when the step aims at a role, so it needs a leader elected before it.
fn needs_leader(step: &Value) -> bool {
    if step.get("nemesis").is_some() {
        return true;
    }
    ["target", "from", "to"].iter().any(|k| {
        step.get(*k)
            .and_then(Value::as_str)
            .is_some_and(|w| ROLE_TARGETS.contains(&w))
    })
}

/// `keep[i]`: step i must stay in every candidate (see the module doc). Steps inside a
/// `repeat` are not looked into: the whole `repeat` counts as one step that needs a leader
/// when any of its steps does.
pub fn needed_waits(steps: &[Value]) -> Vec<bool> {
    let mut keep = vec![false; steps.len()];
    let mut last_wait: Option<usize> = None;
    for (i, s) in steps.iter().enumerate() {
        if is_leader_wait(s) {
            if last_wait.is_none() {
                keep[i] = true;
            }
            last_wait = Some(i);
            continue;
        }
        let inner = s.get("steps").and_then(Value::as_array);
        let needs = needs_leader(s) || inner.is_some_and(|v| v.iter().any(needs_leader));
        if let (true, Some(w)) = (needs, last_wait) {
            keep[w] = true;
        }
    }
    keep
}

#[cfg(test)]
mod tests {
    use super::*;

    fn steps(text: &str) -> Vec<Value> {
        let t: toml::Table = toml::from_str(text).unwrap();
        t["step"].as_array().unwrap().clone()
    }

    #[test]
    fn the_first_leader_wait_and_the_waits_targeted_steps_need_are_kept() {
        let s = steps(
            r#"
            step = [
              { wait = "leader", kind = "python", timeout_s = 60 },
              { workload = "start" },
              { fault = "kill", target = "random", label = "f1" },
              { wait = "new-leader" },
              { sleep_s = 1 },
              { msg = "duplicate", from = "leader", to = "all" },
              { heal = true },
              { wait = "leader" },
              { fault = "pause", target = 2 },
              { wait = "caught-up" },
            ]"#,
        );
        let keep = needed_waits(&s);
        // The first wait; the new-leader wait the msg step from the leader needs. Not the
        // last leader wait (only a fixed id follows), nor any non-wait step.
        let kept: Vec<usize> = (0..s.len()).filter(|&i| keep[i]).collect();
        assert_eq!(kept, [0, 3]);
    }

    #[test]
    fn a_nemesis_or_a_repeat_aiming_at_the_leader_keeps_its_wait() {
        let s = steps(
            r#"
            step = [
              { fault = "kill", target = 1 },
              { wait = "leader" },
              { fault = "restart", target = 1 },
              { wait = "leader" },
              { repeat = 2, steps = [{ fault = "stop", target = "leader" }, { fault = "restart" }] },
              { wait = "leader" },
              { nemesis = true, faults = ["kill"] },
            ]"#,
        );
        let kept: Vec<usize> = {
            let keep = needed_waits(&s);
            (0..s.len()).filter(|&i| keep[i]).collect()
        };
        assert_eq!(kept, [1, 3, 5]);
        assert!(needed_waits(&[]).is_empty());
    }
}
