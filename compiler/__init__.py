"""segc: compile customer-segment definitions to SQL for any warehouse.

    import segc
    project = segc.load_project("examples/retail")
    sql = project.compile("loyal_big_basket", dialect="snowflake")
"""
from segc.front.errors import Diagnostic, SegcError

__version__ = "0.1.0"
__all__ = ["Diagnostic", "SegcError", "load_project", "__version__"]


def load_project(path=".", params=None, as_of=None):
    """Load and check the project at `path` (a folder with segc.yml); raises SegcError."""
    from segc.project import load_project as _load

    return _load(path, params=params, as_of=as_of)
