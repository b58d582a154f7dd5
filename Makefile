# Thin wrapper over cmake + ctest.  The README's two set-up commands:
#   make demo   build, then run the embedded demo project
#   make test   build twice (plain, ASan+UBSan) and run every test in both
BUILD      ?= build
BUILD_ASAN ?= build-asan
BUILD_PKG  ?= build-pkg
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
TEST_VENV  ?= $(abspath $(BUILD)/test-venv)
PYTHON     ?= python3

.PHONY: all deps build demo test test-plain test-asan test-venv install package clean fuzz bench

all: build

deps:
	@sh scripts/deps.sh build

build: deps
	@cmake -S . -B $(BUILD) -DSMELT_TEST_PYTHON=$(TEST_VENV)/bin/python >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

demo: build
	@sh scripts/demo.sh $(BUILD)/stage/bin/smelt

test-venv:
	@sh scripts/deps.sh test
	@sh scripts/test-venv.sh $(TEST_VENV) $(PYTHON)

test: test-venv
	@cmake -S . -B $(BUILD) -DSMELT_TEST_PYTHON=$(TEST_VENV)/bin/python >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)
	@cmake -S . -B $(BUILD_ASAN) -DSMELT_SANITIZE=ON -DSMELT_TEST_PYTHON=$(TEST_VENV)/bin/python >/dev/null
	@cmake --build $(BUILD_ASAN) -j $(JOBS)
	@sh scripts/run-tests.sh $(BUILD) $(BUILD_ASAN)

install: build
	@cmake --install $(BUILD)

# Debian packages smelt and smelt-dev in $(BUILD_PKG)/, from a tree configured for /usr.
package:
	@sh scripts/deps.sh package
	@sh scripts/package.sh $(BUILD_PKG)

fuzz:
	@sh scripts/fuzz.sh

bench: build
	@sh bench/run-all

clean:
	rm -rf $(BUILD) $(BUILD_ASAN) $(BUILD_PKG)
