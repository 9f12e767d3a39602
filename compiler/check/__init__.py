"""Syntax tree -> checked program (segc.ir): the Checker, one module per concern."""
