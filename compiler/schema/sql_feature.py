"""An `sql:` feature of segc.yml: ONE scalar expression over the base's columns.

The text is the user's SQL, transpiled into every built query, so it is held to what a
column of the features CTE can be: one expression (no `;`, no statement), no `*` or
`COLUMNS(...)` (which would read columns segc does not know, sensitive ones included),
no subquery or table (which would read other tables), and only column references that
segc knows for the base (so the sensitivity of what it reads is known: DESIGN §8.5)."""
from __future__ import annotations

import logging
import re

from segc.front.errors import Diagnostic, suggest
from segc.front.source import Span

# what an `sql:` feature may not contain, each with why (the message's end)
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _forbidden():
    from sqlglot import exp

    return (
        ((exp.DDL, exp.DML, exp.Command, exp.Transaction), "a statement"),
        ((exp.Query, exp.Subquery, exp.Table), "a query or a table (a subquery reads other data)"),
        ((exp.Star, exp.Columns), "`*` or `COLUMNS(...)` (columns segc does not know)"),
        ((exp.UDTF,), "a table function"),
        ((exp.Alias,), "an alias (`AS`): the feature's name is its alias"),
        ((exp.Placeholder, exp.Parameter), "a placeholder"),
        ((exp.ObjectIdentifier,), "a cast to an object type (`regclass`, `regtype`, ...): it looks a row's "
                                  "value up as a name, and the engine's error would show it"),
    )


def parse_sql_feature(name: str, text: str, dialect: str, span: Span | None):
    """(the sqlglot tree, None) or (None, the diagnostic) for feature `name`'s `sql:`."""
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import ParseError, SqlglotError

    def problem(message: str, hint: str) -> tuple[None, Diagnostic]:
        return None, Diagnostic("E006", f"feature `{name}`: its `sql:` {message}", span, hints=(hint,))

    log = logging.getLogger("sqlglot")
    level = log.level
    log.setLevel(logging.ERROR)  # its "falling back to a Command" warning would print the text raw
    try:
        trees = sqlglot.parse(text, read=dialect)
    except ParseError as e:
        first = e.errors[0]["description"] if e.errors else str(e).split("\n")[0]
        return problem(f"does not parse as {dialect} SQL", _ANSI.sub("", first))
    except RecursionError:
        return problem(f"is nested too deeply for sqlglot's {dialect} parser",
                       "write it flatter: sqlglot's parser recurses a dozen frames per level, so "
                       "a few dozen nested calls or parentheses are its limit")
    except (SqlglotError, ValueError, IndexError, KeyError, TypeError, AttributeError) as e:
        # sqlglot's tokenizer raises TokenError, and some malformed inputs reach an IndexError:
        # any of them is a text that does not parse
        detail = _ANSI.sub("", str(e).split("\n")[0]) or type(e).__name__
        return problem(f"does not parse as {dialect} SQL", detail)
    finally:
        log.setLevel(level)
    trees = [t for t in trees if t is not None]
    if len(trees) != 1:
        return problem("must be one expression" + (f", not {len(trees)} statements" if trees else ""),
                       "write one scalar expression such as `age >= 18`, without `;`")
    tree = trees[0]
    hint = "an `sql:` feature is one scalar expression over the base's columns, e.g. `age >= 18`"
    forbidden = _forbidden()
    for classes, what in forbidden:
        if isinstance(tree, classes):
            return problem(f"may not be {what}", hint)
    if not isinstance(tree, exp.Condition):  # DROP, SET, PRAGMA, ...: sqlglot's non-scalar trees
        return problem("must be a scalar expression, not a statement", hint)
    for classes, what in forbidden:
        if tree.find(*classes) is not None:
            return problem(f"may not contain {what}", hint)
    for dtype in tree.find_all(exp.DataType):
        if dtype.this == exp.DataType.Type.USERDEFINED:
            return problem(f"may not cast to `{dtype.args.get('kind')}`, a type sqlglot does not know "
                           "(PostgreSQL's `regclass`, `regtype`, ... look a row's value up as a name, and "
                           "the engine's error would show it)", hint)
    for call in tree.find_all(exp.Anonymous):
        why = _ECHOING.get(call.name.casefold())
        if why:
            return problem(f"may not call `{call.name}(...)`: {why}, a row's value, and no message may "
                           "show one", "select the rows with a condition instead; `segc check --data` "
                           "reports bad data")
    return tree, None


# functions whose error message repeats their argument: a way to print a row's value
_RAISING = "the engine's error would be its argument"
_LOOKUP = "it looks its argument up as a sequence's name, and the engine's error would show it"
_ECHOING = {"error": _RAISING, "raise_error": _RAISING, "assert_true": _RAISING, "fail": _RAISING,
            "nextval": _LOOKUP, "currval": _LOOKUP, "setval": _LOOKUP}


def unresolved_columns(tree, known: set[str]) -> list[str]:
    """The column references of `tree` that are not base columns segc knows (a qualified
    `t.x` never is: the expression is computed over the base alone). Names bound by a
    lambda (`x -> x + 1`) are the lambda's, not columns."""
    from sqlglot import exp

    bound = {i.name for lam in tree.find_all(exp.Lambda) for i in lam.expressions}
    out = []
    for c in tree.find_all(exp.Column):
        qualified = any(c.args.get(k) is not None for k in ("table", "db", "catalog"))
        if qualified or (c.name not in known and c.name not in bound):
            out.append(c.sql())
    return sorted(set(out))


def columns_read(tree) -> set[str]:
    """The base columns an (accepted) `sql:` feature reads."""
    from sqlglot import exp

    bound = {i.name for lam in tree.find_all(exp.Lambda) for i in lam.expressions}
    return {c.name for c in tree.find_all(exp.Column) if c.name not in bound}


def unresolved_diagnostic(name: str, columns: list[str], known: set[str], span: Span | None) -> Diagnostic:
    close = suggest(columns[0].split(".")[-1], known) if len(columns) == 1 else None
    return Diagnostic(
        "E202", f"feature `{name}`: its `sql:` reads " + ", ".join(f"`{c}`" for c in columns)
        + ", which segc does not know as " + ("a column" if len(columns) == 1 else "columns") + " of the base",
        span, hints=(f"did you mean `{close}`?" if close else
                     "an `sql:` feature reads base columns that segc.yml declares: the base's `columns:`, "
                     "`key:` and `time:`, and the `column:` of its base features",))
