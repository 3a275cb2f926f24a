# Every target bootstraps .venv (Python 3.12 + the exact versions in uv.lock) first, so a fresh
# clone needs nothing else; `test` also installs Chromium for the browser tests.
PY := .venv/bin/python
.PHONY: setup browser report audit test bench validate

setup:
	@scripts/bootstrap

# Debian's chromium for tests/cli/test_report_browser.py (only the tests need a browser).
browser:
	@scripts/install-browser

report: setup
	$(PY) -m srsbayes report

audit: setup
	$(PY) -m srsbayes audit

# Lint, the manual's build (warnings are errors) and the whole suite.
test: setup browser
	$(PY) -m ruff check src tests benchmarks
	$(PY) -m mkdocs build --strict -q -d site
	$(PY) -m pytest -n 2 -q

bench: setup
	$(PY) benchmarks/bench_sweep.py

validate: setup
	$(PY) -m srsbayes validate

# The manual and its API reference (mkdocs.yml); --strict: any warning fails the build.
.PHONY: docs
docs: setup
	$(PY) -m mkdocs build --strict -d site
