"""Inputs: the study table (CSV) and outcome specs (TOML), validated before anything runs."""
