#!/usr/bin/env python3
"""
The dependency graph of the module's C files, from function calls: file A
depends on file B when A calls a function B defines (not static).  Calls
through pointers (lk->done, call->done, f->done) are no edges: that is how
a lower file reports upward.

    tools/depgraph.py [--dot] [--allow DIR]... [TOP]

Prints each file's dependencies, then every circle (a strongly connected
set of two or more files).  Exits 1 when a circle holds a file outside
the allowed directories (default: src/limit/, the edge limiter, a wing of
its own), else 0.  --dot prints the graph for Graphviz instead.
"""

import os
import re
import sys

COMMENT = re.compile(r'/\*.*?\*/|//[^\n]*', re.S)
STRING = re.compile(r'"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'')
# a definition: the name at the start of a line, then "(", in nginx style
# (the return type on the line before), ending with ")" and "{" later
DEFINITION = re.compile(r'^([A-Za-z_][A-Za-z0-9_]*)\(', re.M)
CALL = re.compile(r'\b([A-Za-z_][A-Za-z0-9_]*)\s*\(')
KEYWORDS = {'if', 'for', 'while', 'switch', 'return', 'sizeof', 'defined',
            '__attribute__', 'offsetof', 'do'}


def strip(text):
    text = COMMENT.sub(' ', text)
    text = STRING.sub('""', text)
    # preprocessor lines: macros are no definitions of ours
    return re.sub(r'^\s*#(?:[^\n]*\\\n)*[^\n]*', '', text, flags=re.M)


def sources(top):
    files = []
    for base in ('ngx_http_osint_module.c', 'src'):
        path = os.path.join(top, base)
        if os.path.isfile(path):
            files.append(base)
            continue
        for root, _, names in os.walk(path):
            for name in names:
                if name.endswith('.c'):
                    rel = os.path.relpath(os.path.join(root, name), top)
                    files.append(rel)
    return sorted(files)


def graph(top):
    text = {}
    defined = {}

    for f in sources(top):
        with open(os.path.join(top, f), encoding='utf-8',
                  errors='replace') as fh:
            text[f] = strip(fh.read())

    for f, t in text.items():
        for m in DEFINITION.finditer(t):
            line_start = t.rfind('\n', 0, m.start() - 1)
            before = t[line_start + 1:m.start() - 1]
            if 'static' in before.split():
                continue
            defined.setdefault(m.group(1), f)

    edges = {f: set() for f in text}

    for f, t in text.items():
        for m in CALL.finditer(t):
            name = m.group(1)
            if name in KEYWORDS:
                continue
            g = defined.get(name)
            if g and g != f:
                edges[f].add(g)

    return edges


def circles(edges):
    """Tarjan's strongly connected components of two or more files"""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            scc = []
            while True:
                w = stack.pop()
                on.discard(w)
                scc.append(w)
                if w == v:
                    break
            if len(scc) > 1:
                out.append(sorted(scc))

    sys.setrecursionlimit(10000)
    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def main(argv):
    dot = '--dot' in argv
    allow = []
    args = []
    i = 0
    while i < len(argv):
        if argv[i] == '--dot':
            pass
        elif argv[i] == '--allow':
            i += 1
            allow.append(argv[i].rstrip('/') + '/')
        else:
            args.append(argv[i])
        i += 1

    if not allow:
        allow = ['src/limit/']

    top = args[0] if args else os.path.join(os.path.dirname(__file__), '..')
    edges = graph(top)

    if dot:
        print('digraph osint {')
        for f in sorted(edges):
            for g in sorted(edges[f]):
                print('    "%s" -> "%s";' % (f, g))
        print('}')
        return 0

    for f in sorted(edges):
        print('%s: %s' % (f, ' '.join(sorted(edges[f])) or '-'))

    bad = 0
    for scc in circles(edges):
        inside = all(any(f.startswith(a) for a in allow) for f in scc)
        print('circle%s: %s' % (' (allowed)' if inside else '',
                                ' '.join(scc)))
        bad += not inside

    print('circles outside %s: %d' % (', '.join(allow), bad))
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
