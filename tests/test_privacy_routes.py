"""Every route by which an expression can read a sensitive column (DESIGN §8.5), refused
without the allowance and allowed with it — on DuckDB and on PostgreSQL where the route
runs SQL.

The project is the retail example with its data copied in, where `religion` is made
sensitive ONLY by `sensitive: [religion]` on the base source (the feature `religion` is
not marked), and read under other names: a renamed base feature, an `sql:` feature, an
aggregate's `where:`, and two more sources over the same table (`people`, same `table:`,
its events ordered by religion at one signup date)
and the same file (`mirror`, another table name, the same file through `..`).

ROUTES (exported by segc.check.policy) and the table below must list the same routes, so
a route added to the policy without a test here fails `test_every_route_is_tested`."""
from __future__ import annotations

import copy
import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import psycopg
import pytest
import yaml
from psycopg import sql as pgsql
from psycopg.conninfo import make_conninfo
from typer.testing import CliRunner

from segc.check.policy import ROUTES
from segc.cli.main import app
from tests.conftest import EXAMPLE
from tests.test_engines_parity import load_into_postgres

ALLOW = '@allow_sensitive("consent, art. 9(2)(a)")\n'
REASON = "consent, art. 9(2)(a)"
SENSITIVE_FEATURES = {
    "faith": {"type": "string", "column": "religion"},                       # renamed column
    "pious": {"type": "bool", "sql": "religion = 'x'"},                      # sql:
    "faith_len": {"type": "int", "sql": "length(religion)"},                 # sql:, numeric
    "believers": {"type": "int", "from": "people", "agg": "count",           # where: via a source
                  "where": 'religion = "x"'},                                #   over the same table
    "faiths_mirror": {"type": "int", "from": "mirror", "agg": "count_distinct",  # a source over
                      "column": "religion"},                                      # the same file
}


def base_config() -> dict:
    config = yaml.safe_load((EXAMPLE / "segc.yml").read_text(encoding="utf-8"))
    config.pop("scores"), config.pop("kpis"), config.pop("experiments")
    config["sources"]["customers"]["sensitive"] = ["religion"]
    config["features"]["religion"].pop("sensitive")
    config["sources"]["people"] = {"table": "shop.customers", "path": "data/customers.parquet",
                                   "key": "customer_id", "time": "signup_date", "order_by": ["religion"],
                                   "columns": {"religion": "string", "age": "int", "signup_date": "date"}}
    # events whose time is sensitive (the as-of clip reads it): the carts' file, not the
    # customers' (people's time would then be sensitive too: its route is the order)
    config["sources"]["visits"] = {"table": "visits.carts", "path": "data/carts.parquet",
                                   "key": "customer_id", "time": "created_at", "sensitive": ["created_at"],
                                   "columns": {"created_at": "timestamp"}}
    config["sources"]["mirror"] = {"table": "mirror.customers", "path": "data/../data/customers.parquet",
                                   "key": "customer_id", "columns": {"religion": "string"}}
    config["features"].update(copy.deepcopy(SENSITIVE_FEATURES))
    config["allow_outside_paths"] = True  # data/ links to one copy of the data for every project
    return config


def experiment(metric: str, allowed: bool) -> dict:
    e = {"target": "a", "control": "b", "assigned_at": "2024-03-01", "until": "2024-05-01", "metrics": {"m": metric}}
    return {"experiments": {"x": {**e, "allow_sensitive": REASON} if allowed else e}}


def score(target: str, features: list[str], allowed: bool) -> dict:
    s = {"target": target, "horizon": "30 days", "features": features, "train_as_of": "2023-07-01",
         "validate_as_of": "2024-01-01"}
    return {"scores": {"s": {**s, "allow_sensitive": REASON} if allowed else s}}


def base_time(sensitive: bool) -> dict:
    """The base with `time: signup_date`, sensitive or not (the population at an as-of is
    the rows signed up before it: bisecting --as-of reads each customer's date)."""
    sources = copy.deepcopy(base_config()["sources"])
    sources["customers"]["time"] = "signup_date"
    if sensitive:
        sources["customers"]["sensitive"] = ["religion", "signup_date"]
    return {"sources": sources}


@dataclass
class Route:
    command: list[str]
    segments: str  # `{allow}` is the annotation in the allowed run, nothing in the refused one
    config: object = None  # allowed: bool -> changes to segc.yml
    code: str = "E501"
    allowable: bool = True  # False: refused whatever allowance (it serves every segment at once)
    runs_sql: bool = True
    shown: str | None = None  # a column the allowed run shows (and the refused one must not)
    control: tuple | None = None  # (segments, config, command) of the same route on a plain column
    refused_segments: str | None = None  # when refusing means masking, not an error
    engines: tuple[str, ...] = ("duckdb", "postgres")  # where the command runs SQL
    setup: tuple = ()  # commands run first (a snapshot for `changes`)
    plain_segments: str | None = None  # the refused run's, where the allowed ones need the allowance to load
    names: tuple[str, ...] = ("religion", "faith", "pious")  # one of them names what was refused

    def changes(self, allowed: bool) -> dict:
        return self.config(allowed) if self.config else {}


TABLE = {
    "feature column:": Route(["count", "a"], '{allow}segment a = faith = "x"\n'),
    "feature where:": Route(["count", "a"], "{allow}segment a = believers > 0\n"),
    "feature sql:": Route(["count", "a"], "{allow}segment a = pious\n"),
    "second source": Route(["count", "a"], "{allow}segment a = faiths_mirror > 0\n"),
    "inline aggregate": Route(["count", "a"], '{allow}segment a = max(people.religion) = "x"\n'),
    "event time:": Route(["count", "a"], "{allow}segment a = count(visits) > 0\n"),
    "event order_by:": Route(["count", "a"], "{allow}segment a = last(people.age) > 0\n"),
    "inline where": Route(["count", "a"], '{allow}segment a = count(mirror where religion = "x") > 0\n'),
    "reference": Route(["count", "a"], ALLOW + 'segment inner = count(people where religion = "x") > 0\n'
                       "{allow}segment a = inner or email_optin\n"),
    "segmentation branch": Route(["count", "a.x"], "{allow}segmentation a {\n  x = pious\n  rest = else\n}\n"),
    "score features": Route(["score", "fit", "s"], "", lambda ok: score("purchases_90d >= 1", ["faith_len", "age"], ok),
                            code="E933"),
    "score target": Route(["score", "fit", "s"], "",
                          lambda ok: score('purchases_90d >= 1 and max(people.religion) is missing', ["age"], ok),
                          code="E933"),
    "population": Route(["count", "a"], "{allow}segment a = email_optin\n",
                        lambda ok: {"population": "not is_test and not pious"}, allowable=False,
                        control=("segment a = email_optin\n", {"population": "not is_test and not loyalty_card"},
                                 ["count", "a"])),
    "base time:": Route(["count", "a"], "{allow}segment a = email_optin\n",
                        lambda ok: base_time(sensitive=True), allowable=False,
                        control=("segment a = email_optin\n", base_time(sensitive=False), ["count", "a"]),
                        names=("`time: signup_date` is sensitive",)),
    "kpi": Route(["report", "a"], "{allow}segment a = email_optin\n",
                 lambda ok: {"kpis": {"k": {"share_of": 'max(people.religion) = "x"'}}}, allowable=False,
                 control=("segment a = email_optin\n", {"kpis": {"k": {"share_of": "loyalty_card"}}}, ["report", "a"])),
    "ad-hoc expression": Route(["compile", "-e", 'faith = "x"'], "{allow}segment a = email_optin\n",
                               allowable=False, runs_sql=False,
                               control=("", {}, ["compile", "-e", 'country = "FR"'])),
    "report --by": Route(["report", "a", "--by", "faith"], "{allow}segment a = email_optin\n", code="E945", allowable=False,
                         control=("segment a = email_optin\n", {}, ["report", "a", "--by", "country"])),
    "discover --features": Route(["discover", "--features", "faith_len,age", "--k", "2"],
                                 "{allow}segment a = email_optin\n", code="E952", allowable=False,
                                 engines=("duckdb",),  # discover runs on DuckDB only
                                 control=("", {}, ["discover", "--features", "age,purchases_365d", "--k", "2"])),
    "sample columns": Route(["sample", "a", "--format", "json"], '{allow}segment a = faith is present or email_optin\n',
                            shown='"faith"'),
    "profile columns": Route(["profile", "a", "--format", "json"],
                             '{allow}segment a = email_optin or faith_len > 100\n', shown='"faith_len"',
                             refused_segments="segment a = email_optin\n"),
    "catalogue": Route(["docs", "--out", "site"], '{allow}segment a = faith = "x"\n', runs_sql=False),
    # the payload is checked before any query, the same on every engine (PostgreSQL would
    # need a --table store: tests/test_snapshots.py)
    "experiment metric": Route(["lift", "x", "--format", "json"], "segment a = email_optin\nsegment b = not email_optin\n",
                               lambda ok: experiment('faith = "x" and exists(orders during experiment)', ok)),
    "changes --with": Route(["changes", "a", "--with", "faith", "--since", "last", "--format", "json"],
                            '{allow}segment a = faith is present or email_optin\n', shown='"faith"',
                            engines=("duckdb",), setup=(["snapshot", "a", "--as-of", "2024-06-01"],),
                            plain_segments="segment a = email_optin\n"),
}


# routes that are no command of the CLI, each with its own test below
OTHER_ROUTES = {"ad-hoc overlap": "test_the_playground_overlap_leaves_out_what_reads_sensitive_data"}


def test_every_route_is_tested():
    assert set(TABLE) | set(OTHER_ROUTES) == set(ROUTES) and not set(TABLE) & set(OTHER_ROUTES)
    assert all(name in globals() for name in OTHER_ROUTES.values())


def test_the_playground_overlap_leaves_out_what_reads_sensitive_data(tmp_path, data_folder):
    """An allowed sensitive segment intersected with an expression that singles out one
    customer would read that customer's religion (`both` 1 or 0): the expression's overlap
    leaves it out, from the feature matrix and from the full query alike, and names it."""
    from segc.apps.serve.state import open_playground, overlap_with

    segments = (ALLOW + 'segment a = faith = "x"\n' + ALLOW + "segmentation s {\n  x = pious\n  rest = else\n}\n"
                "segment plain = email_optin\n")
    pg = open_playground(project(tmp_path / "p", data_folder, segments, {}))
    answer = pg.overlap("age = 51 and country = \"FR\"")
    shown = {r["name"] for r in answer["segments"]}
    assert "plain" in shown and not shown & {"a", "s.x", "s.rest"}, shown
    assert answer["via"] == "matrix" and set(answer["withheld"]) == {"a", "s.x", "s.rest"}
    _size, full = overlap_with(pg.project(), pg.project().expression("age = 51"))
    assert {n for n, _c, _b in full} == shown


# ---- the project, the engines --------------------------------------------------------------

@pytest.fixture(scope="module")
def data_folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("privacy_data")
    shutil.copytree(EXAMPLE / "data", folder / "data")
    return folder / "data"


@pytest.fixture(scope="module")
def pg_project_dsn(pg_dsn, data_folder) -> str:
    """The example's tables, and mirror.customers (the file under another table name)."""
    database = f"segc_privacy_{os.getpid()}"
    with psycopg.connect(pg_dsn, autocommit=True) as con:
        con.execute(pgsql.SQL("DROP DATABASE IF EXISTS {}").format(pgsql.Identifier(database)))
        con.execute(pgsql.SQL("CREATE DATABASE {}").format(pgsql.Identifier(database)))
    dsn = make_conninfo(pg_dsn, dbname=database)
    sources = {name: SimpleNamespace(table=t, path=f"data/{f}.parquet") for name, t, f in (
        ("customers", "shop.customers", "customers"), ("orders", "shop.orders", "orders"),
        ("carts", "shop.carts", "carts"), ("mirror", "mirror.customers", "customers"),
        ("visits", "visits.carts", "carts"))}
    load_into_postgres(dsn, SimpleNamespace(root=data_folder.parent, schema=SimpleNamespace(sources=sources)))
    return dsn


def project(folder: Path, data: Path, segments: str, changes: dict) -> Path:
    config = base_config()
    config.update(changes)
    folder.mkdir(parents=True)
    os.symlink(data, folder / "data")
    (folder / "segc.yml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    (folder / "segments").mkdir()
    (folder / "segments" / "main.seg").write_text(segments, encoding="utf-8")
    return folder


def run(root: Path, command: list[str], engine: str, dsn: str | None):
    args = list(command)
    if "--out" in args:
        args[args.index("--out") + 1] = str(root / args[args.index("--out") + 1])
    args += ["-p", str(root)]
    if engine == "postgres":
        args += ["--engine", "postgres", "--dsn", dsn]
    result = CliRunner().invoke(app, args)
    out = result.stdout + result.stderr
    assert "Traceback" not in out, out
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result.exit_code, out


def engines_of(route: Route) -> list[str]:
    return list(route.engines) if route.runs_sql else ["duckdb"]


@pytest.fixture
def dsn_for(request):
    """The PostgreSQL DSN, started only for a test that runs on PostgreSQL."""
    return lambda engine: request.getfixturevalue("pg_project_dsn") if engine == "postgres" else None


CASES = [(name, engine) for name, route in TABLE.items() for engine in engines_of(route)]


@pytest.mark.parametrize("name,engine", CASES, ids=[f"{n}-{e}" for n, e in CASES])
def test_route_is_refused_without_the_allowance(name, engine, tmp_path, data_folder, dsn_for):
    route = TABLE[name]
    segments = route.refused_segments or route.plain_segments or route.segments.replace("{allow}", "")
    root = project(tmp_path / "p", data_folder, segments, route.changes(False))
    for command in route.setup:
        assert run(root, command, engine, dsn_for(engine))[0] == 0
    code, out = run(root, route.command, engine, dsn_for(engine))
    if route.refused_segments is not None:  # refusing is masking: the output leaves it out
        assert code == 0, out
        assert route.shown not in out, out
        return
    assert code == 1, out
    assert f"[{route.code}]" in out or f'"{route.code}"' in out, out
    assert any(n in out for n in route.names), out  # it names what it refused


@pytest.mark.parametrize("name,engine", CASES, ids=[f"{n}-{e}" for n, e in CASES])
def test_route_is_allowed_with_the_allowance(name, engine, tmp_path, data_folder, dsn_for):
    route = TABLE[name]
    root = project(tmp_path / "p", data_folder, route.segments.replace("{allow}", ALLOW), route.changes(True))
    for command in route.setup:
        assert run(root, command, engine, dsn_for(engine))[0] == 0
    code, out = run(root, route.command, engine, dsn_for(engine))
    if not route.allowable:
        # no annotation reaches a route that serves every segment: still refused ...
        assert code == 1 and route.code in out, out
        # ... and the same route over a column that is not sensitive runs
        segments, changes, command = route.control
        control = project(tmp_path / "control", data_folder, segments, changes)
        code, out = run(control, command, engine, dsn_for(engine))
    assert code == 0, out
    if route.shown:
        assert route.shown in out, out


def test_one_table_under_other_spellings():
    """What can name the same table folds to the same name (over-marking is the safe side:
    PostgreSQL's quoted "Shop" is another table, but never a way round the policy)."""
    from segc.schema.physical import normalised_table, physical_tables

    assert normalised_table('SHOP."Customers"') == normalised_table("shop.customers") == "shop.customers"
    sources = {n: SimpleNamespace(table=t, path=p) for n, t, p in (
        ("a", "x.t", None), ("b", "y.u", "d/f.csv"), ("c", "X.T", "./d/../d/f.csv"), ("d", "z.v", None))}
    tables = physical_tables(sources, None)
    assert tables["a"] == tables["b"] == tables["c"] != tables["d"]
    # the warehouse's search path and default database may make these one table
    sources = {n: SimpleNamespace(table=t, path=None) for n, t in (
        ("a", "public.cust"), ("b", "cust"), ("c", 'tiny.PUBLIC."Cust"'), ("d", "public.custs"))}
    tables = physical_tables(sources, None)
    assert tables["a"] == tables["b"] == tables["c"] != tables["d"]


def test_a_hard_link_is_the_same_file(tmp_path):
    from segc.schema.physical import physical_tables

    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "c.csv").write_text("customer_id\n1\n", encoding="utf-8")
    os.link(tmp_path / "data" / "c.csv", tmp_path / "data" / "hard.csv")
    (tmp_path / "data" / "copy.csv").write_text("customer_id\n1\n", encoding="utf-8")
    sources = {n: SimpleNamespace(table=t, path=p) for n, t, p in (
        ("a", "shop.c", "data/c.csv"), ("b", "shop.h", "data/hard.csv"), ("c", "shop.k", "data/copy.csv"),
        ("d", "shop.g", "data/*.csv"))}
    tables = physical_tables(sources, tmp_path)
    assert tables["a"] == tables["b"] != tables["c"]
    assert tables["d"] not in (tables["a"], tables["c"])


@pytest.mark.parametrize("alias", ["cust", "tiny.public.cust", 'PUBLIC."CUST"'])
def test_a_second_source_naming_the_table_otherwise_is_refused(tmp_path, alias):
    # `cust` and `public.cust` were two tables to segc, one to PostgreSQL (search_path)
    (tmp_path / "segments").mkdir()
    config = {"name": "t", "entity": "customer", "base": "customers", "key": "customer_id",
              "sources": {"customers": {"table": "public.cust", "sensitive": ["religion"],
                                        "columns": {"religion": "string"}},
                          "alias": {"table": alias, "key": "customer_id", "columns": {"religion": "string"}}},
              "features": {"age": {"type": "int"}}}
    (tmp_path / "segc.yml").write_text(yaml.safe_dump(config), encoding="utf-8")
    (tmp_path / "segments" / "a.seg").write_text('segment a = max(alias.religion) = "x"\n', encoding="utf-8")
    result = CliRunner().invoke(app, ["check", "-p", str(tmp_path), "--format", "json"])
    assert result.exit_code == 1, result.output
    assert [d["message"] for d in json.loads(result.stdout)["diagnostics"]] == \
        ["`a` uses the sensitive data `alias.religion`"]


def test_source_and_feature_declarations_agree(tmp_path, data_folder):
    """`sensitive: true` on a feature marks the columns it reads, as `sensitive:` on the
    source does: the same project with the feature marked instead is refused the same way."""
    config = base_config()
    config["sources"]["customers"].pop("sensitive")
    config["features"]["religion"]["sensitive"] = True
    root = project(tmp_path / "p", data_folder, 'segment a = max(people.religion) = "x"\n', {})
    (root / "segc.yml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    code, out = run(root, ["check", "--format", "json"], "duckdb", None)
    assert code == 1
    assert [d["message"] for d in json.loads(out)["diagnostics"]] == \
        ["`a` uses the sensitive data `people.religion`"]


@pytest.mark.parametrize("source, column, hint", [
    ("customers", "relgion", "did you mean `religion`?"),      # the base: its columns and features' columns
    ("customers", "faith_text", "declare it under sources.customers.columns"),
    ("orders", "amont", "did you mean `amount`?"),             # an event source: its columns, key, time
])
def test_a_sensitive_name_that_is_no_column_is_e202(tmp_path, source, column, hint):
    # `sensitive: [relgion]` passed silently and left `religion` open
    (tmp_path / "segments").mkdir()
    config = {"name": "t", "entity": "customer", "base": "customers", "key": "customer_id",
              "sources": {"customers": {"table": "s.customers"},
                          "orders": {"table": "s.orders", "key": "customer_id", "time": "at",
                                     "columns": {"amount": "float"}}},
              "features": {"religion": {"type": "string"}, "age": {"type": "int"}}}
    config["sources"][source]["sensitive"] = ["at" if source == "orders" else "age", column]
    (tmp_path / "segc.yml").write_text(yaml.safe_dump(config), encoding="utf-8")
    (tmp_path / "segments" / "a.seg").write_text("segment a = true\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["check", "-p", str(tmp_path), "--format", "json"])
    assert result.exit_code == 1, result.output
    diags = json.loads(result.stdout)["diagnostics"]
    assert [(d["code"], d["message"]) for d in diags] == \
        [("E202", f"`sensitive: {column}` is not a column of source `{source}`")]
    assert hint in diags[0]["hints"][0] and diags[0]["file"].endswith("segc.yml"), diags


@pytest.mark.parametrize("source, column", [("customers", "customer_id"), ("orders", "customer_id")])
def test_the_key_cannot_be_sensitive(tmp_path, source, column):
    # accepted, then listed by sample, hashed by holdout, joined by every segment: no
    # @allow_sensitive could cover what every definition reads
    (tmp_path / "segments").mkdir()
    config = {"name": "t", "entity": "customer", "base": "customers", "key": "customer_id",
              "sources": {"customers": {"table": "s.customers"},
                          "orders": {"table": "s.orders", "key": "customer_id", "time": "at"}},
              "features": {"age": {"type": "int"}}}
    config["sources"][source]["sensitive"] = [column]
    (tmp_path / "segc.yml").write_text(yaml.safe_dump(config), encoding="utf-8")
    (tmp_path / "segments" / "a.seg").write_text("segment a = true\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["check", "-p", str(tmp_path), "--format", "json"])
    assert result.exit_code == 1, result.output
    d, = json.loads(result.stdout)["diagnostics"]
    assert (d["code"], d["message"]) == \
        ("E005", f"`sensitive: {column}` is the key of source `{source}`, which every definition reads")
    assert "pseudonymous key" in d["hints"][0]
