# EraDiff-lite. The two commands of the README:
#   make course   run every notebook in order (default profile) into runs/<timestamp>/
#   make test     the whole test suite (unit tests, each notebook executed twice in smoke by nbval: as committed, the
#                 exercises' blank templates falling back to the reference, then with ERADIFF_SOLUTIONS=1, every
#                 exercise running its solution); CI runs exactly this
# Both create .venv and install everything on a fresh machine.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# Installed only when the environment has no torch yet; a torch that is already there is never touched.
TORCH_SPEC ?= torch==2.13.0
STAMP := $(VENV)/.eradiff-installed
NOTEBOOKS := $(sort $(wildcard notebooks/[0-9][0-9]_*.ipynb))

COLAB_VENV ?= .venv-colab

.PHONY: course test test-colab lint lab setup slides clean-runs

setup: $(STAMP)

# Each step says what it does, and about how long it takes, before it starts.
$(STAMP): pyproject.toml requirements.txt
	@echo "setup 1/4: the environment $(VENV)"
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -c "import torch" 2>/dev/null || { echo "setup 2/4: installing $(TORCH_SPEC) (the largest download: pip shows its progress)"; \
		$(PY) -m pip install --progress-bar on "$(TORCH_SPEC)"; }
	@echo "setup 3/4: installing the course's packages (requirements.txt; about a minute, more on a slow network)"
	$(PY) -m pip install -q -r requirements.txt
	@# pymatting compiles its numba kernels on first import (about 30 s); do it once here.
	@echo "setup 4/4: compiling pymatting's kernels (about 30 s)"
	$(PY) -c "import pymatting, eradiff_lite; print('eradiff_lite', eradiff_lite.__version__, 'installed')"
	@touch $(STAMP)

course: $(STAMP)
	$(PY) -m eradiff_lite course

test: $(STAMP)
	$(PY) -m ruff check eradiff_lite tests
	ERADIFF_SOLUTIONS=0 ERADIFF_PROFILE=smoke OMP_NUM_THREADS=1 $(PY) -m pytest -n 2 --dist loadfile \
		--nbval-lax --nbval-sanitize-with tests/nbval_sanitize.cfg tests $(NOTEBOOKS)
	@# the second run: every notebook again, each build exercise running its solution (the `solutions` parameter);
	@# about 1.5 min on two cores that were busy training
	ERADIFF_SOLUTIONS=1 ERADIFF_PROFILE=smoke OMP_NUM_THREADS=1 $(PY) -m pytest -n 2 --dist loadfile \
		--nbval-lax --nbval-sanitize-with tests/nbval_sanitize.cfg $(NOTEBOOKS)
	$(MAKE) test-colab

# Colab's own package set (.ci/colab-2026-08-py313.txt, rebuilt by .ci/colab_env.py): every notebook's Colab
# cell installs the course into it through a kernel that preloads numpy, PIL and ipywidgets, then the unit
# tests run there too.
test-colab: $(STAMP)
	$(PYTHON) .ci/colab_env.py --venv $(COLAB_VENV)
	ERADIFF_COLAB_VENV=$(COLAB_VENV) ERADIFF_PROFILE=smoke OMP_NUM_THREADS=1 $(PY) -m pytest tests/test_colab_runtime.py
	$(COLAB_VENV)/bin/python tools/colab_install.py --extras test,notebooks --quiet
	ERADIFF_PROFILE=smoke OMP_NUM_THREADS=1 $(COLAB_VENV)/bin/python -m pytest -n 2 --dist loadfile tests \
		--ignore=tests/test_notebooks.py --ignore=tests/test_colab_runtime.py

# reveal.js slides of every notebook (with its committed outputs) into runs/slides/; the decks load reveal.js
# from its public CDN (docs/teaching.md)
slides: $(STAMP)
	$(PY) tools/nbbuild.py slides $(NOTEBOOKS) --out runs/slides
	$(PY) tools/nbbuild.py lectures docs/lecture_decks.json --out runs/slides

lint: $(STAMP)
	$(PY) -m ruff check eradiff_lite tests

lab: $(STAMP)
	@$(PY) -c "import jupyterlab" 2>/dev/null || $(PY) -m pip install -q "jupyterlab>=4.0"
	$(VENV)/bin/jupyter lab notebooks

clean-runs:
	rm -rf runs
