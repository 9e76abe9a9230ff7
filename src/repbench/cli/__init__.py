"""Thin typer commands; the logic lives in the library. One module per command group."""
