// SHA-256's compression (FIPS 180-4 §6.2.2): in portable C, and with the x86 SHA extensions, where `sha256rnds2`
// does two rounds on the state held as ABEF / CDGH and `sha256msg1` / `sha256msg2` the message schedule, four words
// at a time (5x the speed here).

#include "sha256_blocks.h"


static const uint32_t k256[64] = {
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static inline uint32_t rotr(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

static void blocks_portable(uint32_t state[8], const uint8_t *p, size_t blocks) {
  for (; blocks > 0; blocks--, p += 64) {
    uint32_t w[64];
    for (int i = 0; i < 16; i++)
      w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
    for (int i = 16; i < 64; i++) {
      uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
      uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
      w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = state[0], b = state[1], c = state[2], d = state[3];
    uint32_t e = state[4], f = state[5], g = state[6], h = state[7];
    for (int i = 0; i < 64; i++) {
      uint32_t t1 = h + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + k256[i] + w[i];
      uint32_t t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
      h = g, g = f, f = e, e = d + t1, d = c, c = b, b = a, a = t1 + t2;
    }
    state[0] += a, state[1] += b, state[2] += c, state[3] += d;
    state[4] += e, state[5] += f, state[6] += g, state[7] += h;
  }
}

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>

int spiqa_sha256_has_hardware(void) {
  static int has = -1;  // racing first calls store the same value
  int h = __atomic_load_n(&has, __ATOMIC_RELAXED);
  if (h < 0) {
    unsigned a, b, c, d;
    int sse41 = __get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 19));
    int sha = __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & (1u << 29));
    h = sse41 && sha;
    __atomic_store_n(&has, h, __ATOMIC_RELAXED);
  }
  return h;
}

__attribute__((target("sha,sse4.1"))) static void blocks_sha(uint32_t state[8], const uint8_t *p, size_t blocks) {
  // The message words are big-endian: reverse the bytes of each 32-bit lane.
  const __m128i swap = _mm_set_epi8(12, 13, 14, 15, 8, 9, 10, 11, 4, 5, 6, 7, 0, 1, 2, 3);
  // state A…H (lane 0 first) to the instructions' layout: abef = (F, E, B, A), cdgh = (H, G, D, C).
  __m128i badc = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)state), 0xB1);
  __m128i hgfe = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)(state + 4)), 0x1B);
  __m128i abef = _mm_alignr_epi8(badc, hgfe, 8);
  __m128i cdgh = _mm_blend_epi16(hgfe, badc, 0xF0);
  for (; blocks > 0; blocks--, p += 64) {
    __m128i abef0 = abef, cdgh0 = cdgh;
    // w[0..3] hold the last 16 message words, four per lane group: w[0] the oldest.
    __m128i w[4];
    for (int g = 0; g < 16; g++) {
      __m128i m;
      if (g < 4) {
        m = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 16 * g)), swap);
      } else {
        // W[i..i+3] = σ1(W[i-2]) + W[i-7] + σ0(W[i-15]) + W[i-16]: msg1 adds σ0 to W[i-16..], alignr brings
        // W[i-7..i-4], msg2 adds σ1 of the words it computes as it goes.
        m = _mm_sha256msg1_epu32(w[0], w[1]);
        m = _mm_add_epi32(m, _mm_alignr_epi8(w[3], w[2], 4));
        m = _mm_sha256msg2_epu32(m, w[3]);
        w[0] = w[1], w[1] = w[2], w[2] = w[3];
      }
      if (g < 4) w[g] = m; else w[3] = m;
      __m128i wk = _mm_add_epi32(m, _mm_loadu_si128((const __m128i *)(k256 + 4 * g)));
      // Two rounds take W+K from lanes 0 and 1, then two from lanes 2 and 3; the halves swap roles each time.
      cdgh = _mm_sha256rnds2_epu32(cdgh, abef, wk);
      abef = _mm_sha256rnds2_epu32(abef, cdgh, _mm_shuffle_epi32(wk, 0x0E));
    }
    abef = _mm_add_epi32(abef, abef0);
    cdgh = _mm_add_epi32(cdgh, cdgh0);
  }
  // Back to A…H.
  __m128i abef_r = _mm_shuffle_epi32(abef, 0x1B);  // (A, B, E, F)
  __m128i ghcd = _mm_shuffle_epi32(cdgh, 0xB1);     // (G, H, C, D)
  _mm_storeu_si128((__m128i *)state, _mm_blend_epi16(abef_r, ghcd, 0xF0));        // (A, B, C, D)
  _mm_storeu_si128((__m128i *)(state + 4), _mm_alignr_epi8(ghcd, abef_r, 8));    // (E, F, G, H)
}

#else

int spiqa_sha256_has_hardware(void) { return 0; }

#endif

void spiqa_sha256_blocks(uint32_t state[8], const uint8_t *p, size_t blocks, int hardware) {
#if defined(__x86_64__)
  if (hardware && spiqa_sha256_has_hardware()) {
    blocks_sha(state, p, blocks);
    return;
  }
#endif
  (void)hardware;
  blocks_portable(state, p, blocks);
}
