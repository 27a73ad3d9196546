#!/usr/bin/env python3
"""Rust functions longer than N lines (default 80), longest first.

Usage: benches/shape/fn_lengths.py harness [N]. Braces are matched with strings, chars and
comments skipped; a function is counted from its `fn` line to its closing brace.
"""
import pathlib
import re
import sys

LIMIT = int(sys.argv[2]) if len(sys.argv) > 2 else 80
root = pathlib.Path(sys.argv[1])
FN = re.compile(r'^\s*(pub(\([^)]*\))?\s+)?(const\s+)?(async\s+)?(unsafe\s+)?(extern\s+"[^"]*"\s+)?fn\s+(\w+)')
def strip(line, state):
    out = []; i = 0
    while i < len(line):
        c = line[i]
        if state['block']:
            if line.startswith('*/', i): state['block'] = False; i += 2; continue
            i += 1; continue
        if state['str']:
            if state['raw'] is not None:
                end = '"' + '#' * state['raw']
                if line.startswith(end, i): state['str'] = False; state['raw'] = None; i += len(end); continue
                i += 1; continue
            if c == '\\': i += 2; continue
            if c == '"': state['str'] = False
            i += 1; continue
        if line.startswith('//', i): break
        if line.startswith('/*', i): state['block'] = True; i += 2; continue
        m = re.match(r'b?r(#*)"', line[i:])
        if m and (i == 0 or not (line[i-1].isalnum() or line[i-1] == '_')):
            state['str'] = True; state['raw'] = len(m.group(1)); i += m.end(); continue
        if c == '"': state['str'] = True; i += 1; continue
        m = re.match(r"'(\\.|[^\\'])'|'\\u\{[0-9a-fA-F]+\}'", line[i:])
        if m: i += m.end(); continue
        out.append(c); i += 1
    return ''.join(out)
rows = []
for p in sorted(root.rglob('*.rs')):
    lines = p.read_text().splitlines()
    state = {'block': False, 'str': False, 'raw': None}
    clean = [strip(l, state) for l in lines]
    for i, l in enumerate(clean):
        m = FN.match(l)
        if not m: continue
        depth = 0; started = False
        for j in range(i, len(clean)):
            for ch in clean[j]:
                if ch == '{': depth += 1; started = True
                elif ch == '}': depth -= 1
                elif ch == ';' and not started and depth == 0: break
            else:
                if started and depth == 0:
                    n = j - i + 1
                    if n > LIMIT: rows.append((n, f'{p}:{i+1}', m.group(7)))
                    break
                continue
            break
for n, loc, name in sorted(rows, reverse=True): print(f'{n:4d}  {name:30s} {loc}')
