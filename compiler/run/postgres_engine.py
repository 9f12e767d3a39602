"""The PostgreSQL engine (psycopg): the sources are tables in the database; the DSN is never
echoed."""
from __future__ import annotations

from segc.front.errors import Diagnostic, Interrupted, SegcError
from segc.run.engine import Engine, engine_message, naive_utc


class PostgresEngine(Engine):
    """PostgreSQL through psycopg. The DSN is never echoed: messages name only the host."""

    dialect = name = "postgres"

    def __init__(self, dsn: str):
        try:
            import psycopg
        except ImportError:
            raise SegcError(Diagnostic("E720", "the postgres engine needs psycopg",
                                       hints=("install segc's PostgreSQL extra: pip install \"segc[postgres]\" (it brings psycopg[binary])",))) from None
        try:
            # UTF8 whatever the database's encoding (LATIN1, SQL_ASCII) or PGCLIENTENCODING say:
            # the compiled SQL holds the project's text (a value `Łódź`, a column `Ville_é`),
            # which psycopg encodes in the client encoding; the server converts to its own
            self.con = psycopg.connect(dsn, autocommit=True, connect_timeout=10, client_encoding="UTF8")
            # the session's time zone decides how a TIMESTAMPTZ compares with a timestamp or
            # date; the server's default or PGTZ would make counts depend on where they run
            self.con.execute("SET TimeZone = 'UTC'")
            # floats travel as text: a database or role set to extra_float_digits <= 0 would
            # send them rounded (to 12 digits at -3), and every figure computed from them
            # (profile, lift, score fit) would move; 3 (or PostgreSQL 12's default 1) is exact
            self.con.execute("SET extra_float_digits = 3")
        except psycopg.Error as e:
            raise SegcError(Diagnostic("E721", "cannot connect to PostgreSQL" + _where(dsn),
                                       hints=(_pg_reason(e),))) from None
        except Exception:  # a malformed DSN
            raise SegcError(Diagnostic("E721", "cannot connect to PostgreSQL: the DSN is malformed",
                                       hints=("e.g. postgresql://user@host:5432/db, or set SEGC_DSN",))) from None

    def execute(self, sql: str) -> list[tuple]:
        import psycopg

        try:
            with self.con.cursor() as cur:
                cur.execute(sql)
                return [tuple(_plain(v) for v in row) for row in cur.fetchall()]
        except KeyboardInterrupt:  # psycopg has already asked the server to cancel the query
            raise Interrupted("interrupted: the query was cancelled") from None
        except UnicodeError:  # a SQL_ASCII database passes its bytes through unconverted
            raise SegcError(_not_utf8()) from None
        except psycopg.Error as e:
            if getattr(e, "sqlstate", None) == "22021":  # invalid byte sequence: its bytes are a row's
                raise SegcError(_not_utf8()) from None
            hint = engine_message(e)
            if getattr(e, "sqlstate", None) == "42P01":
                hint = "a source table is missing: " + hint + " (check `table:` in segc.yml)"
            elif getattr(e, "sqlstate", None) == "22P05":  # untranslatable character
                hint = ("the database's encoding cannot hold a character of the query (a string or a name "
                        "in a segment or segc.yml): write it as the database stores it, or use a UTF8 database")
            raise SegcError(Diagnostic("E722", "the query failed on PostgreSQL", hints=(hint,))) from None

    def execute_in_transaction(self, statements: list[str]) -> None:
        """Run the statements in one transaction: all of them, or (on any error, or a
        kill: the server rolls back) none (`segc snapshot --table`)."""
        import psycopg

        try:
            with self.con.transaction(), self.con.cursor() as cur:
                for sql in statements:
                    cur.execute(sql)
        except KeyboardInterrupt:
            raise Interrupted("interrupted: the transaction was rolled back") from None
        except UnicodeError:
            raise SegcError(_not_utf8()) from None
        except psycopg.Error as e:
            raise SegcError(Diagnostic("E722", "the query failed on PostgreSQL", hints=(engine_message(e),))) from None

    def close(self) -> None:
        self.con.close()


def _not_utf8() -> Diagnostic:
    """A text read from a SQL_ASCII database that is not UTF-8 (its bytes, which would be a
    row's value, are not shown)."""
    return Diagnostic("E722", "the query failed on PostgreSQL: a text in the database is not valid in its "
                      "encoding", hints=(
        "a SQL_ASCII database keeps bytes as they were written, and segc reads text as UTF-8: convert the "
        "table's text to UTF-8 (or create the database with ENCODING 'UTF8')",))


def _plain(v):
    from decimal import Decimal

    return float(v) if isinstance(v, Decimal) else naive_utc(v)


def _where(dsn: str) -> str:
    try:
        from psycopg.conninfo import conninfo_to_dict

        info = conninfo_to_dict(dsn)
    except Exception:
        return ""
    host = info.get("host") or "localhost"
    return f" at {host}:{info.get('port') or 5432}" if "/" not in str(host) else ""


def _pg_reason(e: Exception) -> str:
    text = str(e).lower()
    if "invalid" in text and ("connection option" in text or "uri" in text) or 'missing "="' in text \
            or "connection info string" in text or "percent-encoded" in text:
        return "the DSN is malformed: e.g. postgresql://user@host:5432/db"
    if "invalid value for parameter" in text or "unrecognized configuration parameter" in text:
        return "the server refused a setting the DSN gives (options=-c ...): check its name and value"
    if "password" in text and ("authentication" in text or "failed" in text):
        return "authentication failed: check the user and password"
    if "does not exist" in text and "database" in text:
        return "the database does not exist"
    if "refused" in text or "could not connect" in text or "timeout" in text or "no such file" in text:
        return "the server is unreachable: check host and port, and that it is running"
    return "the server refused the connection"
