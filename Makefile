# Sluice: the two commands a user needs are `make run` and `make test`.
# Every target installs its Debian dependencies first (scripts/install-deps is idempotent).

JOBS ?= $(shell nproc)
FUZZ_SECONDS ?= 60
ARGS ?=

.PHONY: deps build run test test-release test-asan test-tiny bench bench-query bench-api fuzz clean

deps:
	@scripts/install-deps

build: deps
	cmake --preset release >/dev/null
	cmake --build --preset release -j $(JOBS)
	@ln -sf release/apps/sluice/sluice build/sluice

# Builds and starts the collector with its defaults (ports 2055, 4739, 6343).
run: build
	build/sluice serve $(ARGS)

# The ASan+UBSan build also runs with 2-row batches (every batch boundary exercised);
# `make test-tiny` is the same without the sanitizers, for a debugger.
test: deps test-release test-asan

test-release: build
	ctest --preset release -j $(JOBS)

test-asan: deps
	cmake --preset asan >/dev/null
	cmake --build --preset asan -j $(JOBS)
	ctest --preset asan -j $(JOBS)

test-tiny: deps
	cmake --preset tiny-batch >/dev/null
	cmake --build --preset tiny-batch -j $(JOBS)
	ctest --preset tiny-batch -j $(JOBS)

bench: build
	bench/run-all

# sluice query against nfdump on the same 50 M flows (builds them once under $$TMPDIR;
# several minutes and about 8 GB of disk). QUERY_ARGS=--flows 10000000 for a smaller run.
bench-query: build
	python3 bench/e2e/query_bench.py --build-dir build/release $(QUERY_ARGS)

# wrk against the HTTP API of a serve that ingests meanwhile (docs/BENCHMARKS.md).
bench-api: build
	python3 bench/e2e/api_bench.py --build-dir build/release $(API_ARGS)

# Runs every libFuzzer target for FUZZ_SECONDS each (clang, ASan+UBSan).
fuzz: deps
	cmake --preset fuzz >/dev/null
	cmake --build --preset fuzz -j $(JOBS)
	fuzz/run-all build/fuzz $(FUZZ_SECONDS)

clean:
	rm -rf build
