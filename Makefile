# Two commands do everything on a fresh machine with Python 3.11 and pip:
#   make dataset   set up .venv, fetch real MNIST, build ./ldmnist with the shipped 32-d VAEs,
#                  then add the benchmark table, the figures and the fidelity table to its card
#   make test      set up .venv if needed and run the test suite
# `make PYTHON=python3.12 setup` makes .venv with that interpreter; one .venv made with another stops it.
# Recipe comments sit in column 0: make reads them, the shell never sees (or echoes) them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The interpreter PYTHON names, as .venv/.installed records the one .venv was made with.
INTERPRETER = $(PYTHON) -c 'import os, sys; print(os.path.realpath(sys.executable), sys.version.split()[0])'
# Quiet installs: pip's --quiet leaves the build backend's warnings (setuptools' "Editable installation" banner).
PIP := PYTHONWARNINGS=ignore::UserWarning $(BIN)/pip

.PHONY: setup check-python dataset ld-fashion-mnist test test-slow test-floor lint bench cards screenshots

$(VENV)/.installed: setup.cfg pyproject.toml | check-python
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
# torch first, pinned: 2.13.0 is the CPU build this project is tested with
	$(PIP) install --quiet torch==2.13.0
	$(PIP) install --quiet -e ".[test]"
	$(INTERPRETER) > $@

# A PYTHON given (`make PYTHON=python3.12 setup`, or in the environment) must be the one .venv was made with:
# otherwise stop and say how to recreate .venv, rather than silently keep the old one.
check-python:
	@if [ -f $(VENV)/.installed ] && [ -n "$(filter command line environment,$(origin PYTHON))" ]; then \
		want="$$($(INTERPRETER))" || { echo "make: PYTHON=$(PYTHON) does not run" >&2; exit 1; }; \
		have="$$(cat $(VENV)/.installed)"; \
		[ -n "$$have" ] || have="$$($(BIN)/python -c 'import os, sys; print(os.path.realpath(sys._base_executable), sys.version.split()[0])' 2>/dev/null)"; \
		if [ "$$want" != "$$have" ]; then \
			echo "make: $(VENV) was made with $${have:-another Python}, not PYTHON=$(PYTHON) ($$want)." >&2; \
			echo "Recreate it with that interpreter: rm -rf $(VENV) && make PYTHON=$(PYTHON) setup" >&2; \
			exit 1; \
		fi; \
	fi

setup: $(VENV)/.installed

dataset: setup
	$(BIN)/ldmnist fetch-mnist
	$(BIN)/ldmnist build --output-dir ldmnist --format numpy --overwrite
	$(BIN)/ldmnist benchmark --dataset ldmnist
	$(BIN)/ldmnist report --dataset ldmnist
# the 2020 recipe's rerun (model set `reference`) beside the publication and the fast recipe
	$(BIN)/ldmnist build --image-vae image-vae-32-reference --class-vae class-vae-32-reference \
		--output-dir ldmnist-reference --overwrite
	$(BIN)/ldmnist benchmark --dataset ldmnist-reference --middle-layers middle-layers-32-reference
	$(BIN)/ldmnist fidelity --rerun-dataset ldmnist-reference --fast-dataset ldmnist --card ldmnist/README.md

# LD-Fashion-MNIST with its shipped VAEs (Fashion-MNIST: Debian's dataset-fashion-mnist, else the Hub), its
# benchmark into its card (README.md's ladder: the same command with --readme README.md)
ld-fashion-mnist: setup
	$(BIN)/ldmnist fetch --source fashion-mnist
	$(BIN)/ldmnist build --source fashion-mnist --output-dir ld-fashion-mnist --overwrite
	$(BIN)/ldmnist benchmark --dataset ld-fashion-mnist

test: setup
	$(BIN)/python -m pytest

test-slow: setup
	$(BIN)/python -m pytest -m slow

# The suite on the lowest versions setup.cfg allows (torch stays 2.13.0, the CPU build on this machine),
# in its own venv: shows that the lower bounds are true.
FLOOR := numpy==1.26.4 transformers==4.46.0 huggingface-hub==0.26.0 datasets==4.0.0 evaluate==0.4.3 \
	safetensors==0.4.3 pyarrow==15.0.0 tqdm==4.66.3 Pillow==10.0.0 matplotlib==3.8.0 jinja2==3.1.0
test-floor:
	$(PYTHON) -m venv .venv-floor
	PYTHONWARNINGS=ignore::UserWarning .venv-floor/bin/pip install --quiet --upgrade pip
	PYTHONWARNINGS=ignore::UserWarning .venv-floor/bin/pip install --quiet torch==2.13.0
	PYTHONWARNINGS=ignore::UserWarning .venv-floor/bin/pip install --quiet -e ".[test]" $(FLOOR)
	.venv-floor/bin/pip check
	.venv-floor/bin/python -m pytest

# The Spaces' screenshots in their cards and README: the browser tests, with the full benchmark (as ./ldmnist has).
screenshots: setup
	LDMNIST_SCREENSHOTS=1 LDMNIST_TEST_NAMESPACE=your-namespace $(BIN)/python -m pytest tests/scenarios/test_spaces.py -p no:randomly

cards: setup
	$(BIN)/ldmnist cards --into-package --readme docs/training.md

lint: setup
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

bench: setup
	$(BIN)/python bench/train_step.py
