# credgate: build, run and test. `make help` lists the targets.

GO       ?= go
BIN      := $(CURDIR)/bin
SOURCES  := $(shell find . -name '*.go' -not -name '*_test.go' -not -path './tools/*' -not -path './bin/*' -not -path './e2e/*') \
            $(shell find apps -name '*.json') go.mod go.sum xcaddy.json

# The end-to-end tests run these binaries.
export CREDGATE_CADDY_BIN    := $(BIN)/caddy
export CREDGATE_VAULT_BIN    := $(BIN)/vault
export CREDGATE_IGSERVER_BIN := $(BIN)/igserver

.PHONY: help build vault igserver run demo test test-unit bench clean

help:
	@echo "make build     build Caddy with credgate into bin/caddy (xcaddy, about 3 minutes)"
	@echo "make vault     link or build a Vault binary into bin/vault (6 to 10 minutes the first time)"
	@echo "make run       run the default Caddyfile, with a dev Vault when VAULT_ADDR is unset"
	@echo "make demo      link an account and call the API against the local Instagram server"
	@echo "make test      run all tests, end-to-end tests included"
	@echo "make test-unit run the tests that need no binaries"

build: $(BIN)/caddy

$(BIN)/caddy: $(SOURCES)
	@mkdir -p $(BIN)
	cd tools/xbuild && $(GO) run . -manifest ../../xcaddy.json -output $(BIN)/caddy
	$(BIN)/caddy list-modules | grep -q '^http.handlers.credgate$$'

vault: $(BIN)/vault

$(BIN)/vault:
	./scripts/ensure-vault.sh

igserver: $(BIN)/igserver

$(BIN)/igserver: $(shell find examples/igserver -name '*.go')
	$(GO) build -o $(BIN)/igserver ./examples/igserver/cmd/igserver

run: $(BIN)/caddy $(BIN)/vault $(BIN)/igserver
	./scripts/run.sh

demo: $(BIN)/caddy $(BIN)/vault $(BIN)/igserver
	./scripts/demo.sh

test: $(BIN)/caddy $(BIN)/vault $(BIN)/igserver
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 20m ./...

test-unit:
	$(GO) test -count=1 -short ./...

bench: $(BIN)/caddy $(BIN)/vault
	./scripts/bench.sh

clean:
	rm -rf $(BIN)
