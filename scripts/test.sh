#!/usr/bin/env bash
# Lint, then every test. On CI, installs Debian's chromium for the browser tests (tests/web). Starts
# a local Neo4j for the conformance suite's Neo4j leg when Java and Maven are here (on CI they must
# be: with CI=true a missing Neo4j fails the run, never skips it).
# Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=.venv/bin

"$bin/ruff" check .
"$bin/mypy"

# The pages' browser tests (tests/web) drive Debian's chromium through Playwright, which never
# downloads a browser of its own; on CI a missing chromium fails them (tests/web/conftest.py).
if [ "${CI:-}" = "true" ] && ! command -v chromium >/dev/null 2>&1 \
    && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "test.sh: CI without chromium: installing it from Debian's packages" >&2
    apt-get update -qq && apt-get install -y -qq chromium >/dev/null
fi

if [ -z "${RELGRAPH_TEST_NEO4J_URI:-}" ]; then
    if [ "${CI:-}" = "true" ] && ! { command -v java && command -v mvn; } >/dev/null 2>&1 \
        && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
        echo "test.sh: CI without Java/Maven: installing them from Debian's packages" >&2
        apt-get update -qq && apt-get install -y -qq openjdk-17-jdk-headless maven >/dev/null
    fi
    if command -v java >/dev/null 2>&1 && command -v mvn >/dev/null 2>&1; then
        export NEO4J_LOCAL_PORT="${NEO4J_TEST_PORT:-17687}"
        export NEO4J_LOCAL_PASSWORD="relgraph-test"
        # The trap first: a start that fails half-way or is interrupted still stops the server.
        trap 'scripts/neo4j-local stop' EXIT
        scripts/neo4j-local start
        export RELGRAPH_TEST_NEO4J_URI="bolt://127.0.0.1:$NEO4J_LOCAL_PORT"
        export RELGRAPH_TEST_NEO4J_PASSWORD="$NEO4J_LOCAL_PASSWORD"
        export RELGRAPH_REQUIRE_NEO4J=1
    elif [ "${CI:-}" = "true" ]; then
        echo "test.sh: CI=true but Java 17 and Maven are missing: the Neo4j leg cannot run" >&2
        exit 1
    else
        echo "test.sh: no Java/Maven here: the Neo4j leg of the conformance suite will SKIP" >&2
    fi
fi

"$bin/python" -m pytest "$@"
