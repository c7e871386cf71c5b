# The two commands a newcomer needs: `make run` and `make test`.
GO      ?= go
BIN     := bin
# The exact release tag (v1.2.3 gives 1.2.3), else <next>-dev.<commits>.g<sha>:
# see build/dist/version.go.
ifeq ($(origin VERSION),undefined)
VERSION := $(shell $(GO) run ./build/dist -print-version 2>/dev/null || echo 0.1.0-dev)
endif
# The release feed the update notice asks (internal/update). Empty, as in
# dev builds, turns the check off; a release build passes
# UPDATE_URL=$(RELEASE_FEED). CAIRN_UPDATE_URL overrides it at run time.
RELEASE_FEED := https://api.github.com/repos/cairnlabs/cairn/releases/latest
UPDATE_URL ?=
LDFLAGS := -X github.com/cairnlabs/cairn/daemon/version.Version=$(VERSION) \
	-X github.com/cairnlabs/cairn/internal/update.FeedURL=$(UPDATE_URL)

# Packages that must build without cgo on every OS we ship.
PORTABLE := ./cmd/cairn ./cmd/cairn-mcp ./daemon/... ./tray/loginitem ./internal/runkey/... ./internal/update/...

.PHONY: all build run test deps vet fmt-check check-libc cross bench soak soak-run fuzz clean dist check-dist dist-darwin

all: build

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/ ./cmd/cairn ./cmd/cairn-mcp ./cmd/cairn-tray

## run: build the three programs and run the tray, which starts and supervises the
## daemon. Without a desktop (no session bus or no tray host) it keeps
## supervising headless and says so. Ctrl-C quits it and stops the daemon.
run: build
	./$(BIN)/cairn-tray

## test: install what the tests need when missing, then the whole suite with
## -race, then every release artifact built twice and checked (check-dist).
test: deps fmt-check vet check-libc
	$(GO) test -race -count=1 -timeout 20m ./...
	@$(MAKE) --no-print-directory check-dist

deps:
	@scripts/test-deps.sh

vet:
	$(GO) vet ./...
	$(GO) vet -tags distcheck ./build/distcheck
	$(GO) vet -tags cairn_man ./cmd/cairn
	$(GO) vet -tags soak ./soak

## check-libc: modernc.org/libc is exactly the version modernc.org/sqlite names.
check-libc:
	@scripts/check-libc.sh

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt: these files need formatting:"; echo "$$out"; exit 1; fi

## cross: everything without a GUI builds for Windows, macOS and Linux/arm64 without cgo;
## the tray builds for Windows and vets for macOS. -trimpath, as make dist
## builds, so CI's cross step reuses what check-dist compiled for these targets.
cross: export GOFLAGS := -trimpath
cross:
	CGO_ENABLED=0 GOOS=windows GOARCH=amd64 $(GO) build $(PORTABLE)
	CGO_ENABLED=0 GOOS=darwin  GOARCH=arm64 $(GO) build $(PORTABLE)
	CGO_ENABLED=0 GOOS=linux   GOARCH=arm64 $(GO) build $(PORTABLE)
	CGO_ENABLED=0 GOOS=windows GOARCH=amd64 $(GO) vet $(PORTABLE)
	CGO_ENABLED=0 GOOS=darwin  GOARCH=arm64 $(GO) vet $(PORTABLE)
	@# The tray: Windows builds it without cgo as a GUI-subsystem program;
	@# macOS needs cgo and a Mac for the menu bar, so here the whole tree is
	@# vetted against the build-tagged headless stub instead.
	CGO_ENABLED=0 GOOS=windows GOARCH=amd64 $(GO) build -ldflags "-H=windowsgui" -o /dev/null ./cmd/cairn-tray
	CGO_ENABLED=0 GOOS=windows GOARCH=amd64 $(GO) vet ./...
	CGO_ENABLED=0 GOOS=darwin  GOARCH=arm64 $(GO) vet ./...

## bench: start, refusal and stop latency of cairn against a floor program; the
## tray's idle CPU/RSS (60 s; `go run ./bench -idle 0` skips it) and crash-to-serving-again.
bench:
	$(GO) run ./bench

## dist: every release artifact into dist/: cairn_<version>_<os>_<arch>.tar.gz
## (.zip for Windows), .deb and .rpm for Linux amd64 and arm64, a CycloneDX
## SBOM per artifact, SHA256SUMS, and the macOS app skeleton in dist/darwin.
dist:
	$(GO) run ./build/dist -out dist -version $(VERSION)

## check-dist: make dist, a second build of the same tree from another
## directory, then build/distcheck: the sums match, and each artifact passes
## the tool that would read it (debug/pe, dpkg --root, rpm, lintian, plist).
check-dist:
	@GO=$(GO) VERSION=$(VERSION) scripts/check-dist.sh

## dist-darwin: on a Mac with Xcode, build the menu-bar tray (cgo) for both
## architectures and complete dist/darwin/Cairn.app. Then sign and notarise:
##   codesign --force --options runtime --timestamp -s "Developer ID Application: …" \
##     dist/darwin/Cairn.app/Contents/MacOS/cairn dist/darwin/Cairn.app/Contents/MacOS/cairn-mcp \
##     dist/darwin/Cairn.app/Contents/MacOS/cairn-tray
##   codesign --force --options runtime --timestamp -s "Developer ID Application: …" dist/darwin/Cairn.app
##   ditto -c -k --keepParent dist/darwin/Cairn.app dist/Cairn_$(VERSION)_darwin_universal.zip
##   xcrun notarytool submit dist/Cairn_$(VERSION)_darwin_universal.zip --keychain-profile cairn --wait
##   xcrun stapler staple dist/darwin/Cairn.app   (then zip it again for release)
dist-darwin:
	$(GO) run ./build/dist -darwin-app -out dist -version $(VERSION)

## soak: the chaos soak (soak/): a real cairn-tray on a private D-Bus and real
## daemons through seeded random faults, invariants checked throughout, then the
## table. SOAK=60s for a short run (default 10m); SOAK_SEED=N replays a run.
## Then every fuzz target for FUZZTIME (30s) each.
SOAK      ?= 10m
FUZZTIME  ?= 30s
FUZZ      := ./daemon/server:FuzzRequest ./daemon/server:FuzzRememberBody ./daemon/server:FuzzPatchBody \
	./daemon/server:FuzzListQuery ./daemon/server:FuzzProofExchange ./daemon/server:FuzzCodeExchange \
	./daemon/server:FuzzImportLines ./daemon/server:FuzzAllowedHost ./daemon/store:FuzzQuery \
	./daemon/store:FuzzMatchExpr ./daemon/store:FuzzRecallFindsItsText ./daemon/store:FuzzCursor \
	./daemon/mcp:FuzzToolArguments ./cmd/cairn:FuzzPrintMemory ./cmd/cairn:FuzzImportFile ./cmd/cairn:FuzzSupervisorCommandLine \
	./daemon/proof:FuzzParseAnswer ./daemon/proof:FuzzParseNonce ./daemon/lock:FuzzParseRecord \
	./daemon/discovery:FuzzParse ./internal/update:FuzzParseVersion ./internal/update:FuzzConfig \
	./internal/update:FuzzParseRelease

soak: soak-run
	@$(MAKE) --no-print-directory fuzz

## soak-run: the soak alone, without the fuzz pass (CI: SOAK=60s make soak-run).
soak-run:
	SOAK=$(SOAK) $(GO) test -tags soak -run '^TestSoak$$' -count=1 -v -timeout 3h ./soak

## fuzz: each fuzz target for FUZZTIME; a failure stops with its input in testdata/fuzz.
fuzz:
	@set -e; for t in $(FUZZ); do pkg=$${t%%:*}; name=$${t##*:}; \
		echo "fuzz $$pkg $$name ($(FUZZTIME))"; \
		out=$$($(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) $$pkg 2>&1) || { echo "$$out"; exit 1; }; \
		echo "$$out" | grep -v '^fuzz: elapsed'; \
	done

clean:
	rm -rf $(BIN) dist
