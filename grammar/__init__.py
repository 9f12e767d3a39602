"""The segment-language grammar, shipped as a data file, and the parser built from it
ahead of time (segment_parser.py, written by `python -m segc.grammar.build`)."""
from pathlib import Path

GRAMMAR_PATH = Path(__file__).with_name("segment.lark")
# how the grammar is turned into a parser: one LALR table for both start rules, a lexer
# that only looks for the terminals the parser can take next
LARK_OPTIONS = {"parser": "lalr", "lexer": "contextual", "start": ["file", "expr_file"], "maybe_placeholders": True}
