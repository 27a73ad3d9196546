use super::*;

const TCP: &str = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1389 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1 0000000000000000 100 0 0 10 0
   1: 0100007F:1389 0100007F:D2F0 01 00000000:00000000 00:00000000 00000000     0        0 4343 1 0000000000000000 20 4 30 10 -1
   2: 00000000:138A 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4444 1 0000000000000000 100 0 0 10 0
   3: 0200007F:138B 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4545 1 0000000000000000 100 0 0 10 0
";

const TCP6: &str = "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000001000000:138C 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 5151 1 0000000000000000 100 0 0 10 0
   1: 0000000000000000FFFF00000200007F:138D 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 5252 1 0000000000000000 100 0 0 10 0
   2: 00000000000000000000000000000000:138E 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 5353 1 0000000000000000 100 0 0 10 0
";

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// Inodes of `table` that block a node on `addr:port`.
fn blocking(table: &str, addr: &str, port: u16) -> Vec<u64> {
    parse_listeners(table)
        .into_iter()
        .filter(|l| l.port == port && conflicts(l.addr, ip(addr)))
        .map(|l| l.inode)
        .collect()
}

#[test]
fn finds_only_listening_sockets_with_their_addresses() {
    let ls = parse_listeners(TCP);
    // The established connection on 5001 (state 01) is not a listener.
    assert_eq!(ls.len(), 3);
    assert_eq!(
        ls[0],
        Listener {
            addr: ip("127.0.0.1"),
            port: 5001,
            inode: 4242
        }
    );
    assert_eq!(ls[1].addr, ip("0.0.0.0"));
    assert_eq!(ls[2].addr, ip("127.0.0.2"));
    let ls6 = parse_listeners(TCP6);
    assert_eq!(ls6[0].addr, ip("::1"));
    assert_eq!(ls6[1].addr, ip("::ffff:127.0.0.2"));
    assert_eq!(ls6[2].addr, ip("::"));
}

#[test]
fn a_listener_blocks_only_its_own_address_or_as_a_wildcard() {
    assert_eq!(blocking(TCP, "127.0.0.1", 5001), vec![4242]);
    // 0.0.0.0:5002 blocks every address on 5002.
    assert_eq!(blocking(TCP, "127.0.0.1", 5002), vec![4444]);
    assert_eq!(blocking(TCP, "127.0.0.7", 5002), vec![4444]);
    // 127.0.0.2:5003 does not block 127.0.0.1:5003, but blocks itself.
    assert!(blocking(TCP, "127.0.0.1", 5003).is_empty());
    assert_eq!(blocking(TCP, "127.0.0.2", 5003), vec![4545]);
    assert!(blocking(TCP, "127.0.0.1", 5009).is_empty());
    // IPv6: ::1 is not 127.0.0.1; a mapped 127.0.0.2 is 127.0.0.2; :: blocks all.
    assert!(blocking(TCP6, "127.0.0.1", 5004).is_empty());
    assert_eq!(blocking(TCP6, "::1", 5004), vec![5151]);
    assert!(blocking(TCP6, "127.0.0.1", 5005).is_empty());
    assert_eq!(blocking(TCP6, "127.0.0.2", 5005), vec![5252]);
    assert_eq!(blocking(TCP6, "127.0.0.1", 5006), vec![5353]);
    // A node that binds the wildcard conflicts with any listener on its port.
    assert_eq!(blocking(TCP, "0.0.0.0", 5003), vec![4545]);
}

#[test]
fn markers_round_trip_and_malformed_ones_are_rejected() {
    let m = Marker {
        run: "20261130-074500-4242".into(),
        node: 2,
        incarnation: 3,
        owner: Owner {
            pid: 4242,
            start: 987654,
        },
    };
    assert_eq!(m.to_string(), "20261130-074500-4242/2/3/4242.987654");
    assert_eq!(Marker::parse(&m.to_string()), Some(m));
    for bad in [
        "",
        "20261130-074500-4242",
        "r/2/3",
        "r/2/3/4242",
        "r/x/3/1.2",
        "r/2/-1/1.2",
        "r/2/3/1.2/extra",
        "/2/3/1.2",
        "r/2/3/a.b",
    ] {
        assert_eq!(Marker::parse(bad), None, "{bad:?} was accepted");
    }
}

fn t(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

const ME: u32 = 1000;

fn holder(uid: u32, cmd: &[&str], marker: Option<&str>) -> Holder {
    Holder {
        pid: 77,
        uid,
        cmdline: t(cmd),
        marker: marker.map(|m| Marker::parse(m).unwrap()),
    }
}

fn verdict(h: &Holder, port: u16, programs: &[String]) -> Verdict {
    // Harness pid 10 is alive, every other is dead.
    classify(h, port, programs, ME, &|o: &Owner| o.pid == 10)
}

#[test]
fn a_marked_process_is_a_leftover_only_if_its_run_is_dead_and_ours() {
    let progs = t(&["raft_server.py"]);
    let live = holder(ME, &["anything"], Some("r1/1/1/10.5"));
    assert!(matches!(
        verdict(&live, 5001, &progs),
        Verdict::LiveRun(m) if m.run == "r1"
    ));
    let dead = holder(ME, &["anything"], Some("r2/3/2/11.5"));
    assert!(matches!(
        verdict(&dead, 5001, &progs),
        Verdict::Leftover(m) if m.node == 3 && m.incarnation == 2
    ));
    let theirs = holder(ME + 1, &["anything"], Some("r2/3/2/11.5"));
    assert_eq!(verdict(&theirs, 5001, &progs), Verdict::Stranger);
}

#[test]
fn hand_started_servers_are_recognised_only_for_this_user_and_port() {
    let tmpl = t(&[
        "python-node/.venv/bin/python",
        "python-node/raft_server.py",
        "{id}",
        "{port}",
    ]);
    let progs = program_names(&tmpl, &[]);
    assert_eq!(progs, t(&["raft_server.py"]));
    let by_hand = holder(ME, &["python3", "/x/raft_server.py", "1", "5001"], None);
    assert_eq!(verdict(&by_hand, 5001, &progs), Verdict::HandStarted);
    // Same program on another port, or another program on this port: a stranger.
    assert_eq!(verdict(&by_hand, 5002, &progs), Verdict::Stranger);
    let other = holder(ME, &["nginx", "5001"], None);
    assert_eq!(verdict(&other, 5001, &progs), Verdict::Stranger);
    // Another user's server, though it runs the node program on this port.
    let theirs = holder(ME + 1, &["python3", "/x/raft_server.py", "1", "5001"], None);
    assert_eq!(verdict(&theirs, 5001, &progs), Verdict::Stranger);
}

#[test]
fn hand_started_java_nodes_are_recognised_both_ways() {
    // The java kind of suites/kinds.toml: `java-node/run.sh`, which execs the jar.
    let tmpl = t(&["java-node/run.sh", "{id}", "{port}", "{peers}"]);
    let progs = program_names(&tmpl, &t(&["raft-node.jar"]));
    let jar = holder(
        ME,
        &[
            "java",
            "-jar",
            "java-node/target/raft-node.jar",
            "3",
            "5003",
            "localhost:5001",
            "localhost:5002",
        ],
        None,
    );
    assert_eq!(verdict(&jar, 5003, &progs), Verdict::HandStarted);
    // What `java-node/run.sh 3 5003 ...` looks like once it has exec'd java.
    let via_run_sh = holder(
        ME,
        &[
            "java",
            "-XX:TieredStopAtLevel=1",
            "-XX:+UseSerialGC",
            "-XX:-UsePerfData",
            "-Xss512k",
            "-XX:SharedArchiveFile=/home/u/raft/java-node/target/raft-node.jsa",
            "-Xlog:cds*=off",
            "-jar",
            "/home/u/raft/java-node/target/raft-node.jar",
            "3",
            "5003",
            "localhost:5001",
        ],
        None,
    );
    assert_eq!(verdict(&via_run_sh, 5003, &progs), Verdict::HandStarted);
    // The script itself, before it execs (bash java-node/run.sh 3 5003).
    let script = holder(ME, &["bash", "java-node/run.sh", "3", "5003"], None);
    assert_eq!(verdict(&script, 5003, &progs), Verdict::HandStarted);
    // Without the kind's extra program name the jar is not recognised.
    let only_cmd = program_names(&tmpl, &[]);
    assert_eq!(verdict(&jar, 5003, &only_cmd), Verdict::Stranger);
    // Another java program on the port is a stranger.
    let other = holder(ME, &["java", "-jar", "/opt/kafka.jar", "5003"], None);
    assert_eq!(verdict(&other, 5003, &progs), Verdict::Stranger);
}

#[test]
fn start_time_of_self_is_stable() {
    let me = Owner::me();
    assert!(me.start > 0);
    assert_eq!(Some(me.start), start_time(me.pid));
    assert!(is_alive(me.pid));
    assert!(me.alive());
    let reused = Owner {
        pid: me.pid,
        start: me.start + 1,
    };
    assert!(!reused.alive(), "a different start time is another process");
    assert_eq!(uid_of(me.pid), Some(nix::unistd::getuid().as_raw()));
}

/// `command` and `programs` of `[kind.NAME]` in suites/kinds.toml.
fn shipped_kind(name: &str) -> (Vec<String>, Vec<String>) {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("suites/kinds.toml");
    let text = std::fs::read_to_string(&file).expect("suites/kinds.toml is readable");
    let table: toml::Table = text.parse().expect("suites/kinds.toml is TOML");
    let kind = &table["kind"][name];
    let strings = |key: &str| -> Vec<String> {
        kind.get(key)
            .and_then(|v| v.as_array())
            .map(|a| {
                a.iter()
                    .map(|s| s.as_str().expect("a string").to_string())
                    .collect()
            })
            .unwrap_or_default()
    };
    let command = strings("command");
    assert!(!command.is_empty(), "[kind.{name}] has a command");
    (command, strings("programs"))
}

#[test]
fn the_shipped_java_kind_recognises_a_hand_started_jar() {
    // suites/kinds.toml (included by the shipped suites): its java kind runs run.sh. Read as
    // plain TOML so that ports, below spec in the pipeline, does not import it.
    let (command, programs) = shipped_kind("java");
    let progs = program_names(&command, &programs);
    let by_hand = holder(
        ME,
        &[
            "java",
            "-jar",
            "java-node/target/raft-node.jar",
            "5",
            "15105",
            "localhost:15101",
        ],
        None,
    );
    assert_eq!(verdict(&by_hand, 15105, &progs), Verdict::HandStarted);
    // The rust kind does not claim a java server.
    let (command, programs) = shipped_kind("rust");
    let rust_progs = program_names(&command, &programs);
    assert_eq!(verdict(&by_hand, 15105, &rust_progs), Verdict::Stranger);
}

#[test]
fn a_listening_socket_is_traced_to_this_process_and_its_marker_facts() {
    // Port 30302 is this test's (range 30300–30399).
    let l = std::net::TcpListener::bind("127.0.0.1:30302").expect("port 30302 free");
    let here = ip("127.0.0.1");
    assert_eq!(listening_inodes(here, 30302).len(), 1);
    // The wildcard conflicts, another address on the port does not.
    assert_eq!(listening_inodes(ip("0.0.0.0"), 30302).len(), 1);
    assert!(listening_inodes(ip("127.0.0.2"), 30302).is_empty());
    let hs = holders(here, 30302);
    let me = std::process::id() as i32;
    assert_eq!(hs.iter().map(|h| h.pid).collect::<Vec<_>>(), vec![me]);
    assert_eq!(hs[0].uid, nix::unistd::getuid().as_raw());
    assert_eq!(hs[0].cmdline, std::env::args().collect::<Vec<_>>());
    drop(l);
    assert!(holders(here, 30302).is_empty(), "closed socket still held");
    // Facts of a process that does not exist: none, and never alive.
    assert_eq!(start_time(i32::MAX), None);
    assert_eq!(uid_of(i32::MAX), None);
    assert!(cmdline(i32::MAX).is_empty() && !is_alive(i32::MAX));
    assert!(environ(std::process::id() as i32).is_some_and(|e| !e.is_empty()));
}

#[test]
fn a_malformed_table_yields_no_listeners() {
    assert!(parse_listeners("").is_empty());
    assert!(parse_listeners("header\n  0: zz:zz 00000000:0000 0A\n").is_empty());
}
