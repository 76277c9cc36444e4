# Targets: test (the full test command, also CI's), vet, fuzz-seed, build, run, bench.
# scripts/test.sh starts its own PostgreSQL and Redis; see its header.

GO ?= go
FUZZTIME ?= 20000x

.PHONY: test vet fuzz-seed build run bench

## test: go vet, go test -race against real PostgreSQL/Redis, fuzz seed runs
test:
	FUZZTIME=$(FUZZTIME) bash ./scripts/test.sh

## vet: go vet ./...
vet:
	$(GO) vet ./...

## fuzz-seed: only the fuzz seed runs (FUZZTIME each, default 20000 runs); part of test
fuzz-seed:
	FUZZTIME=$(FUZZTIME) bash ./scripts/test.sh fuzz

## build: the bot binary in bin/
build:
	$(GO) build -o bin/dieuphoi ./cmd/dieuphoi

## run: run the bot from source (configured by the environment, see README)
run:
	$(GO) run ./cmd/dieuphoi

## bench: load benchmark (own PostgreSQL and Redis; BENCH_FLAGS=-quick for a smoke run); prints and writes bench-results.md
bench:
	bash ./scripts/bench.sh $(BENCH_FLAGS)
