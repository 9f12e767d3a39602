"""The segc command line (Typer): a thin layer over the segc API."""
