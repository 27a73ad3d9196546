package raftnode;

import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import raft.RaftServiceOuterClass.AppendEntriesRequest;
import raft.RaftServiceOuterClass.AppendEntriesResponse;
import raft.RaftServiceOuterClass.LogEntry;
import raft.RaftServiceOuterClass.RequestVoteRequest;
import raft.RaftServiceOuterClass.RequestVoteResponse;
import raftnode.CoreTypes.AppendRequest;
import raftnode.CoreTypes.AppendResponse;
import raftnode.CoreTypes.VoteRequest;
import raftnode.CoreTypes.VoteResponse;

/** Conversions between the core's plain records and the protobuf wire types (proto/raft_service.proto). */
final class Wire {
    private Wire() {}

    static RequestVoteRequest toPb(VoteRequest r) {
        return RequestVoteRequest.newBuilder().setTerm(r.term()).setCandidateId(r.candidateId())
                .setLastLogIndex(r.lastLogIndex()).setLastLogTerm(r.lastLogTerm()).build();
    }

    static VoteRequest fromPb(RequestVoteRequest r) {
        return new VoteRequest(r.getTerm(), r.getCandidateId(), r.getLastLogIndex(),
                r.getLastLogTerm());
    }

    static RequestVoteResponse toPb(VoteResponse r) {
        return RequestVoteResponse.newBuilder().setTerm(r.term()).setVoteGranted(r.voteGranted())
                .build();
    }

    static VoteResponse fromPb(RequestVoteResponse r) {
        return new VoteResponse(r.getTerm(), r.getVoteGranted());
    }

    static LogEntry toPb(Entry e) {
        return LogEntry.newBuilder().setIndex(e.index()).setTerm(e.term()).setCommand(e.command())
                .build();
    }

    static AppendEntriesRequest toPb(AppendRequest r) {
        AppendEntriesRequest.Builder b = AppendEntriesRequest.newBuilder().setTerm(r.term())
                .setLeaderId(r.leaderId()).setPrevLogIndex(r.prevLogIndex())
                .setPrevLogTerm(r.prevLogTerm()).setLeaderCommit(r.leaderCommit());
        for (Entry e : r.entries()) {
            b.addEntries(toPb(e));
        }
        return b.build();
    }

    /** Entry indices are implied by prevLogIndex (the wire's index field is informative). */
    static AppendRequest fromPb(AppendEntriesRequest r) {
        List<Entry> entries = new ArrayList<>(r.getEntriesCount());
        for (int i = 0; i < r.getEntriesCount(); i++) {
            LogEntry e = r.getEntries(i);
            entries.add(new Entry(r.getPrevLogIndex() + 1 + i, e.getTerm(), e.getCommand()));
        }
        return new AppendRequest(r.getTerm(), r.getLeaderId(), r.getPrevLogIndex(),
                r.getPrevLogTerm(), entries, r.getLeaderCommit());
    }

    static AppendEntriesResponse toPb(AppendResponse r) {
        AppendEntriesResponse.Builder b = AppendEntriesResponse.newBuilder().setTerm(r.term())
                .setSuccess(r.success());
        r.conflictIndex().ifPresent(b::setConflictIndex);
        r.conflictTerm().ifPresent(b::setConflictTerm);
        return b.build();
    }

    static AppendResponse fromPb(AppendEntriesResponse r) {
        return new AppendResponse(r.getTerm(), r.getSuccess(),
                r.hasConflictIndex() ? OptionalInt.of(r.getConflictIndex()) : OptionalInt.empty(),
                r.hasConflictTerm() ? OptionalInt.of(r.getConflictTerm()) : OptionalInt.empty());
    }
}
