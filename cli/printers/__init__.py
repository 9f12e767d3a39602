"""Printing what the commands return: Rich text and tables for people, JSON and CSV (data
only) for machines. One module per kind of result."""
