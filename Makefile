# Every entry point of the kit. Needs only python3: the first target that needs the
# environment creates .venv with pip and installs the kit once; later runs reuse it.
PYTHON ?= python3
VENV   := .venv
BIN    := $(CURDIR)/$(VENV)/bin
STAMP  := $(VENV)/.installed
# nbgrader shells out to alembic, so the venv's bin/ must be on PATH.
RUN    := PATH="$(BIN):$$PATH" MPLBACKEND=Agg
WORKERS ?= 2
# The JupyterLite site: rebuilt when the release, coursekit or the build's pins change.
# PYODIDE_DIST=path/to/pyodide-0.27.7.tar.bz2 (or its folder) takes the Pyodide packages from a
# distribution you downloaded; LITE_CACHE moves the download cache (~/.cache/autodiff-course-kit).
LITE_SITE := output/lite/packages.json
LITE_INPUTS := tools/lite/build.py tools/lite/requirements.txt \
	$(wildcard course/[0-9][0-9]-*/*.ipynb) $(wildcard course/coursekit/*.py)
export PYODIDE_DIST LITE_CACHE

.PHONY: help setup system-deps demo test lint lab formgrader bench release gradescope lite clean

help:
	@echo "make demo      grade the bundled example class (sets everything up first)"
	@echo "make test      run the whole test suite (sets everything up first)"
	@echo "make lab       start JupyterLab on course/ for students"
	@echo "make formgrader  JupyterLab with nbgrader's formgrader on the course (grade by hand)"
	@echo "make release   regenerate course/ from solutions/ with nbgrader"
	@echo "make bench     run the benchmarks (BENCH=autodiff or BENCH=grading for one) into output/bench/"
	@echo "make gradescope  build output/gradescope/autograder.zip from the current release"
	@echo "make lite      build the zero-install browser site into output/lite/ (JupyterLite)"
	@echo "make clean     remove the environment, work folders and outputs"

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,lite]'
	touch $(STAMP)

setup: $(STAMP)

system-deps:
	@sh tools/install-system-deps

demo: setup system-deps
	$(RUN) $(BIN)/python -m autograder demo

test: setup system-deps $(LITE_SITE)
	$(RUN) $(BIN)/python -m pytest -n $(WORKERS) --dist loadgroup

lint: setup
	$(BIN)/ruff check .

lab: setup
	$(RUN) $(BIN)/python tools/lab.py

formgrader: setup
	$(RUN) $(BIN)/python tools/formgrader.py

release: setup
	$(RUN) $(BIN)/python -m autograder release

bench: setup
	$(RUN) $(BIN)/python -m bench $(BENCH)

gradescope: setup
	$(RUN) $(BIN)/python -m autograder gradescope


lite: $(LITE_SITE)

$(LITE_SITE): $(STAMP) $(LITE_INPUTS)
	$(RUN) $(BIN)/python tools/lite/build.py

clean:
	rm -rf $(VENV) work output build dist *.egg-info .pytest_cache .ruff_cache .hypothesis
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
