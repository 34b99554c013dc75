# wbox build entry points. `make test` is the project's test command (CI runs
# it through .ci/run).
.PHONY: components test bench

# Fresh machines may have Go only in its default install location.
ifeq ($(shell command -v go),)
export PATH := $(PATH):/usr/local/go/bin
endif

# -race needs cgo and a C compiler; cgo defaults to gcc, which CI machines may
# lack, but they always have clang (installed for the C components).
ifeq ($(shell command -v gcc),)
export CC := clang
endif

BENCHTIME ?= 1s

# node_modules/.package-lock.json is npm's own record of the installed tree:
# reinstall whenever the lock or manifest is newer than it.
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

components: node_modules/.package-lock.json
	components/build.sh

test: components
	go vet ./...
	go test -race -count=1 -timeout 20m ./...

bench: components
	@if [ -d bench ]; then go test -run '^$$' -bench . -benchtime=$(BENCHTIME) ./bench/...; \
	else echo "bench: no ./bench packages yet"; fi
