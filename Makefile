# ninescope — see README.md. `make demo` and `make test` do everything on a fresh Debian machine.
# Swift 6 on PATH, or at /opt/swift/usr/bin (README, Requirements): then that folder joins PATH for every
# recipe (.ci/install-deps looks for swift there) and names the swift the build uses.
ifeq ($(shell command -v swift 2>/dev/null),)
ifneq ($(wildcard /opt/swift/usr/bin/swift),)
export PATH := /opt/swift/usr/bin:$(PATH)
SWIFT      ?= /opt/swift/usr/bin/swift
endif
endif
SWIFT      ?= swift
BUILD_FLAGS ?=
BIN_DIR     = $(shell $(SWIFT) build $(BUILD_FLAGS) --show-bin-path 2>/dev/null)

.PHONY: all deps build-deps build release test unit demo bench fuzz clean

all: build

# Everything the tests and benchmarks need (diod, tshark, qemu and a kernel for the Linux guest, …).
deps:
	@bash .ci/install-deps

# Only what the build needs: `make demo` on a fresh machine installs no qemu or kernel image.
build-deps:
	@bash .ci/install-deps build

build: build-deps
	$(SWIFT) build $(BUILD_FLAGS)

release: build-deps
	$(SWIFT) build -c release

# Every test: unit, property, view snapshots, and end-to-end runs against real peers
# (diod, diodcat/diodls/diodload, tcpdump, tshark, tmux) over loopback sockets.
# A hung test fails the run after TEST_TIMEOUT seconds instead of holding CI (the whole run takes
# about 4 minutes of tests, 7 in all here).
TEST_TIMEOUT ?= 1800
test: deps
	$(SWIFT) build $(BUILD_FLAGS) --build-tests
	NINESCOPE_BIN="$(BIN_DIR)/ninescope" NINESCOPE_ROOT="$(CURDIR)" timeout -k 30 $(TEST_TIMEOUT) \
	  $(SWIFT) test $(BUILD_FLAGS) --skip-build --no-parallel

demo: build
	"$(BIN_DIR)/ninescope" demo

# Benchmarks, not tests: each prints its figures and ratios (a few minutes in all).
bench: deps release
	bash bench/decode.sh
	bash bench/server.sh
	bash bench/proxy.sh
	bash bench/view.sh

# Fuzzing, not a test: a libFuzzer build with AddressSanitizer fed captures, streams, frames, server
# requests and typed text for FUZZ_SECONDS (default 600; FUZZ_JOBS=2 for both cores). See README.md.
fuzz: deps
	bash Fuzz/run.sh

clean:
	rm -rf .build
