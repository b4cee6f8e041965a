// The commit behind `spiqa-* --version`. `make` (build, install, test) writes build_commit.h beside this file
// from `git describe --always --dirty` — git-ignored, rewritten (and this file touched) only when the commit
// changes, so it costs one C compile and a relink. A plain `swift build`, or a tree without git information,
// builds without it and reports "unknown".
#include "spiqa_build_info.h"

#if __has_include("build_commit.h")
#include "build_commit.h"
#endif
#ifndef SPIQA_BUILD_COMMIT
#define SPIQA_BUILD_COMMIT "unknown"
#endif

const char *spiqa_build_commit(void) { return SPIQA_BUILD_COMMIT; }
