"""Sensitivity: prior and data sweeps, their verdicts, data variants and power-scaling."""
