//! Steps the Docker backend cannot carry out (docker/README.md), refused before anything
//! starts instead of stopping the run at the step (exit 3).
use super::{each_step_entry, Errs, Node, Src, Value};

/// Every `net = "flaky"` step and every `"flaky"` in a nemesis' `faults` (nested `repeat`
/// steps included) is an error at its value: the Docker backend cuts links with iptables and
/// has no delay, jitter or loss (`docker::fit` refuses the same at run time).
pub(super) fn refuse_flaky(src: &Src, errs: &mut Errs, steps: &Node) {
    let mut refuse = |at: &Node, what: &str| {
        errs.help(
            src,
            at.span.clone(),
            format!(
                "{what} is not supported by `backend = \"docker\"` (its links are cut with \
                 iptables: no delay, jitter or loss)"
            ),
            "use the process backend for flaky links (docker/README.md)",
        )
    };
    let flaky = |n: &Node| matches!(&n.value, Value::Str(w) if w == "flaky");
    each_step_entry(steps, &mut |_, k, v| match (k.name.as_str(), &v.value) {
        ("net", _) if flaky(v) => refuse(v, "`net = \"flaky\"`"),
        ("faults", Value::Array(items)) => {
            for it in items.iter().filter(|i| flaky(i)) {
                refuse(it, "nemesis fault \"flaky\"");
            }
        }
        _ => {}
    });
}
