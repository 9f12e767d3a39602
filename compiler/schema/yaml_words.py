"""What YAML 1.1 reads otherwise than it is written in segc.yml: `NO`, `on`, `yes`, `off`
are booleans, `1` a number. A feature's `values:` or a key so read would silently mean
something else than the text (the "Norway problem": the country code `NO` became 0), so
each is refused (E005) at the place where it is written, with the quoted spelling."""
from __future__ import annotations

import datetime as dt

from segc.front.yamlpos import Located


def _raw(located: Located, path: tuple) -> str:
    span = located.value_spans.get(path, (located.span(path), False))[0]
    return span.text()


def _read_as(value) -> str:
    """What YAML made of a plain scalar, in words."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null (no value)"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, (dt.date, dt.datetime)):
        return "a date"
    return f"a {type(value).__name__}"


def check_keys(located: Located, err) -> set[tuple]:
    """A key that YAML read as a boolean or null (`on:`, `no:`, `~:`), or as a number it
    writes otherwise (`1e3:`), names nothing the user wrote: E005 at the key. The paths
    of the keys refused."""
    refused = set()
    for path, value in located.retyped_keys.items():
        text = located.span(path).text()
        if isinstance(value, bool) or value is None or str(value) != text:
            refused.add(path)
            err(path, f"the key `{text}` is read by YAML as {_read_as(value)}, not as the name `{text}`",
                f'quote it: `"{text}":`')
    return refused


def check_values(located: Located, name: str, type_: str, err) -> None:
    """A string feature's `values:` are strings as written, an int feature's ints: an item
    that YAML read as another type is E005 at the item (never converted)."""
    raw = located.data.get("features", {}).get(name, {})
    items = raw.get("values") if isinstance(raw, dict) else None
    if not isinstance(items, list) or type_ not in ("string", "int"):
        return
    for i, item in enumerate(items):
        path = ("features", name, "values", i)
        text = _raw(located, path)
        if type_ == "string" and not isinstance(item, str):
            err(path, f"`{text}` in `values:` of `{name}` is read by YAML as {_read_as(item)}, "
                f"and `{name}` is a string", f'quote it: `"{text}"`')
        elif type_ == "int" and (isinstance(item, bool) or not isinstance(item, int)):
            err(path, f"`{text}` in `values:` of `{name}` is "
                + (f"read by YAML as {_read_as(item)}" if isinstance(item, bool) else "not an int")
                + f", and `{name}` is an int", "an int feature's values are whole numbers, e.g. `values: [1, 2, 3]`")
