# The two front doors: `make run` (build the default image, boot it under QEMU) and
# `make test` (every test). Both install what they need first (scripts/install-deps.sh).
BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
JOBS       ?= $(shell nproc)
CMAKE_ARGS ?=
# New build trees use Ninja (scripts/deps/build.txt): it schedules the whole tree's compiles
# as one graph (no per-directory make recursion, no separate dependency-scan steps), which
# keeps both cores busy through the link-bound stretches. The variable also reaches the
# nested configures that tests run (scripts/cross-arm64.sh's arm64 tree). CMake only reads
# it when a tree is first configured: an existing tree keeps the generator it was made with.
export CMAKE_GENERATOR ?= Ninja

.PHONY: all deps build asan fuzz test test-unit run dev format clean

all: build

deps:
	@scripts/install-deps.sh

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_ARGS) >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

asan: deps
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DCAIRN_SANITIZE=ON \
	  -DCAIRN_BUILD_BENCH=OFF $(CMAKE_ARGS) >/dev/null
	cmake --build $(ASAN_BUILD) -j $(JOBS)

fuzz: deps
	CC=clang CXX=clang++ cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=Debug -DCAIRN_FUZZ=ON \
	  -DCAIRN_BUILD_TESTS=OFF -DCAIRN_BUILD_BENCH=OFF $(CMAKE_ARGS) >/dev/null
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target fuzz-all

# Everything: the release build's tests (unit, integration, QEMU boots), the same unit and
# integration tests under ASan+UBSan, and a short run of every fuzz target.
test: build asan fuzz
	scripts/run-tests.sh $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)

test-unit: build
	ctest --test-dir $(BUILD) -L unit --output-on-failure -j $(JOBS)

run: build
	scripts/run.sh $(BUILD)

# cairn-init as a development supervisor on this host (no image, no QEMU).
dev: build
	scripts/run-dev.sh $(BUILD)

format:
	git ls-files '*.cc' '*.h' | xargs clang-format -i

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
