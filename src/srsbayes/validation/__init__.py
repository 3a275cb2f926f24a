"""Validation of the model families: simulation-based calibration."""
