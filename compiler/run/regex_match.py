"""`matches` evaluated in Python in linear time, for the engines that have no regexes of
their own (the SQLite of `segc test`, run/memory.py).

Python's `re` backtracks: `^(a+)+$` against 30 `a`s and a `!` takes hours, where DuckDB's
RE2 answers at once. The portable subset (front/regex_subset.py) has no backreference or
lookaround, so every pattern of it is a true regular expression: it is compiled here to a
small NFA program and run as a Pike VM (all threads in step), in time proportional to
the text's length times the program's, with the meaning of DESIGN §8.1 (Python's
`re.search`: a search; `.` any character but LF; `^` and `$` the ends of the string;
`[^...]` matches LF)."""
from __future__ import annotations

from segc.front.regex_subset import Token

# instructions: (op, arg); ops: char, any, set, start, end, split (arg: (x, y)), jump, match
Program = list


def compile_tokens(tokens: list[Token]) -> Program:
    program: Program = []
    pos = _alternation(tokens, 0, program)
    assert pos == len(tokens), "the parser balanced the groups"
    program.append(("match", None))
    return program


def search(program: Program, text: str) -> bool:
    """Whether the program matches anywhere in `text`."""
    current: list[int] = []
    _add(program, current, set(), 0, 0, len(text))
    for i, c in enumerate(text):
        if any(program[pc][0] == "match" for pc in current):
            return True
        following: list[int] = []
        seen: set[int] = set()
        for pc in current:
            op, arg = program[pc]
            if op == "char" and c == arg or op == "any" and c != "\n" or op == "set" and _in_set(arg, c):
                _add(program, following, seen, pc + 1, i + 1, len(text))
        _add(program, following, seen, 0, i + 1, len(text))  # a search: a match may start here
        current = following
    return any(program[pc][0] == "match" for pc in current)


def _add(program: Program, threads: list[int], seen: set[int], pc: int, at: int, end: int) -> None:
    """Follow the jumps, splits and anchors from pc at position `at` (each pc once per step:
    an empty loop such as `(a?)*` ends)."""
    stack = [pc]
    while stack:
        pc = stack.pop()
        if pc in seen:
            continue
        seen.add(pc)
        op, arg = program[pc]
        if op == "jump":
            stack.append(arg)
        elif op == "split":
            stack.extend((arg[1], arg[0]))
        elif op == "start":
            if at == 0:
                stack.append(pc + 1)
        elif op == "end":
            if at == end:
                stack.append(pc + 1)
        else:
            threads.append(pc)


def _in_set(arg, c: str) -> bool:
    negated, ranges = arg
    return any(lo <= c <= hi for lo, hi in ranges) != negated


def _alternation(tokens: list[Token], i: int, program: Program) -> int:
    """Compile `a|b|...` up to a `)` or the end; returns the position after it."""
    splits, jumps = [], []
    while True:
        splits.append(len(program))
        program.append(None)  # the split to this branch or the next, patched below
        i = _sequence(tokens, i, program)
        if i < len(tokens) and tokens[i].kind == "bar":
            jumps.append(len(program))
            program.append(None)
            i += 1
            continue
        break
    # a single branch needs no split: its placeholder becomes a jump to the next instruction
    for n, at in enumerate(splits):
        nxt = splits[n + 1] if n + 1 < len(splits) else None
        program[at] = ("split", (at + 1, nxt)) if nxt is not None else ("jump", at + 1)
    for at in jumps:
        program[at] = ("jump", len(program))
    return i


def _sequence(tokens: list[Token], i: int, program: Program) -> int:
    while i < len(tokens) and tokens[i].kind not in ("bar", "close"):
        start = i
        i = _atom_end(tokens, i)
        quant = tokens[i].text if i < len(tokens) and tokens[i].kind == "quant" else None
        atom = tokens[start:i]
        if quant is not None:
            i += 1
        _repeat(atom, quant, program)
    return i


def _atom_end(tokens: list[Token], i: int) -> int:
    if tokens[i].kind != "open":
        return i + 1
    depth = 0
    while True:
        kind = tokens[i].kind
        depth += kind == "open"
        depth -= kind == "close"
        i += 1
        if depth == 0:
            return i


def _emit(atom: list[Token], program: Program) -> None:
    t = atom[0]
    if t.kind == "open":
        _alternation(atom[1:-1], 0, program)
    elif t.kind == "char":
        program.append(("char", t.text))
    elif t.kind == "any":
        program.append(("any", None))
    elif t.kind == "class":
        program.append(("set", _set(t.text)))
    else:  # start, end
        program.append((t.kind, None))


def _repeat(atom: list[Token], quant: str | None, program: Program) -> None:
    if quant is None:
        _emit(atom, program)
        return
    if quant in "*+?":
        low, high = {"*": (0, None), "+": (1, None), "?": (0, 1)}[quant]
    else:
        lo, comma, hi = quant[1:-1].partition(",")
        low, high = int(lo), (int(hi) if hi else None) if comma else int(lo)
    for _ in range(low):
        _emit(atom, program)
    if high is None:  # then any number more: L: split(body, out); body; jump L
        loop = len(program)
        program.append(None)
        _emit(atom, program)
        program.append(("jump", loop))
        program[loop] = ("split", (loop + 1, len(program)))
        return
    optional = []
    for _ in range(high - low):  # each optional copy may stop the repetition
        optional.append(len(program))
        program.append(None)
        _emit(atom, program)
    for at in optional:
        program[at] = ("split", (at + 1, len(program)))


def _set(text: str) -> tuple[bool, tuple[tuple[str, str], ...]]:
    """`[...]` as (negated, ranges), read as regex_subset's parser accepted it."""
    body = text[1:-1]
    negated = body.startswith("^")
    if negated:
        body = body[1:]
    ranges, j = [], 0
    while j < len(body):
        if j + 2 < len(body) and body[j + 1] == "-":
            ranges.append((body[j], body[j + 2]))
            j += 3
        else:
            ranges.append((body[j], body[j]))
            j += 1
    return negated, tuple(ranges)
