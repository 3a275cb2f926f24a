# Every target bootstraps .venv (Python 3.12 + dependencies) first, so a fresh clone needs nothing else.
PY := .venv/bin/python
.PHONY: setup report audit test lint bench validate

setup:
	@scripts/bootstrap

report: setup
	$(PY) -m srsbayes report

audit: setup
	$(PY) -m srsbayes audit

test: setup
	$(PY) -m ruff check src tests benchmarks
	$(PY) -m pytest -n 2 -q

bench: setup
	$(PY) benchmarks/bench_sweep.py

validate: setup
	$(PY) -m srsbayes validate
