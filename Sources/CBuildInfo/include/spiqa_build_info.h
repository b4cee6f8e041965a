#ifndef SPIQA_BUILD_INFO_H
#define SPIQA_BUILD_INFO_H

/// The git commit the tools were built from (`git describe --always --dirty`), or "unknown".
const char *spiqa_build_commit(void);

#endif
