//! Steps the Docker backend cannot carry out (docker/README.md), refused before anything
//! starts instead of stopping the run at the step (exit 3).
use super::{each_step_entry, Errs, Node, Src, Value};

/// Every `net = "flaky"` step of `steps` (nested `repeat` steps included) is an error at its
/// value: the Docker backend cuts links with iptables and has no delay, jitter or loss.
pub(super) fn refuse_flaky(src: &Src, errs: &mut Errs, steps: &Node) {
    each_step_entry(steps, &mut |_, k, v| match (k.name.as_str(), &v.value) {
        ("net", Value::Str(w)) if w == "flaky" => errs.help(
            src,
            v.span.clone(),
            "`net = \"flaky\"` is not supported by `backend = \"docker\"` (its links are \
             cut with iptables: no delay, jitter or loss)",
            "use the process backend for flaky links (docker/README.md)",
        ),
        _ => {}
    });
}
