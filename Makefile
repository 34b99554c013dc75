# wbox build entry points. `make test` is the project's test command (CI runs
# it through .ci/run).
.PHONY: components test bench cross cross-check

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

# Edge builds: static binaries (no cgo) for the boards nodes run on, in
# build/cross/. Go's build cache makes a run with unchanged sources take
# seconds; a cold one compiles the standard library and every dependency
# once per architecture (minutes each on two cores). GOARM is Go's default
# (7: Raspberry Pi 2 and later); GOARM=6 make cross serves a Pi Zero or 1.
# cross-check (run by CI) type-checks wbox and all it imports for the same
# platforms from source instead: what breaks a cross build (an untyped
# constant overflowing a 32-bit int, a symbol of other build tags, a
# function without a body) in seconds.
CROSS_ARCHS ?= amd64 arm64 arm riscv64
empty :=
comma := ,
cross_targets := $(subst $(empty) $(empty),$(comma),$(CROSS_ARCHS:%=linux/%))

cross-check:
	go run ./internal/archcheck -targets $(cross_targets) ./cmd/wbox

cross:
	@mkdir -p build/cross
	@for a in $(CROSS_ARCHS); do \
		echo "go build linux/$$a"; \
		CGO_ENABLED=0 GOOS=linux GOARCH=$$a go build -trimpath -ldflags='-s -w' -o build/cross/wbox-linux-$$a ./cmd/wbox || exit 1; \
	done
	@stat -c '%s %n' $(CROSS_ARCHS:%=build/cross/wbox-linux-%) | awk '{ printf "%-28s %5.1f MiB\n", $$2, $$1 / 1048576 }'
