# idicbot — the two commands a newcomer needs are `make run` and `make test`.
GO ?= go

.PHONY: run test eval bench fuzz lint build release vet fmt clean

## run: start the bot on the built-in defaults (web chat on http://127.0.0.1:8080, data in ./data)
run:
	$(GO) run ./cmd/idicbot serve

## test: vet, format check and the whole test suite with the race detector
test: vet
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) test -race -count=1 ./...

## eval: how well the bot understands messages: accuracy per intent and the confusions on the held-out set (crm/nlu/testdata/eval.tsv)
eval:
	$(GO) test -count=1 -run '^TestEval$$' -v ./crm/nlu | grep -v '^=== RUN\|^--- \|^PASS\|^ok'

## bench: throughput and latency of the core and the channels, side by side with raw bbolt;
## PostgreSQL too: on IDICBOT_BENCH_DATABASE_URL, else on a throwaway cluster when the
## postgresql package is installed (scripts/with-postgres)
bench:
	@if [ -z "$$IDICBOT_BENCH_DATABASE_URL" ] && scripts/with-postgres --available; then \
		scripts/with-postgres $(GO) run ./cmd/idicbot-bench $(BENCHFLAGS); \
	else \
		$(GO) run ./cmd/idicbot-bench $(BENCHFLAGS); \
	fi

## fuzz: run every fuzz target for FUZZTIME each (default 20s), one at a time (FUZZPKGS=./crm/ for one package)
# Minimizing a new input may take up to 60s by default, longer than a run: 10s.
FUZZTIME ?= 20s
FUZZPKGS ?= ./...
fuzz:
	@set -e; for pkg in $$($(GO) list $(FUZZPKGS)); do \
		for target in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
			echo "== $$pkg $$target"; \
			$(GO) test -run '^$$' -fuzz "^$$target$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 10s $$pkg; \
		done; \
	done

## lint: golangci-lint with .golangci.yml (installs the pinned version into GOPATH/bin when missing)
GOLANGCI_LINT_VERSION ?= v2.15.0
lint:
	@lint=$$($(GO) env GOPATH)/bin/golangci-lint; \
	if ! $$lint --version 2>/dev/null | grep -q "version $(GOLANGCI_LINT_VERSION:v%=%) "; then \
		echo "installing golangci-lint $(GOLANGCI_LINT_VERSION)"; \
		$(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION); \
	fi; \
	$$lint run ./...

# VERSION is stamped into the binary (idicbot version, idicbot_build_info,
# the start-up log line): the git tag, or the commit, or "devel".
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo devel)
LDFLAGS := -s -w -X main.version=$(VERSION)
# Static: no cgo, so the binary runs on any Linux, in scratch or distroless.
STATIC := CGO_ENABLED=0
PLATFORMS ?= linux/amd64 linux/arm64

## build: a single static binary in bin/, with its version stamped
build:
	$(STATIC) $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o bin/idicbot ./cmd/idicbot

## release: static binaries for PLATFORMS in dist/, with SHA256SUMS
release:
	rm -rf dist && mkdir -p dist
	@set -e; for p in $(PLATFORMS); do \
		os=$${p%/*}; arch=$${p#*/}; out=dist/idicbot-$(VERSION)-$$os-$$arch; \
		echo "== $$out"; \
		$(STATIC) GOOS=$$os GOARCH=$$arch $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $$out ./cmd/idicbot; \
	done
	cd dist && sha256sum idicbot-* > SHA256SUMS && cat SHA256SUMS

vet:
	$(GO) vet ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin dist
