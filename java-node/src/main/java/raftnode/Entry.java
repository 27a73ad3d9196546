package raftnode;

/** One log entry. Indices are 0-based; the leader's no-op has the empty command. */
record Entry(int index, int term, String command) {}
