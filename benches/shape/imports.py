#!/usr/bin/env python3
"""List `crate::X` edges between top modules of harness/ and flag those pointing up the pipeline.
Usage: benches/shape/imports.py harness [--all]  (--all lists the downward edges too).
The ranks below follow the pipeline of harness/lib.rs (spec → cluster → schedule →
history/trace → check → report); a module imports only its own rank or lower ones.
"""
import collections
import pathlib
import re
import sys

root = pathlib.Path(sys.argv[1])
# Pipeline order, low to high. Modules on one rank may use each other.
RANK = {
 'proto': 0, 'cancel': 0, 'progress': 0, 'wait': 0, 'ports': 1, 'client': 1,
 'spec': 2, 'trace': 2, 'history': 2,
 'cluster': 3, 'docker': 3, 'net': 3,
 'observe': 4, 'workload': 4, 'schedule': 5,
 'lin': 6, 'check': 6, 'report': 7,
 'run': 8, 'runner': 9, 'explore': 10, 'main': 11,
}
def top(p):
    rel = p.relative_to(root)
    parts = rel.parts
    name = parts[0][:-3] if len(parts) == 1 else parts[0]
    return {'explore_cli': 'main', 'lib': 'lib'}.get(name, name)
PAT = re.compile(r'(?:crate|raft_harness)::(\w+)')
edges = collections.defaultdict(set)
for p in sorted(root.rglob('*.rs')):
    src = top(p)
    in_test = False
    for i, line in enumerate(p.read_text().splitlines(), 1):
        if re.match(r'\s*#\[cfg\(test\)\]', line): in_test = True
        code = line.split('//')[0]
        for m in PAT.finditer(code):
            dst = m.group(1)
            if dst == src or dst not in RANK or src not in RANK: continue
            edges[(src, dst)].add(f'{p}:{i}' + (' (test)' if in_test else ''))
up = 0
for (s, d), places in sorted(edges.items()):
    flag = RANK[d] > RANK[s]
    up += flag
    if flag or '--all' in sys.argv:
        print(f"{'UP  ' if flag else '    '}{s} -> {d}: {len(places)} ({min(places)})")
print(f'{len(edges)} edges, {up} upward')
