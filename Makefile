# edgenn: developer entry points.
#   make setup      install toolchains/emulators (apt, only what is missing) and .venv (scripts/setup.sh)
#   make test       setup, then the whole test suite on 2 workers
#   make demo       setup, then the end-to-end demo (python -m edgenn.demo)
#   make schema     regenerate format/schema/operators.fbs and format/schema/fb (needs flatc)
#   make clean      remove caches and build outputs; make distclean also removes .venv

PYTHON := .venv/bin/python
PYTEST_ARGS ?=

.PHONY: setup test demo schema clean distclean

setup:
	@bash scripts/setup.sh

test: setup
	$(PYTHON) -m pytest -q -n 2 $(PYTEST_ARGS) tests

demo: setup
	$(PYTHON) -m edgenn.demo

schema:
	python3 scripts/gen_schema.py

clean:
	find . -path ./.venv -prune -o -path ./.git -prune -o \
		\( -name __pycache__ -o -name .pytest_cache \) -type d -print0 | xargs -0 rm -rf
	rm -rf build dist *.egg-info

distclean: clean
	rm -rf .venv
