/* RFC 6528 initial sequence numbers: ISN = M + F(localip, localport,
 * remoteip, remoteport, secretkey) with F = SipHash-2-4 (Aumasson and
 * Bernstein, 2012), 64-bit output truncated to its low 32 bits; TCP adds
 * the clock M.
 *
 * Key: isn_key[0] | isn_key[1] << 32 is SipHash's k0 and isn_key[2..3] its
 * k1, so the reference vectors' key bytes 00..0f are {0x03020100,
 * 0x07060504, 0x0b0a0908, 0x0f0e0d0c}. Message: the 12 bytes lip, lport,
 * rip, rport in network byte order (a fixed length, so the two message
 * words are built directly instead of with a byte loop). */
#include <string.h>

#include "net_priv.h"

#define ROTL(x, b) ((uint64_t)((x) << (b)) | ((x) >> (64 - (b))))

/* Absorb message word m with `rounds` SipRounds (m = 0: finalisation). */
static void sip_rounds(uint64_t v[4], uint64_t m, int rounds)
{
    v[3] ^= m;
    while (rounds-- > 0) {
        v[0] += v[1]; v[1] = ROTL(v[1], 13); v[1] ^= v[0]; v[0] = ROTL(v[0], 32);
        v[2] += v[3]; v[3] = ROTL(v[3], 16); v[3] ^= v[2];
        v[0] += v[3]; v[3] = ROTL(v[3], 21); v[3] ^= v[0];
        v[2] += v[1]; v[1] = ROTL(v[1], 17); v[1] ^= v[2]; v[2] = ROTL(v[2], 32);
    }
    v[0] ^= m;
}

uint32_t net_siphash_tuple(const uint32_t key[4], uint32_t lip, uint16_t lport, uint32_t rip,
                           uint16_t rport)
{
    uint64_t k0 = key[0] | (uint64_t)key[1] << 32, k1 = key[2] | (uint64_t)key[3] << 32;
    uint64_t v[4] = { k0 ^ 0x736f6d6570736575u, k1 ^ 0x646f72616e646f6du,
                      k0 ^ 0x6c7967656e657261u, k1 ^ 0x7465646279746573u };

    /* Message bytes 0..7 and 8..11 as little-endian words; the last word
     * carries the length (12) in its top byte. */
    sip_rounds(v, __builtin_bswap32(lip) |
                  (uint64_t)__builtin_bswap32((uint32_t)lport << 16 | rip >> 16) << 32, 2);
    sip_rounds(v, __builtin_bswap32(rip << 16 | rport) | (uint64_t)12 << 56, 2);
    v[2] ^= 0xff;
    sip_rounds(v, 0, 4);
    return (uint32_t)(v[0] ^ v[1] ^ v[2] ^ v[3]);
}

/* Each 12-byte piece of data (the last one zero-padded) is hashed under the
 * current key; the key words then shift down by one and the new top word is
 * that hash xor the word shifted out. The key's 128 bits thus depend on all
 * the data given (and on earlier calls) at one SipHash per 12 bytes: hash a
 * few hundred bytes of boot RAM or timer jitter, not all of RAM. */
void net_add_entropy(struct net_stack *s, const void *data, size_t len)
{
    const uint8_t *p = data;
    uint32_t w[3], *k = s->isn_key, h;

    while (len != 0 && !s->isn_key_frozen) {
        size_t n = len < sizeof w ? len : sizeof w;

        w[0] = w[1] = w[2] = 0;
        memcpy(w, p, n);
        p += n;
        len -= n;
        h = net_siphash_tuple(k, w[0], (uint16_t)w[2], w[1], (uint16_t)(w[2] >> 16)) ^ k[0];
        k[0] = k[1];
        k[1] = k[2];
        k[2] = k[3];
        k[3] = h;
    }
}
