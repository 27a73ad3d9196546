use super::*;

const KIND: &str =
    "[kind.r]\ncommand = [\"target/release/rust-node\", \"{id}\", \"{port}\", \"{peers}\"]\n";
const NODES: &str = "[[node]]\nid = 1\nkind = \"r\"\n[[node]]\nid = 2\nkind = \"r\"\n\
                     [[node]]\nid = 3\nkind = \"r\"\n";

/// A suite of three nodes with `cluster` lines and `steps`, loaded (it must validate).
fn suite(cluster: &str, steps: &str) -> Spec {
    let text = format!("[cluster]\nbase_port = 38900\n{cluster}\n{KIND}{NODES}{steps}");
    let (_dir, path) = crate::testutil::temp_file("s.toml", &text);
    crate::spec::load(&path).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

fn docker(mut spec: Spec) -> Spec {
    spec.cluster.backend = Backend::Docker;
    spec
}

const NEMESIS_FLAKY: &str = "[[step]]\nwait = \"leader\"\n[[step]]\nnemesis = true\n\
                             faults = [\"kill\", \"flaky\"]\ninterval_s = 1\nduration_s = 5\n";

#[test]
fn docker_cuts_are_packet_filters_and_rpc_links_are_refused() {
    let process = suite("proxies = true", "");
    assert_eq!(Links::of(&process.cluster), Ok(Links::Proxies));
    assert_eq!(Links::of(&docker(process).cluster), Ok(Links::PacketFilter));
    let plain = suite("", "");
    assert_eq!(Links::of(&plain.cluster), Ok(Links::None));
    assert_eq!(Links::of(&docker(plain).cluster), Ok(Links::None));
    let rpc = suite("network = \"rpc\"", "");
    assert_eq!(Links::of(&rpc.cluster), Ok(Links::Rpc));
    let e = Links::of(&docker(rpc).cluster).unwrap_err();
    assert!(e.contains("cannot have `network = \"rpc\"`"), "{e}");
}

#[test]
fn a_flaky_nemesis_under_docker_is_refused_at_its_step() {
    let spec = docker(suite("proxies = true", NEMESIS_FLAKY));
    let r = refusals(&spec);
    assert_eq!(r.len(), 1, "{r:?}");
    assert!(r[0].contains("s.toml:17: nemesis fault \"flaky\""), "{r:?}");
    assert!(r[0].contains("no delay, jitter or loss"), "{r:?}");
}

#[test]
fn flaky_net_steps_inside_repeats_and_rpc_links_are_refused_under_docker() {
    let steps = "[[step]]\nrepeat = 2\n[[step.steps]]\nnet = \"flaky\"\ntarget = \"all\"\n\
                 delay_ms = 50\n[[step.steps]]\nheal = true\n";
    let r = refusals(&docker(suite("proxies = true", steps)));
    assert_eq!(r.len(), 1, "{r:?}");
    assert!(r[0].contains("`net = \"flaky\"`"), "{r:?}");
    let r = refusals(&docker(suite("network = \"rpc\"", "")));
    assert_eq!(r.len(), 1, "{r:?}");
    assert!(r[0].starts_with("[cluster]: "), "{r:?}");
}

#[test]
fn cuts_under_docker_and_flaky_under_processes_are_accepted() {
    let cuts = "[[step]]\nwait = \"leader\"\n[[step]]\nnet = \"isolate\"\ntarget = \"leader\"\n\
                mode = \"reject\"\n[[step]]\nheal = true\n[[step]]\nnemesis = true\n\
                faults = [\"kill\", \"isolate\", \"halves\"]\ninterval_s = 1\nduration_s = 5\n";
    assert_eq!(
        refusals(&docker(suite("proxies = true", cuts))),
        Vec::<String>::new()
    );
    let process = suite("proxies = true", NEMESIS_FLAKY);
    assert_eq!(refusals(&process), Vec::<String>::new());
}
