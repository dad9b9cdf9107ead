.PHONY: install format lint typecheck test demo

install:
	python3 -m venv .venv && .venv/bin/pip install -e ".[local,dev]"

format:
	.venv/bin/ruff format . && .venv/bin/ruff check --fix .

lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check .

typecheck:
	.venv/bin/pyright

test:
	.venv/bin/pytest

demo:
	.venv/bin/python -m examples.quickstart
