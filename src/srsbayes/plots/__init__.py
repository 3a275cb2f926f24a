"""Figures: pure functions from results to PNG bytes (matplotlib, Agg backend)."""
