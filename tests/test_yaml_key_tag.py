"""A segc.yml key with a tag PyYAML cannot construct is E001 at the key, not a traceback."""
from segc.front.errors import SegcError
from segc.front.source import Source
from segc.front.yamlpos import load_yaml


def test_a_tagged_key_is_e001_at_the_key():
    text = "name: t\n!weird sources:\n  customers: {table: shop.customers}\n"
    try:
        load_yaml(Source("segc.yml", text))
    except SegcError as e:
        (d,) = e.diagnostics
    else:
        raise AssertionError("no diagnostic")
    assert d.code == "E001" and d.message == ("invalid key `!weird sources`: could not determine a constructor "
                                              "for the tag '!weird'")
    assert (d.span.start, d.span.end) == (text.index("!weird"), text.index(":\n  customers"))
