// Byte scanning the Swift compiler does not vectorize: its SIMD types' lane compares on
// SIMD16<UInt8> were compiled lane by lane (a loop over the vector on the stack), so the
// block compare is written here with SSE2 intrinsics, in a header, where the Swift code
// that calls it inlines it. Other processors get the portable scan in Swift alone.
#ifndef CVIGILBYTES_H
#define CVIGILBYTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#if defined(__SSE2__)
/// A bit for each byte of `block` a JSON string cannot hold as it is (`"`, `\\` or one below
/// 0x20), lowest bit first.
static inline unsigned vigil_special_lanes(__m128i block) {
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i backslash = _mm_set1_epi8('\\');
  const __m128i highestControl = _mm_set1_epi8(0x1F);
  // Unsigned: a byte at most 0x1F is its own minimum with 0x1F.
  const __m128i control = _mm_cmpeq_epi8(_mm_min_epu8(block, highestControl), block);
  const __m128i special = _mm_or_si128(
      _mm_or_si128(_mm_cmpeq_epi8(block, quote), _mm_cmpeq_epi8(block, backslash)), control);
  return (unsigned)_mm_movemask_epi8(special);
}
#endif

/// Skips whole 16-byte blocks of `base[index..<end]` that hold no byte a JSON string
/// cannot hold as it is (`"`, `\` or one below 0x20). Gives the first such byte's position
/// and sets `*found` when a block holds one; else gives the start of the part shorter than
/// a block (for the caller to scan). Sets `*maybeNonASCII` when a block it read holds a
/// byte of 0x80 or above. Without SSE2 it gives `index` back.
static inline size_t vigil_skip_plain_blocks(const uint8_t *base, size_t index, size_t end,
                                             bool *found, bool *maybeNonASCII) {
#if defined(__SSE2__)
  __m128i seen = _mm_setzero_si128();
  while (index + 16 <= end) {
    const __m128i block = _mm_loadu_si128((const __m128i *)(base + index));
    seen = _mm_or_si128(seen, block);
    const unsigned special_lanes = vigil_special_lanes(block);
    if (special_lanes != 0) {
      index += (size_t)__builtin_ctz(special_lanes);
      *found = true;
      break;
    }
    index += 16;
  }
  if (_mm_movemask_epi8(seen) != 0) *maybeNonASCII = true;
#endif
  return index;
}

/// The position of the first `"` in `base[index..<end]`, `end` when there is none: sixteen
/// bytes at a time with SSE2, then one at a time.
static inline size_t vigil_find_quote(const uint8_t *base, size_t index, size_t end) {
#if defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('"');
  while (index + 16 <= end) {
    const __m128i block = _mm_loadu_si128((const __m128i *)(base + index));
    const int lanes = _mm_movemask_epi8(_mm_cmpeq_epi8(block, quote));
    if (lanes != 0) return index + (size_t)__builtin_ctz((unsigned)lanes);
    index += 16;
  }
#endif
  while (index < end && base[index] != '"') index++;
  return index;
}

/// The position of the first byte of `base[0..<count]` a JSON string cannot hold as it is
/// (`"`, `\` or one below 0x20), `count` when there is none. Reads whole 16-byte blocks, up
/// to 15 bytes past `count`: the caller has that much readable memory there (the JSON
/// writer's own buffer, with room kept for it). Without SSE2, byte by byte.
static inline size_t vigil_first_special_padded(const uint8_t *base, size_t count) {
#if defined(__SSE2__)
  for (size_t index = 0; index < count; index += 16) {
    const __m128i block = _mm_loadu_si128((const __m128i *)(base + index));
    unsigned lanes = vigil_special_lanes(block);
    if (count - index < 16) lanes &= (1u << (count - index)) - 1;
    if (lanes != 0) return index + (size_t)__builtin_ctz(lanes);
  }
  return count;
#else
  for (size_t index = 0; index < count; index++) {
    const uint8_t byte = base[index];
    if (byte < 0x20 || byte == '"' || byte == '\\') return index;
  }
  return count;
#endif
}

#endif
