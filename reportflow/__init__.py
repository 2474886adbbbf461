"""reportflow: the lifecycle of an official report, from request to dispatch."""

__version__ = "0.1.0"
