/* Sequence-number arithmetic modulo 2^32 (RFC 9293 3.4): the one place
 * where sequence numbers are compared. a < b means a comes before b within
 * half the sequence space, so every comparison is correct across wraparound. */
#ifndef TCP_SEQ_H
#define TCP_SEQ_H

#include <stdint.h>

static inline int32_t seq_diff(uint32_t a, uint32_t b) { return (int32_t)(a - b); }
static inline int seq_lt(uint32_t a, uint32_t b) { return seq_diff(a, b) < 0; }
static inline int seq_le(uint32_t a, uint32_t b) { return seq_diff(a, b) <= 0; }
static inline int seq_gt(uint32_t a, uint32_t b) { return seq_diff(a, b) > 0; }
static inline int seq_ge(uint32_t a, uint32_t b) { return seq_diff(a, b) >= 0; }
/* lo <= x < hi */
static inline int seq_in(uint32_t x, uint32_t lo, uint32_t hi) { return seq_le(lo, x) && seq_lt(x, hi); }

#endif
