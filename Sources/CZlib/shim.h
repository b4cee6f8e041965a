#ifndef SPIQA_CZLIB_SHIM_H
#define SPIQA_CZLIB_SHIM_H
#include <zlib.h>

// deflateInit2/inflateInit2 are macros in zlib.h; Swift cannot call macros, so wrap them.
static inline int spiqa_deflateInit2(z_streamp strm, int level, int windowBits, int memLevel, int strategy) {
  return deflateInit2(strm, level, Z_DEFLATED, windowBits, memLevel, strategy);
}
static inline int spiqa_inflateInit2(z_streamp strm, int windowBits) {
  return inflateInit2(strm, windowBits);
}
#endif
