# mk/install.mk — `make install` / `make uninstall` / `make doc-examples` (README "Install").
#
#   make install                        release build; tools, man pages and completions under /usr/local
#   make install PREFIX=$HOME/.local    anywhere; DESTDIR=/tmp/pkg stages the same tree for packaging
#   make uninstall PREFIX=…             removes the files install puts there, then the folders below PREFIX left empty
#   make doc-examples                   installs into a temporary PREFIX, runs the README/docs shell examples
#
# Man pages come from swift-argument-parser's generate-manual plugin (`swift package plugin generate-manual`,
# the package's own dependency, works offline); completions from each tool's --generate-completion-script.

PREFIX     ?= /usr/local
DESTDIR    ?=
INSTALL    ?= install
TOOLS       = spiqa-extract spiqa-quantize spiqa-hist spiqa-eval spiqa-bench
BINDIR      = $(DESTDIR)$(PREFIX)/bin
MAN1DIR     = $(DESTDIR)$(PREFIX)/share/man/man1
BASHCOMPDIR = $(DESTDIR)$(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR  = $(DESTDIR)$(PREFIX)/share/zsh/site-functions
FISHCOMPDIR = $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
MANUAL_DIR  = .build/plugins/GenerateManual/outputs
INSTALLED_FILES = $(foreach t,$(TOOLS),$(BINDIR)/$(t) $(MAN1DIR)/$(t).1 $(BASHCOMPDIR)/$(t) \
                    $(ZSHCOMPDIR)/_$(t) $(FISHCOMPDIR)/$(t).fish)
INSTALL_DIRS = $(FISHCOMPDIR) $(ZSHCOMPDIR) $(BASHCOMPDIR) $(MAN1DIR) $(BINDIR)

.PHONY: build-info install install-build man-pages uninstall doc-examples

## build-info: Sources/CBuildInfo/build_commit.h (git-ignored) = `git describe --always --dirty` of this checkout,
## behind `spiqa-* --version`. Rewritten, and build_info.c touched so SwiftPM recompiles it, only when it changes.
## Outside a git checkout (a tarball, a clone without .git) nothing is written and the tools say "unknown".
BUILD_COMMIT_H = Sources/CBuildInfo/build_commit.h
build-info:
	@c=$$( [ "$$(git rev-parse --show-toplevel 2>/dev/null)" = "$(CURDIR)" ] && git describe --always --dirty 2>/dev/null ); \
	if [ -n "$$c" ]; then line="#define SPIQA_BUILD_COMMIT \"$$c\""; \
	  if [ "$$(cat $(BUILD_COMMIT_H) 2>/dev/null)" != "$$line" ]; then \
	    echo "$$line" > $(BUILD_COMMIT_H); touch Sources/CBuildInfo/build_info.c; fi; \
	elif [ -f $(BUILD_COMMIT_H) ]; then rm -f $(BUILD_COMMIT_H); touch Sources/CBuildInfo/build_info.c; fi

install-build: apt-deps build-info
	$(SWIFT) build -c release

## man-pages: one page per tool in $(MANUAL_DIR)/<tool>/<tool>.1 (builds release first, a no-op after install-build).
man-pages: install-build
	$(SWIFT) package plugin generate-manual

install: man-pages
	$(INSTALL) -d $(INSTALL_DIRS)
	@set -e; for t in $(TOOLS); do \
	  $(INSTALL) -m 755 .build/release/$$t $(BINDIR)/$$t; \
	  $(INSTALL) -m 644 $(MANUAL_DIR)/$$t/$$t.1 $(MAN1DIR)/$$t.1; \
	  .build/release/$$t --generate-completion-script bash > $(BASHCOMPDIR)/$$t; \
	  .build/release/$$t --generate-completion-script zsh > $(ZSHCOMPDIR)/_$$t; \
	  .build/release/$$t --generate-completion-script fish > $(FISHCOMPDIR)/$$t.fish; \
	  chmod 644 $(BASHCOMPDIR)/$$t $(ZSHCOMPDIR)/_$$t $(FISHCOMPDIR)/$$t.fish; \
	done
	@echo "install: $(words $(TOOLS)) tools in $(BINDIR), man pages in $(MAN1DIR), completions under $(DESTDIR)$(PREFIX)/share"

uninstall:
	rm -f $(INSTALLED_FILES)
	@for d in $(INSTALL_DIRS); do \
	  while [ "$$d" != "$(DESTDIR)$(PREFIX)" ] && [ "$$d" != / ] && rmdir "$$d" 2>/dev/null; do d=$$(dirname "$$d"); done; \
	done

## doc-examples: the shell examples of README.md and docs/*.md (scripts/check_doc_examples.py) against a fresh
## `make install` into a temporary PREFIX (about 100 s here after a release build). With SPIQA_BIN (make test), that
## folder's tools are copied into the temporary PREFIX/bin instead: no second build. DOC_EXAMPLES_ARGS passes
## options to the script (-k hist: only examples matching "hist"; --list: what would run or be skipped, and why).
DOC_EXAMPLES_ARGS ?=
doc-examples:
	@set -e; p=$$(mktemp -d /tmp/spiqa-prefix.XXXXXX); trap 'rm -rf "$$p"' EXIT; \
	if [ -n "$(SPIQA_BIN)" ]; then mkdir -p $$p/bin; for t in $(TOOLS); do \
	    [ ! -x "$(SPIQA_BIN)/$$t" ] || cp "$(SPIQA_BIN)/$$t" $$p/bin/; done; \
	else $(MAKE) --no-print-directory install PREFIX=$$p >/dev/null; fi; \
	$(PYTHON) scripts/check_doc_examples.py --prefix $$p --shared $(abspath $(SHARED)) \
	  --model $(abspath $(MODEL_DIR)) $(DOC_EXAMPLES_ARGS)
