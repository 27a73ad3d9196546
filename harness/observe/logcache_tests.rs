use super::*;

fn e(index: i32, term: i32, command: &str) -> Entry {
    Entry {
        index,
        term,
        command: command.to_string(),
    }
}

/// A node's log as GetLog serves it; `ignores_from` = a server built from the
/// original proto file, which answers every GetLog with the whole log.
struct FakeNode {
    log: Vec<Entry>,
    ignores_from: bool,
    reads: Vec<Read>,
}

impl FakeNode {
    fn new(log: Vec<Entry>) -> Self {
        FakeNode {
            log,
            ignores_from: false,
            reads: Vec::new(),
        }
    }

    fn get_log(&mut self, read: Read) -> Vec<Entry> {
        self.reads.push(read);
        match read {
            Read::From(at) if !self.ignores_from => self.log[at.min(self.log.len())..].to_vec(),
            _ => self.log.clone(),
        }
    }
}

/// What the poller does: one read, and a full read when the page is refused.
fn poll(cache: &mut LogCache, node: &mut FakeNode) -> Vec<Entry> {
    let read = cache.next_read();
    let page = node.get_log(read);
    match cache.accept(read, page) {
        Accepted::Log(log) => log,
        Accepted::NeedFull => match cache.accept(Read::Full, node.get_log(Read::Full)) {
            Accepted::Log(log) => log,
            Accepted::NeedFull => panic!("a full read is always accepted"),
        },
    }
}

fn base() -> Vec<Entry> {
    vec![
        e(0, 0, ""),
        e(1, 1, "SET a 1"),
        e(2, 1, "SET b 2"),
        e(3, 2, "SET c 3"),
    ]
}

#[test]
fn reads_from_the_anchor_and_appends_new_entries() {
    let mut cache = LogCache::new(10);
    let mut node = FakeNode::new(base());
    assert_eq!(poll(&mut cache, &mut node), base());
    node.log.push(e(4, 2, "SET d 4"));
    let log = poll(&mut cache, &mut node);
    assert_eq!(log, node.log);
    assert_eq!(node.reads, vec![Read::Full, Read::From(3)]);
    assert_eq!(cache.paging(), Paging::Honoured);
}

/// A node serving [`base`], read once by a fresh cache, then its log changed by `edit` and
/// read again: what the second poll gave, and the node (its log and the reads it served).
fn reread_after(edit: impl FnOnce(&mut Vec<Entry>)) -> (Vec<Entry>, FakeNode) {
    let mut cache = LogCache::new(10);
    let mut node = FakeNode::new(base());
    poll(&mut cache, &mut node);
    edit(&mut node.log);
    (poll(&mut cache, &mut node), node)
}

#[test]
fn truncation_below_the_anchor_falls_back_to_a_full_read() {
    let (log, node) = reread_after(|log| log.truncate(2));
    assert_eq!(log, node.log);
    assert_eq!(node.reads, vec![Read::Full, Read::From(3), Read::Full]);
}

#[test]
fn another_term_at_the_anchor_falls_back_to_a_full_read() {
    let (log, node) = reread_after(|log| {
        // Entry 3 overwritten by a new leader of term 3, and one entry before it
        // changed too (a node breaking Log Matching must still be seen whole).
        log[2] = e(2, 3, "SET x 9");
        log[3] = e(3, 3, "SET y 9");
    });
    assert_eq!(log, node.log);
    assert_eq!(node.reads, vec![Read::Full, Read::From(3), Read::Full]);
}

#[test]
fn a_server_that_ignores_from_index_is_detected_and_read_whole() {
    let mut cache = LogCache::new(10);
    let mut node = FakeNode::new(base());
    node.ignores_from = true;
    poll(&mut cache, &mut node);
    node.log.push(e(4, 2, "SET d 4"));
    assert_eq!(poll(&mut cache, &mut node), node.log);
    assert_eq!(cache.paging(), Paging::Ignored);
    node.log.push(e(5, 2, "SET e 5"));
    assert_eq!(poll(&mut cache, &mut node), node.log);
    assert_eq!(
        node.reads,
        vec![Read::Full, Read::From(3), Read::Full, Read::Full]
    );
}

#[test]
fn every_nth_read_is_full_and_sees_a_changed_prefix() {
    let mut cache = LogCache::new(3);
    let mut node = FakeNode::new(base());
    poll(&mut cache, &mut node);
    // A prefix change behind an unchanged anchor: invisible to paged reads,
    // seen by the periodic full read.
    node.log[1] = e(1, 1, "SET a 7");
    assert_ne!(poll(&mut cache, &mut node), node.log);
    assert_ne!(poll(&mut cache, &mut node), node.log);
    assert_eq!(poll(&mut cache, &mut node), node.log);
    assert_eq!(
        node.reads,
        vec![Read::Full, Read::From(3), Read::From(3), Read::Full]
    );
}

#[test]
fn an_empty_log_is_always_read_whole() {
    let mut cache = LogCache::new(10);
    let mut node = FakeNode::new(Vec::new());
    assert!(poll(&mut cache, &mut node).is_empty());
    node.log = base();
    assert_eq!(poll(&mut cache, &mut node), base());
    assert_eq!(node.reads, vec![Read::Full, Read::Full]);
}
