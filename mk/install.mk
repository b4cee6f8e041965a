# mk/install.mk — build-info: the commit behind `spiqa-* --version`.

.PHONY: build-info

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
