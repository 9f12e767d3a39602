"""The language server of `segc lsp` (DESIGN §8.4): workspace.py keeps the checked
project and re-checks one changed buffer; server.py speaks LSP (pygls) over stdio."""
