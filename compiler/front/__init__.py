"""Text -> syntax tree: sources and spans, diagnostics, the AST, the parser, YAML with
positions, the formatter, and files (the one reader and the one atomic writer)."""
