# SPDX-License-Identifier: MIT
# microtrain: `make demo`, `make test`, `make natmod ARCH=...`, `make bench`.

PYTHON ?= python3
VENV := .venv
VPY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
ARCH ?= x64
OPT ?= size
NATMOD_ARCHES := x64 armv6m armv7m armv7emsp armv7emdp rv32imc xtensa xtensawin

.PHONY: venv demo test fuzz natmod natmod-all bench torch-venv hostlib clean

venv: $(STAMP)

# The venv is rebuilt when the pins or the package metadata change.
$(STAMP): requirements.txt requirements.lock host_tools/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install --quiet --disable-pip-version-check -r requirements.txt -c requirements.lock
	$(VPY) -m pip install --quiet --disable-pip-version-check --no-deps -e host_tools
	touch $@

# OPT=speed builds at -O2 into dist/$(ARCH)-speed/ (see `microtrain natmod build --help`).
natmod: $(STAMP)
	$(VENV)/bin/microtrain natmod build --arch $(ARCH) --opt $(OPT) \
		-o dist/$(ARCH)$(if $(filter speed,$(OPT)),-speed)/_microtrain.mpy

natmod-all: $(STAMP)
	for a in $(NATMOD_ARCHES); do $(VENV)/bin/microtrain natmod build --arch $$a -o dist/$$a/_microtrain.mpy || exit 1; done

test: $(STAMP)
	$(VENV)/bin/pytest -q tests

# The fuzzers of `make test` at FUZZ_CASES damaged inputs per reader (the executor's under
# AddressSanitizer and UBSan), then a table of inputs tried and crashes per reader.
FUZZ_CASES ?= 100000
FUZZ_TESTS := tests/test_fuzz_readers.py tests/test_fuzz_mpy.py tests/test_program_fuzz.py \
	tests/test_state_store.py::test_fuzz_damaged_state_files tests/test_fuzz_load.py
fuzz: $(STAMP)
	rm -rf build/fuzz
	CI=true FUZZ_CASES=$(FUZZ_CASES) FUZZ_REPORT=build/fuzz $(VENV)/bin/pytest -q $(FUZZ_TESTS)
	$(VPY) tests/fuzz_report.py build/fuzz

demo: $(STAMP)
	$(VPY) examples/demo/run_demo.py

# BENCH_ARGS: e.g. --no-qas (skip the QAS accuracy tables), --no-cortex-m, --no-steps.
bench: $(STAMP)
	$(VPY) bench/run_bench.py $(BENCH_ARGS)

# PyTorch for the bench only (bench/torch_steps.py), in a venv of its own: microtrain does not
# depend on it. On this project's machines pip takes torch 2.13.0 (CPU) from a local file.
TORCH_VENV := .venv-torch
torch-venv: $(TORCH_VENV)/.installed

$(TORCH_VENV)/.installed:
	$(PYTHON) -m venv $(TORCH_VENV)
	$(TORCH_VENV)/bin/pip install --quiet --disable-pip-version-check torch==2.13.0 numpy
	touch $@

clean:
	rm -rf build dist
