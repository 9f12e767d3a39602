"""pytest fixtures for executing SQL on DuckDB, SQLite and PostgreSQL.

Register from tests/conftest.py with ``pytest_plugins = ["tests.pg_fixture"]``
(or ``from tests.pg_fixture import pg_dsn, open_engines``).

- ``pg_dsn`` (session): starts one throwaway PostgreSQL server for the whole session
  and yields its DSN. No PostgreSQL binaries => RuntimeError => the tests ERROR
  (never skip).
- ``open_engines`` (function): a callable ``open_engines(names=ENGINES) -> list[Engine]``;
  each call opens new, empty engines (PostgreSQL: a fresh database); every engine it
  opened is closed when the test ends.

Hypothesis refuses function-scoped fixtures in ``@given`` tests (health check
``function_scoped_fixture``): there, open engines inside the test with
``engines.open_engine(name, pg_dsn)`` in a ``with`` block, or build a module-scoped
fixture on top of ``pg_dsn``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

import pytest

from tests import pg_server
from tests.engines import ENGINES, Engine, open_engine


@pytest.fixture(scope="session")
def pg_dsn() -> Iterator[str]:
    server = pg_server.start()
    try:
        yield server.dsn
    finally:
        server.stop()


@pytest.fixture
def open_engines(pg_dsn: str) -> Iterator[Callable[..., list[Engine]]]:
    opened: list[Engine] = []

    def _open(names: Iterable[str] = ENGINES) -> list[Engine]:
        engines = []
        for name in names:
            engine = open_engine(name, pg_dsn)
            opened.append(engine)
            engines.append(engine)
        return engines

    yield _open
    for engine in opened:
        engine.close()
