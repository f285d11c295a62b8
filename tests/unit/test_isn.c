/* SipHash-2-4 ISN function and entropy mixing (isn.c). */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

/* SipHash-2-4 straight from the paper, bytes in, 64 bits out. */
#define RL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define RND                                                                                       \
    do {                                                                                          \
        v0 += v1; v1 = RL(v1, 13); v1 ^= v0; v0 = RL(v0, 32);                                     \
        v2 += v3; v3 = RL(v3, 16); v3 ^= v2;                                                      \
        v0 += v3; v3 = RL(v3, 21); v3 ^= v0;                                                      \
        v2 += v1; v1 = RL(v1, 17); v1 ^= v2; v2 = RL(v2, 32);                                     \
    } while (0)

static uint64_t ref_siphash(const uint8_t k[16], const uint8_t *m, size_t len)
{
    uint64_t k0 = 0, k1 = 0, v0, v1, v2, v3, b = (uint64_t)len << 56, w;
    size_t i, j;

    for (i = 0; i < 8; i++) {
        k0 |= (uint64_t)k[i] << (8 * i);
        k1 |= (uint64_t)k[8 + i] << (8 * i);
    }
    v0 = k0 ^ 0x736f6d6570736575ull;
    v1 = k1 ^ 0x646f72616e646f6dull;
    v2 = k0 ^ 0x6c7967656e657261ull;
    v3 = k1 ^ 0x7465646279746573ull;
    for (i = 0; i + 8 <= len; i += 8) {
        for (w = 0, j = 0; j < 8; j++)
            w |= (uint64_t)m[i + j] << (8 * j);
        v3 ^= w;
        RND;
        RND;
        v0 ^= w;
    }
    for (j = 0; i + j < len; j++)
        b |= (uint64_t)m[i + j] << (8 * j);
    v3 ^= b;
    RND;
    RND;
    v0 ^= b;
    v2 ^= 0xff;
    RND;
    RND;
    RND;
    RND;
    return v0 ^ v1 ^ v2 ^ v3;
}

/* The key as isn.c takes it: four little-endian words of the key bytes. */
static void key_words(const uint8_t k[16], uint32_t w[4])
{
    int i;

    for (i = 0; i < 4; i++)
        w[i] = (uint32_t)k[4 * i] | (uint32_t)k[4 * i + 1] << 8 | (uint32_t)k[4 * i + 2] << 16 |
               (uint32_t)k[4 * i + 3] << 24;
}

static const uint8_t kat_key[16] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };

static void test_reference_matches_published_vectors(void **state)
{
    /* From the SipHash reference vectors (key 00..0f, message 00..len-1). */
    static const struct {
        size_t len;
        uint64_t out;
    } v[] = { { 0, 0x726fdb47dd0e0e31ull },  { 7, 0xab0200f58b01d137ull },
              { 8, 0x93f5f5799a932462ull },  { 12, 0x751e8fbc860ee5fbull },
              { 15, 0xa129ca6149be45e5ull }, { 63, 0x958a324ceb064572ull } };
    uint8_t m[64];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof m; i++)
        m[i] = (uint8_t)i;
    for (i = 0; i < sizeof v / sizeof v[0]; i++)
        assert_int_equal(ref_siphash(kat_key, m, v[i].len), v[i].out);
}

static void test_tuple_known_answer(void **state)
{
    uint32_t k[4];

    (void)state;
    key_words(kat_key, k);
    assert_int_equal(k[0], 0x03020100);
    assert_int_equal(k[3], 0x0f0e0d0c);
    /* Message 00 01 .. 0b: lip 0.1.2.3, lport 0x0405, rip 6.7.8.9,
     * rport 0x0a0b. SipHash = 751e8fbc860ee5fb, low 32 bits kept. */
    assert_int_equal(net_siphash_tuple(k, 0x00010203u, 0x0405, 0x06070809u, 0x0a0b), 0x860ee5fbu);
}

static void test_tuple_matches_reference(void **state)
{
    uint8_t key[16], m[12];
    uint32_t k[4], lip, rip;
    uint16_t lport, rport;
    int n, i;

    (void)state;
    srand(6528);
    for (n = 0; n < 2000; n++) {
        for (i = 0; i < 16; i++)
            key[i] = (uint8_t)rand();
        key_words(key, k);
        lip = (uint32_t)rand() << 16 ^ (uint32_t)rand();
        rip = (uint32_t)rand() << 16 ^ (uint32_t)rand();
        lport = (uint16_t)rand();
        rport = (uint16_t)rand();
        put_be32(m, lip);
        put_be16(m + 4, lport);
        put_be32(m + 6, rip);
        put_be16(m + 10, rport);
        assert_int_equal(net_siphash_tuple(k, lip, lport, rip, rport),
                         (uint32_t)ref_siphash(key, m, 12));
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
