//! Wire compatibility with the original project's protocol, read from the compiled descriptor
//! (`raft_harness::proto::DESCRIPTOR`), not from the .proto text: package, service, RPCs, and
//! every original field's name, number, type and label; extension numbers as documented; and no
//! extension reusing an original field number.

use prost::Message;
use prost_types::field_descriptor_proto::{Label, Type};
use prost_types::{DescriptorProto, FieldDescriptorProto, FileDescriptorProto, FileDescriptorSet};

/// (message, field, number, type, repeated, type name for messages/enums)
type Spec = (&'static str, &'static str, i32, Type, bool, &'static str);

const ORIGINAL: &[Spec] = &[
    ("RequestVoteRequest", "term", 1, Type::Int32, false, ""),
    (
        "RequestVoteRequest",
        "candidateId",
        2,
        Type::Int32,
        false,
        "",
    ),
    (
        "RequestVoteRequest",
        "lastLogIndex",
        3,
        Type::Int32,
        false,
        "",
    ),
    (
        "RequestVoteRequest",
        "lastLogTerm",
        4,
        Type::Int32,
        false,
        "",
    ),
    ("RequestVoteResponse", "term", 1, Type::Int32, false, ""),
    (
        "RequestVoteResponse",
        "voteGranted",
        2,
        Type::Bool,
        false,
        "",
    ),
    ("AppendEntriesRequest", "term", 1, Type::Int32, false, ""),
    (
        "AppendEntriesRequest",
        "leaderId",
        2,
        Type::Int32,
        false,
        "",
    ),
    (
        "AppendEntriesRequest",
        "entries",
        3,
        Type::Message,
        true,
        ".raft.LogEntry",
    ),
    (
        "AppendEntriesRequest",
        "prevLogIndex",
        4,
        Type::Int32,
        false,
        "",
    ),
    (
        "AppendEntriesRequest",
        "prevLogTerm",
        5,
        Type::Int32,
        false,
        "",
    ),
    (
        "AppendEntriesRequest",
        "leaderCommit",
        6,
        Type::Int32,
        false,
        "",
    ),
    ("AppendEntriesResponse", "term", 1, Type::Int32, false, ""),
    ("AppendEntriesResponse", "success", 2, Type::Bool, false, ""),
    ("LogEntry", "index", 1, Type::Int32, false, ""),
    ("LogEntry", "term", 2, Type::Int32, false, ""),
    ("LogEntry", "command", 3, Type::String, false, ""),
    (
        "ClientRequestMessage",
        "command",
        1,
        Type::String,
        false,
        "",
    ),
    ("ClientResponseMessage", "success", 1, Type::Bool, false, ""),
    (
        "ClientResponseMessage",
        "message",
        2,
        Type::String,
        false,
        "",
    ),
    ("GetStatusResponse", "state", 1, Type::String, false, ""),
    (
        "GetStatusResponse",
        "current_term",
        2,
        Type::Int32,
        false,
        "",
    ),
    ("GetStatusResponse", "voted_for", 3, Type::Int32, false, ""),
    ("GetStatusResponse", "leader_id", 4, Type::Int32, false, ""),
    (
        "GetLogResponse",
        "entries",
        1,
        Type::Message,
        true,
        ".raft.LogEntry",
    ),
];

/// Extensions documented in proto/raft_service.proto and docs/node-contract.md.
const EXTENSIONS: &[Spec] = &[
    (
        "AppendEntriesResponse",
        "conflict_index",
        3,
        Type::Int32,
        false,
        "",
    ),
    (
        "AppendEntriesResponse",
        "conflict_term",
        4,
        Type::Int32,
        false,
        "",
    ),
    (
        "ClientResponseMessage",
        "leader_id",
        3,
        Type::Int32,
        false,
        "",
    ),
    (
        "ClientResponseMessage",
        "leader_address",
        4,
        Type::String,
        false,
        "",
    ),
    (
        "ClientResponseMessage",
        "result",
        5,
        Type::String,
        false,
        "",
    ),
    (
        "ClientResponseMessage",
        "outcome",
        6,
        Type::Enum,
        false,
        ".raft.Outcome",
    ),
    ("GetStatusResponse", "node_id", 5, Type::Int32, false, ""),
    (
        "GetStatusResponse",
        "commit_index",
        6,
        Type::Int32,
        false,
        "",
    ),
    (
        "GetStatusResponse",
        "last_applied",
        7,
        Type::Int32,
        false,
        "",
    ),
    (
        "GetStatusResponse",
        "last_log_index",
        8,
        Type::Int32,
        false,
        "",
    ),
    (
        "GetStatusResponse",
        "last_log_term",
        9,
        Type::Int32,
        false,
        "",
    ),
    (
        "GetStatusResponse",
        "implementation",
        10,
        Type::String,
        false,
        "",
    ),
    (
        "GetStatusResponse",
        "leader_address",
        11,
        Type::String,
        false,
        "",
    ),
    ("GetLogRequest", "from_index", 1, Type::Int32, false, ""),
    ("GetLogRequest", "max_entries", 2, Type::Int32, false, ""),
];

/// Messages of the original protocol (some have no fields).
const ORIGINAL_MESSAGES: &[&str] = &[
    "RequestVoteRequest",
    "RequestVoteResponse",
    "AppendEntriesRequest",
    "AppendEntriesResponse",
    "LogEntry",
    "ClientRequestMessage",
    "ClientResponseMessage",
    "GetStatusRequest",
    "GetStatusResponse",
    "GetLogRequest",
    "GetLogResponse",
];

fn raft_file() -> FileDescriptorProto {
    let set =
        FileDescriptorSet::decode(raft_harness::proto::DESCRIPTOR).expect("descriptor decodes");
    set.file
        .into_iter()
        .find(|f| f.package() == "raft")
        .expect("a file with package `raft`")
}

fn message<'a>(file: &'a FileDescriptorProto, name: &str) -> &'a DescriptorProto {
    file.message_type
        .iter()
        .find(|m| m.name() == name)
        .unwrap_or_else(|| panic!("message {name} missing"))
}

fn check_field(file: &FileDescriptorProto, spec: &Spec) {
    let (msg, name, number, ty, repeated, type_name) = *spec;
    let m = message(file, msg);
    let f: &FieldDescriptorProto = m
        .field
        .iter()
        .find(|f| f.name() == name)
        .unwrap_or_else(|| panic!("{msg}.{name} missing"));
    assert_eq!(f.number(), number, "{msg}.{name} number");
    assert_eq!(f.r#type(), ty, "{msg}.{name} type");
    let want_label = if repeated {
        Label::Repeated
    } else {
        Label::Optional
    };
    assert_eq!(f.label(), want_label, "{msg}.{name} label");
    if !type_name.is_empty() {
        assert_eq!(f.type_name(), type_name, "{msg}.{name} type name");
    }
}

/// Every field of `file` that is not an original field, whose number an original field of the
/// same message uses: (message, extension field, number).
fn reused_numbers(file: &FileDescriptorProto, original: &[Spec]) -> Vec<(String, String, i32)> {
    let mut out = Vec::new();
    for m in &file.message_type {
        let orig: Vec<&Spec> = original.iter().filter(|s| s.0 == m.name()).collect();
        for f in &m.field {
            let is_original = orig.iter().any(|s| s.1 == f.name());
            if !is_original && orig.iter().any(|s| s.2 == f.number()) {
                out.push((m.name().to_string(), f.name().to_string(), f.number()));
            }
        }
    }
    out
}

#[test]
fn package_service_and_rpcs_match_the_original() {
    let file = raft_file();
    assert_eq!(file.package(), "raft");
    assert_eq!(file.service.len(), 1);
    let svc = &file.service[0];
    assert_eq!(svc.name(), "RaftService");
    let rpcs: Vec<(&str, &str, &str)> = svc
        .method
        .iter()
        .map(|m| (m.name(), m.input_type(), m.output_type()))
        .collect();
    assert_eq!(
        rpcs,
        vec![
            (
                "RequestVote",
                ".raft.RequestVoteRequest",
                ".raft.RequestVoteResponse"
            ),
            (
                "AppendEntries",
                ".raft.AppendEntriesRequest",
                ".raft.AppendEntriesResponse"
            ),
            (
                "ClientRequest",
                ".raft.ClientRequestMessage",
                ".raft.ClientResponseMessage"
            ),
            (
                "GetStatus",
                ".raft.GetStatusRequest",
                ".raft.GetStatusResponse"
            ),
            ("GetLog", ".raft.GetLogRequest", ".raft.GetLogResponse"),
            // Extension: a new RPC after the original five (old peers answer UNIMPLEMENTED).
            (
                "PreVote",
                ".raft.RequestVoteRequest",
                ".raft.RequestVoteResponse"
            ),
        ]
    );
    for m in &svc.method {
        assert!(
            !m.client_streaming() && !m.server_streaming(),
            "{} is unary",
            m.name()
        );
    }
    for name in ORIGINAL_MESSAGES {
        message(&file, name);
    }
}

#[test]
fn every_original_field_keeps_its_name_number_and_type() {
    let file = raft_file();
    for spec in ORIGINAL {
        check_field(&file, spec);
    }
    assert!(message(&file, "GetStatusRequest").field.is_empty());
}

#[test]
fn extension_fields_have_the_documented_numbers() {
    let file = raft_file();
    for spec in EXTENSIONS {
        check_field(&file, spec);
    }
    // No undocumented field anywhere: originals + extensions are the whole protocol.
    let documented = ORIGINAL.len() + EXTENSIONS.len();
    let total: usize = file.message_type.iter().map(|m| m.field.len()).sum();
    assert_eq!(
        total, documented,
        "fields not listed in this test were added"
    );
    let outcome = file
        .enum_type
        .iter()
        .find(|e| e.name() == "Outcome")
        .expect("enum Outcome");
    let values: Vec<(&str, i32)> = outcome
        .value
        .iter()
        .map(|v| (v.name(), v.number()))
        .collect();
    assert_eq!(
        values,
        vec![
            ("OUTCOME_UNSPECIFIED", 0),
            ("APPLIED", 1),
            ("REJECTED", 2),
            ("UNKNOWN", 3)
        ]
    );
}

#[test]
fn no_extension_reuses_an_original_field_number() {
    let file = raft_file();
    assert_eq!(reused_numbers(&file, ORIGINAL), vec![]);
}

/// The check above must be able to fail: a descriptor where an extension takes number 2 of
/// RequestVoteResponse is reported.
#[test]
fn reused_number_check_catches_a_clash() {
    let mut file = raft_file();
    let m = file
        .message_type
        .iter_mut()
        .find(|m| m.name() == "RequestVoteResponse")
        .unwrap();
    m.field.push(FieldDescriptorProto {
        name: Some("reason".into()),
        number: Some(2),
        r#type: Some(Type::String as i32),
        ..Default::default()
    });
    assert_eq!(
        reused_numbers(&file, ORIGINAL),
        vec![("RequestVoteResponse".to_string(), "reason".to_string(), 2)]
    );
}
