# Trợ lý Khuyến công — two commands for a newcomer: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install run console test test-fast lint eval eval-legal bench bench-load reindex doctor clean

install: $(STAMP)

# torch first, the CPU wheel: here the local package index has it; on an ordinary machine
# pass TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu (a plain PyPI torch is the
# multi-GB CUDA build). An installed torch==2.13.0 is kept.
TORCH_INDEX_URL ?=
$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q "torch==2.13.0" $(if $(TORCH_INDEX_URL),--index-url $(TORCH_INDEX_URL))
	$(PY) -m pip install -q -e ".[dev]"
	touch $(STAMP)

run: install
	$(PY) -m scripts migrate
	$(PY) -m scripts reindex --if-needed
	$(PY) -m bot

console: install
	$(PY) -m bot --console

# Two pytest workers per core, at most four (each loads its own model, ~1 GB): many tests
# wait on a child bot process or a timer, so a second worker per core keeps the cores busy
# (warm `make test` on 2 cores: 2 min 39 s with two workers, 2 min 13 s with four). Whole
# modules go to a worker, longest first (see tests/conftest.py), so the workers finish together.
# 2026-12-03 16:25 UTC, AVX-512 machine, quiet: warm 71 / 67 / 68 s (≈ 130 CPU-s, so ≥ 60 s
# on two cores); 117-119 s while two other sessions evaluated (README "Development").
PYTEST_N := $(shell $(PYTHON) -c "import os; print(min(4, 2 * (os.cpu_count() or 1)))")
PYTEST_WORKERS ?= -n $(PYTEST_N) --dist loadscope --no-loadscope-reorder

# Bytecode is cached even where the environment sets PYTHONDONTWRITEBYTECODE (this machine
# does): each worker otherwise recompiles and assertion-rewrites ~100 test modules, 2.3 of
# its 6.2 CPU-s of collection.
test test-fast: export PYTHONDONTWRITEBYTECODE =

test: install
	$(PY) -m ruff check .
	$(PY) -m mypy
	$(PY) -m pytest -q $(PYTEST_WORKERS)

# The inner loop: no lint, nothing marked slow, SQLite only; stops at the first failure.
test-fast: install
	$(PY) -m pytest -q -x -m "not slow and not postgres"

lint: install
	$(PY) -m ruff check .
	$(PY) -m mypy

eval: install
	$(PY) -m scripts.evaluate --questions ../shared/eval/dev_questions.jsonl --all-modes

# The legal dev set over knowledge/ plus ../shared/corpus (test data, never needed at run time):
# knowledge/ is copied into data/eval-legal/knowledge, the corpus imported there with
# `khuyencong add` (the admin's bulk import: README and *.raw are skipped), and both are
# indexed into data/eval-legal/index. Unchanged files keep their vectors between runs.
LEGAL_ENV := KNOWLEDGE_DIR=data/eval-legal/knowledge INDEX_DIR=data/eval-legal/index
eval-legal: install
	mkdir -p data/eval-legal/knowledge
	rsync -a --delete knowledge/ data/eval-legal/knowledge/
	$(LEGAL_ENV) $(PY) -m scripts add ../shared/corpus
	$(LEGAL_ENV) $(PY) -m scripts.evaluate --questions ../shared/eval/legal_dev.jsonl --all-modes
	$(LEGAL_ENV) $(PY) -m scripts.evaluate --questions ../shared/eval/dev_questions.jsonl

bench: install
	$(PY) -m scripts.bench

# The real bot process against a loopback fake Bot API: 50 users x 5 questions, 200
# concurrent registrations with a staff chat, and kill -9 mid-registration (scripts/loadtest.py).
# Extra options: make bench-load ARGS="--scenario ask --users 20 --json"
bench-load: install
	$(PY) -m scripts loadtest $(ARGS)

reindex: install
	$(PY) -m scripts reindex

doctor: install
	$(PY) -m scripts doctor

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache
