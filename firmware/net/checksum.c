/* Internet checksum (RFC 1071).
 *
 * The sum is built in the machine's own byte order, 32 bits at a time into a
 * 64-bit accumulator (one ADDS/ADC pair per word on Cortex-M3; unaligned
 * loads are allowed there), then folded to 16 bits and byte-swapped into the
 * big-endian word sum the callers chain: the one's complement sum commutes
 * with byte swapping (RFC 1071 section 2.B).
 *
 * Contract: net_csum_add(sum, p, len) returns sum plus the big-endian 16-bit
 * words of p (end-around carry kept), so pieces can be chained while every
 * piece but the last has even length. net_csum_fold() returns the value to
 * store in a header, i.e. the complement of the folded sum; verifying a
 * received header or segment (checksum field included) yields 0 when valid. */
#include "net_priv.h"

uint32_t net_csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
    uint64_t acc = 0;
    uint32_t w, x;
    const uint8_t *end = p + (len & ~(size_t)7);

    while (p != end) { /* 2 x (LDR, ADDS, ADC) per 8 bytes */
        __builtin_memcpy(&w, p, 4); /* one LDR: -ffreestanding makes memcpy a call */
        __builtin_memcpy(&x, p + 4, 4);
        p += 8;
        acc += w;
        acc += x;
    }
    if (len & 4) {
        __builtin_memcpy(&w, p, 4);
        p += 4;
        acc += w;
    }
    if (len & 2) {
        uint16_t h;
        __builtin_memcpy(&h, p, 2);
        acc += h;
        p += 2;
    }
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (len & 1)
        acc += p[0]; /* low byte of a little-endian word = high byte on the wire */
    w = (uint32_t)(acc >> 48) + (uint16_t)(acc >> 32) + (uint16_t)(acc >> 16) + (uint16_t)acc;
    w = (w & 0xFFFFu) + (w >> 16);
    w = (w & 0xFFFFu) + (w >> 16);
    w = (w >> 8 | w << 8) & 0xFFFFu;
#else
    if (len & 1)
        acc += (uint32_t)p[0] << 8;
    w = (uint32_t)(acc >> 48) + (uint16_t)(acc >> 32) + (uint16_t)(acc >> 16) + (uint16_t)acc;
#endif
    sum += w;
    return sum + (sum < w); /* end-around carry: never overflows when chained */
}

uint16_t net_csum_fold(uint32_t sum)
{
    sum = (sum & 0xFFFFu) + (sum >> 16);
    sum += sum >> 16;
    return (uint16_t)~sum;
}

uint32_t net_csum_pseudo(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len)
{
    return (src >> 16) + (src & 0xFFFFu) + (dst >> 16) + (dst & 0xFFFFu) + proto + len;
}
