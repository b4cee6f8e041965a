#ifndef SPIQA_CDEFLATE_SHIM_H
#define SPIQA_CDEFLATE_SHIM_H
// libdeflate (Debian: libdeflate-dev): whole-buffer inflate and CRC-32, used where a member's sizes are known.
#include <libdeflate.h>
#endif
