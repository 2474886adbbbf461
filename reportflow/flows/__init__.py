"""Prefect flows: each reads as the story of what it does; the work is in `reportflow.tasks`."""
