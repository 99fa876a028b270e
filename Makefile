# The two commands a newcomer needs:
#   make run    start aixin on ./aixin-data (creates the first administrator)
#   make test   every test: vet, the OpenAPI lint, the race detector over all
#               packages (the PostgreSQL engine's against a real PostgreSQL
#               that the tests start), the HTTP tests again on PostgreSQL,
#               browser tests (with axe-core's accessibility rules) on
#               bbolt, and their flows again on PostgreSQL
# .ci/run calls `make test`.

GO ?= go

.PHONY: run test bench build fuzz

# The browser tests that run again on PostgreSQL in make test: every flow;
# the accessibility and large-text files look at the same pages and markup
# on either engine, and take four minutes, so they run on bbolt only here
# (AIXIN_TEST_ENGINE=postgres bash e2e/run.sh runs all of them).
PG_BROWSER_TESTS = $(filter-out tests/a11y.test.mjs tests/textsize.test.mjs,$(patsubst e2e/%,%,$(wildcard e2e/tests/*.test.mjs)))

run:
	$(GO) run ./cmd/aixin serve --demo

test:
	$(GO) vet ./...
	bash tools/openapi-lint/run.sh
	bash tools/postgres/install.sh
	$(GO) test -race -count=1 -timeout 20m ./...
	AIXIN_TEST_ENGINE=postgres $(GO) test -race -count=1 -timeout 20m ./handlers
	bash e2e/run.sh
	AIXIN_TEST_ENGINE=postgres bash e2e/run.sh $(PG_BROWSER_TESTS)

# Durable-append, verify, balance and monthly-export benchmarks (several
# minutes; builds a 1,000,000-entry file in $${AIXIN_BENCH_DIR:-/tmp} the first time).
bench:
	$(GO) test ./store/bolt -run '^$$' -bench Append -benchtime 20000x -timeout 60m
	$(GO) test ./store/bolt -run '^$$' -bench 'Verify1M|Balance' -timeout 30m
	$(GO) test ./store/bolt -run '^$$' -bench ExportMonth1M -benchtime 5x -timeout 30m
	bash tools/postgres/install.sh
	$(GO) test ./store/postgres -run '^$$' -bench Engines -benchtime 20000x -timeout 60m

build:
	$(GO) build -o bin/aixin ./cmd/aixin

# A short run of every fuzz target.
fuzz:
	@for pkg in ./ledger ./handlers ./roster; do \
	  for f in $$($(GO) test $$pkg -list '^Fuzz' | grep ^Fuzz); do \
	    $(GO) test $$pkg -run '^$$' -fuzz "^$$f$$" -fuzztime 20s || exit 1; \
	  done; \
	done
