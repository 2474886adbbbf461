"""The work of a cycle: plain functions (one entry point per action) and the Prefect tasks around them."""
