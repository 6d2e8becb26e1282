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

/// Writes `count` bytes as lowercase hex, two digits a byte, the high one first, to `out`
/// (room for `2 * count`): sixteen bytes at a time with SSE2, the rest one at a time. Byte
/// by byte, the 32 bytes of a SHA-256 hash took ~330 instructions.
static inline void vigil_hex_lower(const uint8_t *bytes, size_t count, uint8_t *out) {
  size_t index = 0;
#if defined(__SSE2__)
  const __m128i lowNibble = _mm_set1_epi8(0x0F);
  const __m128i nine = _mm_set1_epi8(9);
  const __m128i zero = _mm_set1_epi8('0');
  const __m128i toLetters = _mm_set1_epi8('a' - '0' - 10);
  for (; index + 16 <= count; index += 16) {
    const __m128i block = _mm_loadu_si128((const __m128i *)(bytes + index));
    const __m128i high = _mm_and_si128(_mm_srli_epi16(block, 4), lowNibble);
    const __m128i low = _mm_and_si128(block, lowNibble);
    // Each byte's two digits side by side, then '0' added, and the gap to 'a' above 9.
    __m128i digits[2] = {_mm_unpacklo_epi8(high, low), _mm_unpackhi_epi8(high, low)};
    for (int half = 0; half < 2; half++) {
      const __m128i letters = _mm_and_si128(_mm_cmpgt_epi8(digits[half], nine), toLetters);
      digits[half] = _mm_add_epi8(_mm_add_epi8(digits[half], zero), letters);
      _mm_storeu_si128((__m128i *)(out + 2 * index + 16 * (size_t)half), digits[half]);
    }
  }
#endif
  static const char hex[16] = "0123456789abcdef";
  for (; index < count; index++) {
    out[2 * index] = (uint8_t)hex[bytes[index] >> 4];
    out[2 * index + 1] = (uint8_t)hex[bytes[index] & 15];
  }
}

#endif
