# Relais: entry points for people and CI (the build itself is CMake's)
#
#   make demo        install missing packages, build, start a demo relaisd
#   make demo-stop   stop it
#   make check       everything CI runs (.ci/run): build with -Werror, format,
#                    symbol and length checks, all tests, all tests again
#                    under ASan/UBSan, fuzz targets for a bounded time
#   make bench       sipp load figures (asserts nothing)
#   make clean       stop the demo, remove the build directories
#   make distclean   also remove var/ (the demo database and passwords)
#
# Build directories: build/ (demo, bench), build-check/ (-Werror),
# build-asan/ (sanitizers), build-fuzz/ (clang + libFuzzer).

SHELL := /bin/bash
MAKEFLAGS += --no-print-directory
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

JOBS ?= 2
FUZZ_TIME ?= 60
BUILD ?= build
CHECK_BUILD ?= build-check
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
CMAKE ?= cmake
CTEST ?= ctest

# step TITLE: a header between the steps of a long target
step = printf '\n==== %s [%s]\n' $(1) "$$(date +%T)"

.PHONY: help all deps build demo demo-stop check check-deps check-build \
	check-format check-symbols check-length check-test check-asan \
	check-fuzz bench clean distclean

help:
	@echo "make demo       build and start a demo relaisd on 127.0.0.1"
	@echo "make demo-stop  stop the demo relaisd"
	@echo "make check      every check and test CI runs"
	@echo "make bench      sipp load figures"
	@echo "make build      build into $(BUILD)/"
	@echo "make clean      stop the demo, remove the build directories"
	@echo "make distclean  also remove var/ (demo database, passwords)"

all: build

deps:
	@scripts/deps.sh build

build: deps
	@$(call step,"configure and build $(BUILD)/")
	$(CMAKE) -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo
	$(CMAKE) --build $(BUILD) -j$(JOBS) --target relaisd relaisctl

demo: build
	@$(call step,"start the demo relaisd")
	@scripts/demo.sh start $(BUILD)

demo-stop:
	@scripts/demo.sh stop $(BUILD)

# ---- make check ----------------------------------------------------------
# Steps run one after the other (even under make -j) so the log reads in
# order; each can also be run on its own, e.g. `make check-format`.

CHECK_STEPS := check-deps check-build check-format check-symbols \
	check-length check-test check-asan check-fuzz

check:
	@start=$$(date +%s); \
	for s in $(CHECK_STEPS); do \
		$(MAKE) --no-print-directory $$s; \
	done; \
	printf '\n==== make check: all steps passed in %ss\n' \
		"$$(( $$(date +%s) - start ))"

check-deps:
	@$(call step,"packages for the tests (scripts/deps.sh test)")
	@scripts/deps.sh test

check-build:
	@$(call step,"build $(CHECK_BUILD)/ with -Werror")
	$(CMAKE) -S . -B $(CHECK_BUILD) -DCMAKE_BUILD_TYPE=Debug \
		-DRELAIS_WERROR=ON
	$(CMAKE) --build $(CHECK_BUILD) -j$(JOBS)

check-format:
	@$(call step,"format (clang-format --dry-run --Werror)")
	@scripts/check-format.sh

check-symbols:
	@$(call step,"global names clear of libre and librem (nm)")
	@scripts/check-symbols.sh $(CHECK_BUILD)

check-length:
	@$(call step,".c files at most 3000 lines")
	@scripts/check-length.sh 3000

check-test:
	@$(call step,"unit and integration tests (ctest)")
	cd $(CHECK_BUILD) && $(CTEST) --output-on-failure -j$(JOBS)

check-asan:
	@$(call step,"all tests again under ASan/UBSan ($(ASAN_BUILD)/)")
	$(CMAKE) -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug \
		-DRELAIS_SANITIZE=ON
	$(CMAKE) --build $(ASAN_BUILD) -j$(JOBS)
	cd $(ASAN_BUILD) && \
		ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		$(CTEST) --output-on-failure -j$(JOBS)

check-fuzz:
	@$(call step,"fuzz targets for $(FUZZ_TIME)s each ($(FUZZ_BUILD)/)")
	$(CMAKE) -S . -B $(FUZZ_BUILD) -DCMAKE_C_COMPILER=clang \
		-DCMAKE_BUILD_TYPE=Debug -DRELAIS_FUZZ=ON
	$(CMAKE) --build $(FUZZ_BUILD) -j$(JOBS) --target fuzz
	scripts/fuzz-run.sh $(FUZZ_BUILD) $(FUZZ_TIME)

# ---- make bench ------------------------------------------------------------

bench: build
	@scripts/deps.sh bench
	$(CMAKE) --build $(BUILD) -j$(JOBS) --target relay_bench
	@$(call step,"bench (bench/run.sh)")
	bench/run.sh $(BUILD)
	@$(call step,"media relay CPU per call (bench/media.sh)")
	bench/media.sh $(BUILD)

clean:
	@if [ -f var/demo/relaisd.pid ]; then scripts/demo.sh stop $(BUILD); fi
	rm -rf $(BUILD) $(CHECK_BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)

distclean: clean
	rm -rf var/
