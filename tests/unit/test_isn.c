/* HalfSipHash-2-4 ISN function and entropy mixing (isn.c). */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

/* HalfSipHash-2-4 with a 32-bit output, straight from the reference code
 * (github.com/veorq/SipHash, halfsiphash.c): bytes in, 8-byte key. */
#define RL(x, b) (uint32_t)(((x) << (b)) | ((x) >> (32 - (b))))
#define RND                                                                                       \
    do {                                                                                          \
        v0 += v1; v1 = RL(v1, 5); v1 ^= v0; v0 = RL(v0, 16);                                      \
        v2 += v3; v3 = RL(v3, 8); v3 ^= v2;                                                       \
        v0 += v3; v3 = RL(v3, 7); v3 ^= v0;                                                       \
        v2 += v1; v1 = RL(v1, 13); v1 ^= v2; v2 = RL(v2, 16);                                     \
    } while (0)

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint32_t ref_halfsiphash(const uint8_t k[8], const uint8_t *m, size_t len)
{
    uint32_t k0 = le32(k), k1 = le32(k + 4), b = (uint32_t)len << 24, w;
    uint32_t v0 = k0, v1 = k1, v2 = k0 ^ 0x6c796765u, v3 = k1 ^ 0x74656462u;
    size_t i, j;

    for (i = 0; i + 4 <= len; i += 4) {
        w = le32(m + i);
        v3 ^= w;
        RND;
        RND;
        v0 ^= w;
    }
    for (j = 0; i + j < len; j++)
        b |= (uint32_t)m[i + j] << (8 * j);
    v3 ^= b;
    RND;
    RND;
    v0 ^= b;
    v2 ^= 0xff;
    RND;
    RND;
    RND;
    RND;
    return v1 ^ v3;
}

/* isn.c's 64-bit key from the stack's four key words: k0 = w0 ^ w2,
 * k1 = w1 ^ w3, as little-endian key bytes. */
static void fold_key(const uint32_t w[4], uint8_t k[8])
{
    for (int i = 0; i < 8; i++)
        k[i] = (uint8_t)((w[i / 4] ^ w[2 + i / 4]) >> (8 * (i % 4)));
}

static const uint8_t kat_key[8] = { 0, 1, 2, 3, 4, 5, 6, 7 };

static void test_reference_matches_published_vectors(void **state)
{
    /* vectors_hsip32 of the reference code's vectors.h (key 00..07,
     * message 00..len-1), bytes read as a little-endian word. */
    static const struct {
        size_t len;
        uint32_t out;
    } v[] = { { 0, 0x5b9f35a9u },  { 1, 0xb85a4727u },  { 3, 0x04e7fe8au },
              { 4, 0x89466e2au },  { 7, 0xc563cf8bu },  { 8, 0x8f84b8d0u },
              { 12, 0x2f87f057u }, { 15, 0x972bfe74u }, { 63, 0x744aea59u } };
    uint8_t m[64];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof m; i++)
        m[i] = (uint8_t)i;
    for (i = 0; i < sizeof v / sizeof v[0]; i++)
        assert_int_equal(ref_halfsiphash(kat_key, m, v[i].len), v[i].out);
}

static void test_tuple_known_answer(void **state)
{
    /* The reference key bytes 00..07 as the stack's key words (the upper
     * two zero, so the fold leaves them as they are). */
    uint32_t k[4] = { 0x03020100u, 0x07060504u, 0, 0 };

    (void)state;
    /* Message 00 01 .. 0b: lip 0.1.2.3, lport 0x0405, rip 6.7.8.9,
     * rport 0x0a0b: the published 12-byte vector. */
    assert_int_equal(net_siphash_tuple(k, 0x00010203u, 0x0405, 0x06070809u, 0x0a0b), 0x2f87f057u);
    /* Folding: the same 64-bit key split over all four words. */
    uint32_t f[4] = { 0x03020100u ^ 0xdeadbeefu, 0x07060504u ^ 0x01234567u, 0xdeadbeefu,
                      0x01234567u };
    assert_int_equal(net_siphash_tuple(f, 0x00010203u, 0x0405, 0x06070809u, 0x0a0b), 0x2f87f057u);
}

static void test_tuple_matches_reference(void **state)
{
    uint8_t key[8], m[12];
    uint32_t k[4], lip, rip;
    uint16_t lport, rport;
    int n, i;

    (void)state;
    srand(6528);
    for (n = 0; n < 2000; n++) {
        for (i = 0; i < 4; i++)
            k[i] = (uint32_t)rand() << 16 ^ (uint32_t)rand();
        fold_key(k, key);
        lip = (uint32_t)rand() << 16 ^ (uint32_t)rand();
        rip = (uint32_t)rand() << 16 ^ (uint32_t)rand();
        lport = (uint16_t)rand();
        rport = (uint16_t)rand();
        put_be32(m, lip);
        put_be16(m + 4, lport);
        put_be32(m + 6, rip);
        put_be16(m + 10, rport);
        assert_int_equal(net_siphash_tuple(k, lip, lport, rip, rport), ref_halfsiphash(key, m, 12));
    }
}

static void test_every_field_matters(void **state)
{
    uint32_t k[4] = { 1, 2, 3, 4 }, base = net_siphash_tuple(k, TU_IP, 80, TU_PEER_IP, 40000);

    (void)state;
    assert_int_not_equal(net_siphash_tuple(k, TU_IP + 1, 80, TU_PEER_IP, 40000), base);
    assert_int_not_equal(net_siphash_tuple(k, TU_IP, 81, TU_PEER_IP, 40000), base);
    assert_int_not_equal(net_siphash_tuple(k, TU_IP, 80, TU_PEER_IP + 1, 40000), base);
    assert_int_not_equal(net_siphash_tuple(k, TU_IP, 80, TU_PEER_IP, 40001), base);
    /* Swapping the ends is another connection. */
    assert_int_not_equal(net_siphash_tuple(k, TU_PEER_IP, 40000, TU_IP, 80), base);
    k[3] ^= 0x80000000u;
    assert_int_not_equal(net_siphash_tuple(k, TU_IP, 80, TU_PEER_IP, 40000), base);
}

static void test_entropy_changes_whole_key(void **state)
{
    static const uint8_t jitter[40] = { 0x13, 0x37, 0x42 };
    static const uint32_t zero[4];
    uint32_t k0[4];
    int i;

    (void)state;
    memcpy(k0, tu_s.isn_key, sizeof k0);
    assert_memory_equal(k0, zero, sizeof k0); /* net_init zeroes it */
    net_add_entropy(&tu_s, jitter, sizeof jitter); /* 4 pieces: every word replaced */
    for (i = 0; i < 4; i++)
        assert_int_not_equal(tu_s.isn_key[i], k0[i]);
}

static void test_entropy_deterministic_and_data_dependent(void **state)
{
    uint8_t d[100];
    uint32_t a[4], b[4];

    (void)state;
    memset(d, 0x5A, sizeof d);
    net_add_entropy(&tu_s, d, sizeof d);
    memcpy(a, tu_s.isn_key, sizeof a);
    tu_reset();
    net_add_entropy(&tu_s, d, sizeof d);
    assert_memory_equal(a, tu_s.isn_key, sizeof a); /* same input, same key */
    tu_reset();
    d[99] ^= 1; /* last byte, in the short last piece */
    net_add_entropy(&tu_s, d, sizeof d);
    assert_memory_not_equal(a, tu_s.isn_key, sizeof a);
    /* Successive calls accumulate: one more byte changes the key again. */
    memcpy(b, tu_s.isn_key, sizeof b);
    net_add_entropy(&tu_s, d, 1);
    assert_memory_not_equal(b, tu_s.isn_key, sizeof b);
    /* Nothing given, nothing changed. */
    memcpy(b, tu_s.isn_key, sizeof b);
    net_add_entropy(&tu_s, d, 0);
    assert_memory_equal(b, tu_s.isn_key, sizeof b);
}

static void test_entropy_ignored_once_frozen(void **state)
{
    uint32_t k[4];

    (void)state;
    net_add_entropy(&tu_s, "boot", 4);
    memcpy(k, tu_s.isn_key, sizeof k);
    tu_s.isn_key_frozen = 1;
    net_add_entropy(&tu_s, "more", 4);
    assert_memory_equal(k, tu_s.isn_key, sizeof k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference_matches_published_vectors),
        cmocka_unit_test(test_tuple_known_answer),
        cmocka_unit_test(test_tuple_matches_reference),
        cmocka_unit_test(test_every_field_matters),
        cmocka_unit_test_setup(test_entropy_changes_whole_key, tu_setup),
        cmocka_unit_test_setup(test_entropy_deterministic_and_data_dependent, tu_setup),
        cmocka_unit_test_setup(test_entropy_ignored_once_frozen, tu_setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
