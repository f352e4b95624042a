"""Typer command functions, one module per area; `kikimimi.cli` registers them."""
