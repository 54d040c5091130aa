# Two commands for a newcomer: `make demo` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The browser assets (GraphiQL, React, Cytoscape, Swagger UI) from npm, shipped as package data
VENDOR := api/web/static/vendor/VERSIONS.txt

.PHONY: install demo test lint bench churn-card neo4j-start neo4j-stop clean

$(STAMP): pyproject.toml $(VENDOR)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $(STAMP)

$(VENDOR): frontend/package.json frontend/package-lock.json scripts/build-assets
	scripts/build-assets

install: $(STAMP)

## demo: generate a world of export files (data/world), load it into the embedded store (./data)
## through the connectors, run the analytics and print the headline answers
demo: install
	$(BIN)/relgraph demo world data/world --load

## test: lint and type-check, start a local Neo4j (Java + Maven), run every test on both stores, stop Neo4j
test: install
	scripts/test.sh

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

## bench: the ingest, connectors, API, load-trust and analytics benchmarks (memory store and local Neo4j); figures go to
## docs/benchmarks.md. The connectors one compares its graph writes with the ingest run's; the
## API one serves the questions over HTTP and loads them with wrk (apt-get install wrk) if found.
BENCH_NEO4J := NEO4J_LOCAL_PORT=17688 NEO4J_LOCAL_PASSWORD=relgraph-bench
BENCH_ARGS := --uri bolt://127.0.0.1:17688 --password relgraph-bench --wipe \
	--server-pidfile .neo4j/server-17688/neo4j.pid --write-docs
bench: install
	$(BENCH_NEO4J) scripts/neo4j-local start
	$(BIN)/python bench/ingest.py all $(BENCH_ARGS) && \
		$(BIN)/python bench/connectors.py all $(BENCH_ARGS) && \
		$(BIN)/python bench/api.py all $(BENCH_ARGS) && \
		$(BIN)/python bench/trust.py --write-docs && \
		$(BIN)/python bench/analytics.py --write-docs; \
		status=$$?; $(BENCH_NEO4J) scripts/neo4j-local stop; exit $$status

## churn-card: the churn model card on the public IBM Telco table (docs/churn-model-card.md and
## docs/churn-calibration.png); fetches Debian's r-cran-modeldata with apt-get download.
churn-card: install
	$(BIN)/python -m tests.analytics.telco_public docs

neo4j-start:
	scripts/neo4j-local start

neo4j-stop:
	scripts/neo4j-local stop

clean:
	rm -rf $(VENV) data .pytest_cache .ruff_cache *.egg-info
