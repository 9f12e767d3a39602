"""The segment-language grammar, shipped as a data file."""
from pathlib import Path

GRAMMAR_PATH = Path(__file__).with_name("segment.lark")
