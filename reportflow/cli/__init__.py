"""The command line: `reportflow` (console script `reportflow.cli:main`, or `python -m
reportflow.cli`)."""

from reportflow.cli.app import app, main

__all__ = ["app", "main"]
