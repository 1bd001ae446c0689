# Two commands on a fresh clone: `make run` (set up, then start the app) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8501

.PHONY: setup run build test test-fast lint bench eval clean

setup: $(STAMP)

# torch goes in first and pinned: anything looser pulls several GB of CUDA wheels.
$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev,milvus]'
	touch $(STAMP)

build: setup
	$(BIN)/coverage-search build

# No index yet: build it here, with a progress bar. An index already there: refresh it in the
# background (the app reopens the new build by itself), so nobody waits to ask a question.
run: setup
	@if [ -f index/CURRENT ]; then \
		echo "Refreshing the index in the background (log: index/refresh.log)"; \
		($(BIN)/coverage-search build --quiet > index/refresh.log 2>&1 &); \
	else \
		$(BIN)/coverage-search build; \
	fi
	$(BIN)/streamlit run app.py --server.headless true --server.port $(PORT) \
		--browser.gatherUsageStats false

test: setup
	$(BIN)/ruff check src tests app.py bench
	$(BIN)/mypy
	$(BIN)/pytest

test-fast: setup
	$(BIN)/pytest -m "not slow and not browser and not eval"

lint: setup
	$(BIN)/ruff check src tests app.py bench
	$(BIN)/mypy

bench: setup
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) index/build-* index/CURRENT .pytest_cache .mypy_cache .ruff_cache test-artifacts
