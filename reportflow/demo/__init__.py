"""The demo: one whole cycle of the sample report, with simulated division heads and director."""
