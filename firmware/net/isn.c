/* RFC 6528 initial sequence numbers: ISN = M + F(localip, localport,
 * remoteip, remoteport, secretkey) with F = HalfSipHash-2-4 (Aumasson's
 * 32-bit SipHash variant: 64-bit key, 32-bit output); TCP adds the clock M.
 * SipHash-2-4 proper works on 64-bit words, which a Cortex-M3 emulates in
 * pairs of registers at several times the code size and time.
 *
 * Key: the stack keeps 128 bits (isn_key[0..3], all of them fed by
 * net_add_entropy); HalfSipHash's 64-bit key is their fold, k0 = isn_key[0]
 * ^ isn_key[2], k1 = isn_key[1] ^ isn_key[3]. With isn_key[2..3] zero,
 * isn_key[0..1] are k0, k1 as the reference code reads them from key bytes
 * (little-endian): key bytes 00..07 are {0x03020100, 0x07060504}.
 * Message: the 12 bytes lip, lport, rip, rport in network byte order (a
 * fixed length, so the three message words are built directly). */
#include <string.h>

#include "net_priv.h"

#define ROTL(x, b) (uint32_t)((x) << (b) | (x) >> (32 - (b)))

/* Absorb message word m with `rounds` SipRounds (m = 0: finalisation). */
static void sip_rounds(uint32_t v[4], uint32_t m, int rounds)
{
    v[3] ^= m;
    while (rounds-- > 0) {
        v[0] += v[1]; v[1] = ROTL(v[1], 5); v[1] ^= v[0]; v[0] = ROTL(v[0], 16);
        v[2] += v[3]; v[3] = ROTL(v[3], 8); v[3] ^= v[2];
        v[0] += v[3]; v[3] = ROTL(v[3], 7); v[3] ^= v[0];
        v[2] += v[1]; v[1] = ROTL(v[1], 13); v[1] ^= v[2]; v[2] = ROTL(v[2], 16);
    }
    v[0] ^= m;
}

/* HalfSipHash-2-4 of 12 bytes, given as three little-endian words. */
static uint32_t halfsiphash12(const uint32_t key[4], const uint32_t m[3])
{
    uint32_t k0 = key[0] ^ key[2], k1 = key[1] ^ key[3];
    uint32_t v[4] = { k0, k1, k0 ^ 0x6c796765u, k1 ^ 0x74656462u };

    for (int i = 0; i < 3; i++)
        sip_rounds(v, m[i], 2);
    sip_rounds(v, 12u << 24, 2); /* the last block: no bytes left, the length */
    v[2] ^= 0xff;
    sip_rounds(v, 0, 4);
    return v[1] ^ v[3];
}

uint32_t net_siphash_tuple(const uint32_t key[4], uint32_t lip, uint16_t lport, uint32_t rip,
                           uint16_t rport)
{
    const uint32_t m[3] = { __builtin_bswap32(lip),
                            __builtin_bswap32((uint32_t)lport << 16 | rip >> 16),
                            __builtin_bswap32(rip << 16 | rport) };
    return halfsiphash12(key, m);
}

/* Each 12-byte piece of data (the last one zero-padded) is hashed under the
 * current key; the key words then shift down by one and the new top word is
 * that hash xor the word shifted out. The key's 128 bits thus depend on all
 * the data given (and on earlier calls) at one HalfSipHash per 12 bytes:
 * hash a few hundred bytes of boot RAM or timer jitter, not all of RAM. */
void net_add_entropy(struct net_stack *s, const void *data, size_t len)
{
    const uint8_t *p = data;
    uint32_t w[3], *k = s->isn_key;

    while (len != 0 && !s->isn_key_frozen) {
        size_t n = len < sizeof w ? len : sizeof w;

        w[0] = w[1] = w[2] = 0;
        memcpy(w, p, n);
        p += n;
        len -= n;
        uint32_t h = halfsiphash12(k, w) ^ k[0];
        k[0] = k[1];
        k[1] = k[2];
        k[2] = k[3];
        k[3] = h;
    }
}
