"""`segc lsp`: start the language server (segc.apps.lsp) on stdin/stdout."""
from __future__ import annotations


def lsp() -> None:
    """Start the language server for .seg files on stdin/stdout (for editors).

    Diagnostics (as segc check), completion, hover, go to definition, references,
    rename and formatting (as segc fmt). The project is the nearest folder upward from
    an opened file that holds segc.yml.

    Examples:

      segc lsp      # started by the editor: VS Code (editors/vscode), Neovim, Helix
    """
    from segc.apps.lsp.server import start

    start()
