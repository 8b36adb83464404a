# ciamcheck — common tasks. `make test` is what CI runs (through .ci/run).
GO ?= go
PKGS := ./...
# Packages whose code runs concurrently: tested again under the race detector.
RACE_PKGS := ./nativeauth/... ./emulator/... ./loadgen/... ./scenarios/... ./otp/... ./profile/... ./reports/... ./suites/evidence/...

.PHONY: build test race lint bench fuzz demo clean gate-calibration browser-test distributed-demo

build:
	$(GO) build -o bin/ciamcheck ./cmd/ciamcheck

test: lint
	$(GO) test -count=1 $(PKGS)
	$(GO) test -count=1 -race $$($(GO) list $(RACE_PKGS) 2>/dev/null)

race:
	$(GO) test -count=1 -race $$($(GO) list $(RACE_PKGS) 2>/dev/null)

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)

# Every benchmark, including BenchmarkVegetaComparison (ciamcheck and Vegeta
# side by side on one ladder of rates, ratios printed as metrics).
# BENCH narrows it, e.g. make bench BENCH=VegetaComparison.
BENCH ?= .
bench:
	$(GO) test -run '^$$' -bench '$(BENCH)' -benchmem $(PKGS)

# Short fuzzing of every decoder of untrusted input (FUZZTIME per target).
FUZZTIME ?= 10s
fuzz:
	@for spec in $$(grep -rl --include='*_test.go' '^func Fuzz' . | xargs -n1 dirname | sort -u); do \
		for f in $$(grep -h '^func Fuzz' $$spec/*_test.go | sed 's/func \(Fuzz[A-Za-z0-9_]*\).*/\1/'); do \
			echo "== $$spec $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$spec || exit 1; \
		done; \
	done

# The regression gate on real runs against the emulator: identical pairs
# (false regressions) and pairs with latency injected (detections). Not part
# of `make test`; PAIRS, PLAN, LATENCY and FLAGS change it.
gate-calibration:
	bash ci/calibration/gate-calibration.sh

# The whole product against the embedded emulator, no tenant needed:
# conformance, a smoke load run, and their reports, all under demo/.
DEMO ?= demo
demo:
	@mkdir -p $(DEMO)
	$(GO) run ./cmd/ciamcheck conformance --out $(DEMO)/conformance.json --junit-report $(DEMO)/junit.xml
	$(GO) run ./cmd/ciamcheck load --plan smoke --out $(DEMO)/load.json --hlog $(DEMO)/load.hlog
	$(GO) run ./cmd/ciamcheck report $(DEMO)/conformance.json --format html --out $(DEMO)/conformance.html
	$(GO) run ./cmd/ciamcheck report $(DEMO)/load.json --format html --out $(DEMO)/load.html
	@echo "demo: records, JUnit, .hlog and HTML reports in $(DEMO)/"

# The HTML reports of real runs against the emulator, checked in headless
# Chromium (cmd/ciamcheck/browser_test.go): no console error, no request
# but the file, every chart drawn, the conformance filter working.
# Screenshots and the reports go to $(ARTIFACTS). Chromium is installed from
# the distribution's packages when missing and we are root with apt-get;
# without a browser the test fails, it never skips. BROWSER names one.
ARTIFACTS ?= artifacts/browser
browser-test:
	@if [ -z "$(BROWSER)" ] && ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1 \
		&& ! command -v google-chrome >/dev/null 2>&1 && ! command -v google-chrome-stable >/dev/null 2>&1; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			echo "browser-test: installing chromium"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-liberation >/dev/null || exit 1; \
		else echo "browser-test: no Chromium on PATH and cannot install it (needs root and apt-get); set BROWSER=/path/to/chromium"; fi; \
	fi
	@mkdir -p $(ARTIFACTS)
	CIAMCHECK_BROWSER_TEST=1 CIAMCHECK_BROWSER="$(BROWSER)" CIAMCHECK_BROWSER_ARTIFACTS="$(abspath $(ARTIFACTS))" \
		$(GO) test -count=1 -run '^TestReportsInBrowser$$' -v ./cmd/ciamcheck
	@echo "browser-test: screenshots and reports in $(ARTIFACTS)/"

# Distributed load on this machine: one emulator, the plan split into 4
# segment processes that start together, merged and judged as one run, beside
# a single process running the same plan (about a minute; records under
# demo/distributed/).
distributed-demo:
	bash ci/distributed/demo.sh

clean:
	rm -rf bin demo artifacts
