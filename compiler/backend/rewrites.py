"""What sqlglot renders silently wrong for a dialect, rewritten as it is rendered (each
measured by executing it, DESIGN §7), and what a dialect cannot express, refused with
UnsupportedError (rendered as E602). One table per dialect, named in the dialect table
(dialects.py): node class -> its rewrite, which returns the node itself to leave it as is.
A rewrite also applies to the subclasses of its node class."""
from __future__ import annotations

from sqlglot import exp
from sqlglot.errors import UnsupportedError

from segc.backend.sequence_lists import SEQUENCE_LISTS, fold_into_source, foldable
from segc.backend.strings import java_regex, mysql_regex, no_regex, snowflake_regex, trino_regex


def is_nan_literal(node: exp.Expression) -> bool:
    """CAST('NaN' AS DOUBLE): what lower.nan_free compares a float with."""
    return isinstance(node, exp.Cast) and isinstance(node.this, exp.Literal) and node.this.this == "NaN"


def _no_nan(node: exp.Nullif) -> exp.Expression:
    # SQLite, MySQL and T-SQL floats hold no NaN (SQLite and MySQL would read 'NaN' as 0,
    # T-SQL refuses it): NULLIF(x, NaN) is x there
    return node.this if is_nan_literal(node.expression) else node


def _sqlite_md5(node: exp.MD5) -> exp.Expression:  # sqlglot would emit MD5(...), which SQLite does not have
    raise UnsupportedError("SQLite has no MD5 function, which `holdout` needs to split "
                           "customers the same way as the other engines")


def _sqlite_greatest_least(node: exp.Greatest | exp.Least) -> exp.Expression:
    if node.args.get("ignore_nulls"):
        # set only where no argument can be NULL (a score's clamp): SQLite's MAX/MIN then
        # mean the same, without sqlglot's COALESCE emulation that repeats the arguments
        node = node.copy()
        node.set("ignore_nulls", None)
    return node


def _sqlite_cast(node: exp.Cast) -> exp.Expression:
    # SQLite stores dates and timestamps as ISO text: literals stay text, casts use DATE()
    if node.to.this in (exp.DataType.Type.DATE, exp.DataType.Type.TIMESTAMP):
        if isinstance(node.this, exp.Literal):
            return node.this
        if node.to.this == exp.DataType.Type.DATE:
            return exp.Anonymous(this="DATE", expressions=[node.this])
        # a date as a timestamp: 'YYYY-MM-DD HH:MM:SS' text (CAST AS TIMESTAMP is numeric there)
        return exp.Anonymous(this="DATETIME", expressions=[node.this])
    return node


def _sqlite_round(node: exp.Round) -> exp.Expression:
    if node.args.get("decimals") is not None:
        try:
            digits = node.args["decimals"].to_py()
        except ValueError:  # not a literal
            digits = None
        if isinstance(digits, int) and digits < 0:
            # SQLite's ROUND takes negative digits as 0: round x / 10^k, then scale back
            scale = exp.Literal.number(f"{10 ** -digits}.0")
            rounded = exp.Round(this=exp.Div(this=exp.Paren(this=node.this), expression=scale))
            return exp.Paren(this=exp.Mul(this=rounded, expression=scale.copy()))
    return node


def _sqlite_left(node: exp.Left) -> exp.Expression:  # SQLite has no LEFT/RIGHT
    return exp.Substring(this=node.this, start=exp.Literal.number(1), length=node.expression)


def _sqlite_right(node: exp.Right) -> exp.Expression:
    return exp.Substring(this=node.this, start=exp.Neg(this=node.expression))


def _sqlite_year_month(node: exp.Year | exp.Month) -> exp.Expression:
    fmt = "%Y" if isinstance(node, exp.Year) else "%m"
    text = exp.Anonymous(this="STRFTIME", expressions=[exp.Literal.string(fmt), node.this])
    return exp.Cast(this=text, to=exp.DataType.build("INTEGER"))


def _sqlite_date_trunc(node: exp.DateTrunc) -> exp.Expression:
    unit = node.unit.name.upper()
    modifier = {"MONTH": "start of month", "YEAR": "start of year"}.get(unit)
    if modifier is None:  # weeks start on Monday
        return exp.Anonymous(this="DATE", expressions=[node.this, exp.Literal.string("-6 days"),
                                                       exp.Literal.string("weekday 1")])
    return exp.Anonymous(this="DATE", expressions=[node.this, exp.Literal.string(modifier)])


def _sqlite_date_add(node: exp.DateAdd | exp.TimestampAdd) -> exp.Expression:
    unit = node.unit.name.upper()
    shift = "DATE" if isinstance(node, exp.DateAdd) else "DATETIME"
    n = int(node.expression.to_py())  # a negative amount is Neg(Literal): keep its sign
    first_of_month = isinstance(node.this, exp.DateTrunc) and node.this.unit.name.upper() in ("MONTH", "YEAR")
    if unit in ("MONTH", "YEAR") and first_of_month:
        # the first of a month exists in every month: no clamping, SQLite is exact
        return exp.Anonymous(this=shift, expressions=[node.this, exp.Literal.string(f"{n:+d} {unit.lower()}s")])
    if unit in ("MONTH", "YEAR"):
        if node.find(exp.CurrentDate) is not None:
            raise UnsupportedError("SQLite does not clamp month ends in rolling date arithmetic; "
                                   "pin the as-of date (as_of: or --as-of)")
        # a column shifted by months: pinning the as-of does not help
        raise UnsupportedError("SQLite does not clamp month ends when adding months or years to a "
                               "column; shift by days or weeks, or compare the column with a "
                               "shifted `today`")
    if shift == "DATE" or isinstance(node.this, (exp.DateTrunc, exp.Cast)):
        # a date, or a midnight (a truncated time, a date as a timestamp): no fraction to keep
        return exp.Anonymous(this=shift, expressions=[node.this, exp.Literal.string(f"{n:+d} days")])
    # a timestamp shifted by days keeps its time of day as written: DATETIME(t, '+1 days')
    # would drop the fraction of a second ('10:00:00.500' -> '10:00:00'), and STRFTIME's %f
    # keeps milliseconds only, in another width than the stored text ('.500000', as segc
    # test stores it and renders a literal) it is then compared with as text. The date part
    # shifted, the rest of the text as it is:
    # Shifts of shifts are added up first: the text is read twice, so each nested shift
    # doubled the SQL (18 were 72 MB, and SQLite's parser stack overflowed).
    base, total = node.this, n
    while isinstance(base, exp.TimestampAdd) and not isinstance(base.this, (exp.DateTrunc, exp.Cast)) \
            and _day_shift(base) is not None:
        total += _day_shift(base)
        base = base.this
    days = exp.Anonymous(this="DATE", expressions=[base, exp.Literal.string(f"{total:+d} days")])
    rest = exp.Substring(this=base.copy(), start=exp.Literal.number(11))
    return exp.Paren(this=exp.DPipe(this=days, expression=rest, safe=True))


def _day_shift(node: exp.Expression) -> int | None:
    """The days a shift by days or weeks adds, or None for anything else."""
    if not isinstance(node, (exp.DateAdd, exp.TimestampAdd)):
        return None
    per = {"DAY": 1, "WEEK": 7}.get(node.unit.name.upper())
    try:
        return None if per is None else per * int(node.expression.to_py())
    except ValueError:  # not a literal amount
        return None


def _shifted_constant(const: exp.Expression, days: int, shift: type) -> exp.Expression | None:
    """`const` moved back by `days`, or None: a literal computed here (None if it would
    leave 0001..9999), another value with no column (a rolling today) by the engine."""
    import datetime as dt

    if isinstance(const, exp.Cast) and isinstance(const.this, exp.Literal) and const.this.is_string:
        text = const.this.this
        try:
            if const.to.this == exp.DataType.Type.DATE:
                moved = (dt.date.fromisoformat(text) - dt.timedelta(days=days)).isoformat()
            elif const.to.this == exp.DataType.Type.TIMESTAMP:
                moved = (dt.datetime.fromisoformat(text) - dt.timedelta(days=days)).isoformat(sep=" ")
            else:
                return None
        except (ValueError, OverflowError):
            return None
        return exp.Cast(this=exp.Literal.string(moved), to=const.to.copy())
    if const.find(exp.Column, exp.Select) is not None:
        return None
    amount = exp.Literal.number(-days) if days <= 0 else exp.Neg(this=exp.Literal.number(days))
    return shift(this=const.copy(), expression=amount, unit=exp.var("DAY"))


def _sqlite_compare(node: exp.Binary) -> exp.Expression:
    # `bday + 1 day > 2024-07-01` as `bday > 2024-06-30`: the same for every date, as adding
    # days is one-to-one and keeps order, but SQLite's DATE('9999-12-31', '+1 days') is NULL
    # (its dates end there), so 9999-12-31, the usual open end, was in neither `x` nor
    # `not x`. Only when the other side holds no column; never for months (Jan 29, 30 and
    # 31 + 1 month are all Feb 29: the shift cannot be undone).
    sides = {"this": node.this, "expression": node.expression}
    for key, other_key in (("this", "expression"), ("expression", "this")):
        value, const, moved = sides[key], sides[other_key], False
        while (days := _day_shift(value)) is not None:
            new = _shifted_constant(const, days, type(value))
            if new is None:
                break
            value, const, moved = value.this, new, True
        if moved:
            node = node.copy()
            node.set(key, value.copy())
            node.set(other_key, const)
            return node
    return node


sqlite = {
    exp.GT: _sqlite_compare,
    exp.GTE: _sqlite_compare,
    exp.LT: _sqlite_compare,
    exp.LTE: _sqlite_compare,
    exp.EQ: _sqlite_compare,
    exp.NEQ: _sqlite_compare,
    exp.Nullif: _no_nan,
    exp.MD5: _sqlite_md5,
    exp.Greatest: _sqlite_greatest_least,
    exp.Least: _sqlite_greatest_least,
    exp.Cast: _sqlite_cast,
    exp.Round: _sqlite_round,
    exp.Left: _sqlite_left,
    exp.Right: _sqlite_right,
    exp.Year: _sqlite_year_month,
    exp.Month: _sqlite_year_month,
    exp.DateTrunc: _sqlite_date_trunc,
    exp.DateAdd: _sqlite_date_add,
    exp.TimestampAdd: _sqlite_date_add,
    exp.RegexpLike: no_regex("SQLite"),
}


def _is_condition(node: exp.Expression) -> bool:
    while isinstance(node, exp.Paren):
        node = node.this
    return isinstance(node, (exp.Predicate, exp.Connector, exp.Not))


def _is_value_position(node: exp.Expression) -> bool:
    """Whether `node` stands where a value (not a condition) is expected: a function's
    argument, THEN or ELSE of a CASE."""
    parent = node.parent
    if isinstance(parent, exp.If):
        return node.arg_key == "true"
    if isinstance(parent, exp.Case):
        return node.arg_key == "default"
    return isinstance(parent, exp.Func) and not isinstance(parent, exp.Connector)


def _tsql_alias(node: exp.Alias) -> exp.Expression:
    if isinstance(node.parent, exp.Select) and node.arg_key == "expressions" and _is_condition(node.this):
        # T-SQL has no boolean values, so `SELECT a >= 18 AS x` (a bool `sql:` feature) is
        # invalid: select 1/0 instead, and NULL where the condition is unknown (missing)
        cond = node.this
        value = exp.Case(ifs=[exp.If(this=cond.copy(), true=exp.Literal.number(1)),
                              exp.If(this=exp.Not(this=exp.Paren(this=cond.copy())), true=exp.Literal.number(0))])
        return exp.Alias(this=value, alias=node.args["alias"].copy())
    return node


def _tsql_boolean(node: exp.Boolean) -> exp.Expression:
    if _is_value_position(node):
        # a true/false value (`coalesce(vip, false)`): sqlglot writes `(1 = 0)`, a condition
        # where T-SQL needs a BIT value
        return exp.Literal.number(1 if node.this else 0)
    return node


def _tsql_current_date(node: exp.CurrentDate) -> exp.Expression:  # GETDATE() is a datetime
    return exp.Cast(this=exp.CurrentTimestamp(), to=exp.DataType.build("DATE"))


def _tsql_date_trunc(node: exp.DateTrunc) -> exp.Expression:  # sqlglot emits DATE_TRUNC, which T-SQL does not have
    x, unit = node.this, node.unit.name.upper()
    if unit == "WEEK":  # Monday, whatever DATEFIRST says: 1900-01-01 was a Monday
        monday = exp.Cast(this=exp.Literal.string("1900-01-01"), to=exp.DataType.build("DATE"))
        days = exp.DateDiff(this=x.copy(), expression=monday, unit=exp.var("DAY"))
        back = exp.Neg(this=exp.Paren(this=exp.Mod(this=days, expression=exp.Literal.number(7))))
        return exp.DateAdd(this=x.copy(), expression=back, unit=exp.var("DAY"))
    month = exp.Month(this=x.copy()) if unit == "MONTH" else exp.Literal.number(1)
    return exp.Anonymous(this="DATEFROMPARTS", expressions=[exp.Year(this=x.copy()), month,
                                                             exp.Literal.number(1)])


def _tsql_literal(node: exp.Literal) -> exp.Expression:
    if node.is_string and not node.name.isascii():
        return exp.National(this=node.name)
    return node


def _tsql_md5(node: exp.MD5) -> exp.Expression:
    # sqlglot emits HASHBYTES('MD5', x), which is binary, not the hex text of MD5 elsewhere;
    # hashing VARCHAR (not NVARCHAR's UTF-16) gives the other engines' bytes for ASCII,
    # and for all text under a UTF-8 collation
    text = exp.Cast(this=node.this, to=exp.DataType.build("VARCHAR(MAX)", dialect="tsql"))
    digest = exp.Anonymous(this="HASHBYTES", expressions=[exp.Literal.string("MD5"), text])
    return exp.Lower(this=exp.Convert(this=exp.DataType.build("VARCHAR(32)"), expression=digest,
                                      style=exp.Literal.number(2)))


tsql = {
    exp.Nullif: _no_nan,
    exp.Alias: _tsql_alias,
    exp.Boolean: _tsql_boolean,
    exp.CurrentDate: _tsql_current_date,
    exp.DateTrunc: _tsql_date_trunc,
    exp.Literal: _tsql_literal,
    exp.MD5: _tsql_md5,
    exp.RegexpLike: no_regex("T-SQL (before SQL Server 2025)"),
}


def _as_printed(x: exp.Expression, text: str) -> exp.Expression:
    """x's shortest decimal (how it prints: 0.15, not 0.1499999999999999944...) as a decimal."""
    return exp.Cast(this=exp.Cast(this=x, to=exp.DataType.build(text)), to=exp.DataType.build("DECIMAL"))


def _postgres_round(node: exp.Round) -> exp.Expression:
    # ROUND(double precision, int) does not exist, and ROUND(double precision) rounds half
    # to even: round NUMERIC, which rounds half away from zero as the other engines do. Of
    # the number as it prints (shortest text, PostgreSQL 12+): CAST(x AS NUMERIC) keeps 15
    # significant digits only (1234567890123456 -> 1234567890123460)
    if node.meta.get(ROUNDED):
        return node
    node = node.copy()
    node.meta[ROUNDED] = True
    node.set("this", _as_printed(node.this, "TEXT"))
    return node


# the mark of a ROUND already rewritten (its rewrite is applied again to what it returns)
ROUNDED = "segc_rounded"


def _duckdb_round(node: exp.Round) -> exp.Expression:
    # DuckDB rounds a DOUBLE's binary value (0.15 is 0.1499999... -> 0.1), the other engines
    # the number as it prints (0.2; 1.005 -> 1.01): round that decimal, where it fits one.
    # The test and both roundings read the argument: it is bound once, as a lambda's
    # parameter (written three times, nested rounds grew the SQL 3x a level: 12 took 2.3 GB)
    if node.args.get("decimals") is None or node.meta.get(ROUNDED):
        return node
    v = exp.column(ROUND_VARIABLE)
    printed = exp.Cast(this=exp.Cast(this=v.copy(), to=exp.DataType.build("VARCHAR")),
                       to=exp.DataType.build("DECIMAL(38, 23)"))
    decimal = exp.Round(this=printed, decimals=node.args["decimals"].copy())
    binary = exp.Round(this=v.copy(), decimals=node.args["decimals"].copy())
    for r in (decimal, binary):
        r.meta[ROUNDED] = True
    # DECIMAL(38, 23) holds the printed decimal of a float below 1e15 (15 + 23 digits);
    # above, floats are 1/8 or more apart, and rounding the binary value gives the same float
    fits = exp.LT(this=exp.Abs(this=v.copy()), expression=exp.Literal.number("1e15"))
    body = exp.Case(ifs=[exp.If(this=fits, true=exp.Cast(this=decimal, to=exp.DataType.build("DOUBLE")))],
                    default=binary)
    # LIST_TRANSFORM([x], LAMBDA v: body)[1]: a nested round sits in the list, outside the
    # body, so one name serves every level
    each = exp.Anonymous(this="LIST_TRANSFORM", expressions=[
        exp.Array(expressions=[node.this.copy()]),
        exp.Lambda(this=body, expressions=[exp.to_identifier(ROUND_VARIABLE)])])
    return exp.Bracket(this=each, expressions=[exp.Literal.number(0)])


ROUND_VARIABLE = "segc_round"


# the mark of an ORDER BY item that must follow the bytes of a text (the key, a definition's
# name), as DuckDB, SQLite and Spark order text, and not the database's collation
BINARY_ORDER = "segc_binary_order"


def binary_order(e: exp.Expression) -> exp.Ordered:
    """`e` as an ORDER BY item ordered by its bytes when it is text, whatever its type."""
    node = exp.Ordered(this=e, desc=False, nulls_first=False)
    node.meta[BINARY_ORDER] = True
    return node


def _postgres_binary_order(node: exp.Order) -> exp.Expression:
    # PostgreSQL orders text by the database's collation (en_US, ICU), which is not DuckDB's
    # byte order: `sample`'s "first 20 by key" were other customers (`_z, a-2, a1` for `A3,
    # B2, Zed`). The key's type is not known when lowering (segc.yml need not declare it), so a
    # first item orders a text by its UTF-8 bytes and is NULL for any other type; the item itself
    # then orders the rest (numbers as numbers)
    if not any(o.meta.get(BINARY_ORDER) for o in node.expressions):
        return node
    items = []
    for o in node.expressions:
        if o.meta.get(BINARY_ORDER):
            v = _projected(node, o.this)
            is_text = exp.In(this=exp.cast(exp.Anonymous(this="PG_TYPEOF", expressions=[v.copy()]), "text"),
                             expressions=[exp.Literal.string(t) for t in ("text", "character varying", "character")])
            as_bytes = exp.Anonymous(this="CONVERT_TO", expressions=[exp.cast(v.copy(), "text"), exp.Literal.string("UTF8")])
            items.append(exp.Ordered(this=exp.Case(ifs=[exp.If(this=is_text, true=as_bytes)]),
                                     desc=o.args.get("desc"), nulls_first=o.args.get("nulls_first")))
            plain = exp.Ordered(this=o.this.copy(), desc=o.args.get("desc"), nulls_first=o.args.get("nulls_first"))
            items.append(plain)
        else:
            items.append(o)
    new = node.copy()
    new.set("expressions", items)
    return new


def _projected(order: exp.Order, v: exp.Expression) -> exp.Expression:
    """What an ORDER BY name stands for inside an expression: PostgreSQL reads an output
    column's alias (`customer_id` for `segc_key AS customer_id`) only as a bare item."""
    select = order.parent
    if isinstance(v, exp.Column) and not v.table and isinstance(select, exp.Select):
        for p in select.expressions:
            if isinstance(p, exp.Alias) and p.alias == v.name:
                return p.this
    return v


postgres = {exp.Round: _postgres_round, exp.Order: _postgres_binary_order}

mysql = {exp.Nullif: _no_nan, exp.RegexpLike: mysql_regex}


def _snowflake_int_div(node: exp.IntDiv) -> exp.Expression:
    # sqlglot renders integer division as TRUNC(a / b), but Snowflake rounds a / b of
    # integers to 6 decimals (4.9999996 -> 5.000000): divide an exact multiple instead
    a, b = node.this, node.expression
    multiple = exp.Sub(this=a.copy(), expression=exp.Mod(this=a.copy(), expression=b.copy()))
    return exp.Paren(this=exp.Div(this=exp.Paren(this=multiple), expression=b.copy(), typed=False, safe=False))


snowflake = {exp.IntDiv: _snowflake_int_div, exp.RegexpLike: snowflake_regex}


def _bigquery_timestamp_add(node: exp.TimestampAdd) -> exp.Expression:
    # segc's timestamps are DATETIMEs there (sqlglot's cast), which TIMESTAMP_ADD refuses
    return exp.DatetimeAdd(this=node.this, expression=node.expression, unit=node.args.get("unit"))


def _bigquery_date_trunc(node: exp.DateTrunc) -> exp.Expression:
    # DATE_TRUNC(d, WEEK) goes back to a Sunday; segc weeks start on Monday
    if node.unit.name.upper() == "WEEK":
        node = node.copy()
        node.set("unit", exp.var("ISOWEEK"))
    return node


bigquery = {exp.TimestampAdd: _bigquery_timestamp_add, exp.DateTrunc: _bigquery_date_trunc}

# the mark lower.py puts on a SUM/AVG of float values
FLOAT_SUM = "segc_float_sum"


def _duckdb_float_sum(node: exp.Sum | exp.Avg) -> exp.Expression:
    # DuckDB adds a group's floats in whatever order its threads meet them, so SUM and AVG
    # of a DOUBLE differ in the last bits between runs of the same query, and a customer at
    # a boundary (a mean of exactly 80 against `basket_avg > 80`) is in or out by chance
    # (measured: 220,521 then 220,520 members at 1M customers). FSUM's compensated sum gives
    # the same bits whatever the order; the mean is FSUM / COUNT (COUNT > 0 where FSUM is set).
    if not node.meta.get(FLOAT_SUM):
        return node
    total = exp.Anonymous(this="FSUM", expressions=[node.this.copy()])
    if isinstance(node, exp.Sum):
        return total
    return exp.Div(this=total, expression=exp.Count(this=node.this.copy()))


def _duckdb_fold_sequences(node: exp.With) -> exp.Expression:
    # a one-source sequence's lists as aggregates of the source's GROUP BY, where it can (on a
    # copy: the nodes render visits next are those of the tree it returns)
    if not foldable(node):
        return node
    new = node.copy()
    return new if fold_into_source(new) else node


def _duckdb_sequence(node: exp.Select) -> exp.Expression:
    form = node.meta.get(SEQUENCE_LISTS)
    if form is None:
        return node
    form = form.copy()
    # its one read of the source names the table as the tree does now (a dbt build has put
    # its placeholder there)
    form.find(exp.Table).replace(node.find(exp.Table).copy())
    return form


duckdb = {exp.Round: _duckdb_round, exp.Sum: _duckdb_float_sum, exp.Avg: _duckdb_float_sum,
          exp.Select: _duckdb_sequence, exp.With: _duckdb_fold_sequences}

# `matches`: where the engine's regex reads `^`/`$` otherwise (backend/strings.py)
spark = {exp.RegexpLike: java_regex}
databricks = {exp.RegexpLike: java_regex}
trino = {exp.RegexpLike: trino_regex}
