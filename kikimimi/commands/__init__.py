"""Typer sub-apps that kikimimi/cli.py mounts."""
