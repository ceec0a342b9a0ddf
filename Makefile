# JD Cloud VM resizer. `make demo` and `make test` are the two commands a
# newcomer needs; see README.md.
SHELL := /bin/bash
GO ?= go
GOBIN := $(shell $(GO) env GOPATH)/bin
export PATH := $(GOBIN):$(PATH)

GOARCH ?= $(shell $(GO) env GOARCH)
BUILD_FLAGS := -tags lambda.norpc -trimpath -ldflags '-s -w' -buildvcs=false
STATICCHECK_VERSION := v0.8.2

.PHONY: build build-ResizeFunction test test-unit fuzz demo bench lint tools clean

## build: bin/bootstrap for Linux on the host architecture (GOARCH=arm64 make build for Graviton)
build:
	CGO_ENABLED=0 GOOS=linux GOARCH=$(GOARCH) $(GO) build $(BUILD_FLAGS) -o bin/bootstrap ./function

## build-ResizeFunction: what `sam build` calls (BuildMethod: makefile); the template is arm64
build-ResizeFunction:
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build $(BUILD_FLAGS) -o $(ARTIFACTS_DIR)/bootstrap ./function

## tools: the emulator, dynalite and Prometheus Alertmanager the tests run against (idempotent)
tools:
	@scripts/install-rie.sh >/dev/null
	@scripts/dynalite.sh >/dev/null
	@scripts/alertmanager.sh >/dev/null

## test: every test, end to end under the Lambda Runtime Interface Emulator included
test: tools build
	$(GO) test -race -count=1 -timeout 15m ./...
	$(MAKE) fuzz

## fuzz: a short run of every fuzz target on top of its checked-in corpus
FUZZTIME ?= 10s
fuzz:
	@GO=$(GO) FUZZTIME=$(FUZZTIME) scripts/fuzz.sh

## demo: simulator + function under the emulator; sends events/ and prints each outcome
demo: build
	@scripts/install-rie.sh >/dev/null
	$(GO) run ./cmd/demo

## bench: bin/bootstrap side by side with a bare aws-lambda-go function under the
## emulator (cold start, warm dry run, size, peak RSS), then the hot path's Go
## benchmarks, then the storm (50 stopped instances resized at once against a
## simulator taking 20 requests/s, over HTTP and as SQS batches), then
## stop → resize → start against 5.5 s transitions (bench/stopstart), then
## the bootstrap's package-init costs (bench/inittrace); prints
## markdown tables and writes them to bench/RESULTS.md.
## Both binaries are built for the host: the emulator runs them here.
bench:
	@scripts/install-rie.sh >/dev/null
	$(MAKE) build GOARCH=$$($(GO) env GOHOSTARCH)
	CGO_ENABLED=0 GOOS=linux GOARCH=$$($(GO) env GOHOSTARCH) $(GO) build $(BUILD_FLAGS) -o bin/bare/bootstrap ./bench/bare
	CGO_ENABLED=0 GOOS=linux GOARCH=$$($(GO) env GOHOSTARCH) $(GO) build $(BUILD_FLAGS) -o bin/floor/bootstrap ./bench/floor
	$(GO) run ./bench/sidebyside -go $(GO)
	$(GO) run ./bench/storm
	$(GO) run ./bench/stopstart
	$(GO) run ./bench/inittrace

lint:
	@test -z "$$(gofmt -l .)" || { gofmt -l .; exit 1; }
	$(GO) vet ./...
	@command -v staticcheck >/dev/null || $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	staticcheck ./...

clean:
	rm -rf bin .cache
