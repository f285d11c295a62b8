/* Internet checksum (checksum.c) against RFC 1071's example, known headers
 * and a plain byte-at-a-time reference over every length and alignment. */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

/* RFC 1071 as written: 16-bit big-endian words, odd byte padded with 0,
 * carries folded at the end. */
static uint16_t ref_sum(uint32_t start, const uint8_t *p, size_t len)
{
    uint64_t sum = start;
    size_t i;

    for (i = 0; i + 1 < len; i += 2)
        sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (len & 1)
        sum += (uint32_t)p[len - 1] << 8;
    while (sum >> 16)
        sum = (sum & 0xFFFF) + (sum >> 16);
    return (uint16_t)sum;
}

static void test_rfc1071_example(void **state)
{
    /* RFC 1071 section 3: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2. */
    static const uint8_t d[8] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };

    (void)state;
    assert_int_equal(net_csum_fold(net_csum_add(0, d, 8)), (uint16_t)~0xddf2);
    /* Chained in even pieces: the same. */
    assert_int_equal(net_csum_fold(net_csum_add(net_csum_add(net_csum_add(0, d, 2), d + 2, 4), d + 6, 2)),
                     (uint16_t)~0xddf2);
}

static void test_known_ipv4_header(void **state)
{
    /* A real header whose checksum is b861. */
    uint8_t h[20] = { 0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
                      0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7 };

    (void)state;
    assert_int_equal(net_csum_fold(net_csum_add(0, h, 20)), 0xb861);
    h[10] = 0xb8;
    h[11] = 0x61;
    assert_int_equal(net_csum_fold(net_csum_add(0, h, 20)), 0); /* verifies */
    h[19] ^= 1;
    assert_int_not_equal(net_csum_fold(net_csum_add(0, h, 20)), 0);
}

static void test_edge_values(void **state)
{
    uint8_t z[64] = { 0 }, ff[64];

    (void)state;
    memset(ff, 0xFF, sizeof ff);
    assert_int_equal(net_csum_fold(0), 0xFFFF);
    assert_int_equal(net_csum_fold(net_csum_add(0, z, 0)), 0xFFFF);
    assert_int_equal(net_csum_fold(net_csum_add(0, z, 64)), 0xFFFF);
    assert_int_equal(net_csum_fold(net_csum_add(0, ff, 64)), 0x0000);
    assert_int_equal(net_csum_fold(net_csum_add(0, ff, 1)), 0x00FF); /* ff00 */
    assert_int_equal(net_csum_fold(0xFFFF), 0);
    assert_int_equal(net_csum_fold(0x1FFFE), 0); /* 1 + fffe */
    assert_int_equal(net_csum_fold(0xFFFFFFFFu), 0); /* ffff + ffff -> ffff */
    assert_int_equal(net_csum_fold(0x10000), 0xFFFE);
    /* Odd single bytes are the high half of a word. */
    z[0] = 0xAB;
    assert_int_equal(net_csum_fold(net_csum_add(0, z, 1)), (uint16_t)~0xAB00);
    /* An incoming sum near the top still folds right (end-around carry). */
    assert_int_equal(net_csum_fold(net_csum_add(0xFFFFFFFFu, ff, 2)), 0);
    assert_int_equal(net_csum_fold(net_csum_add(0xFFFFFFF0u, z, 1)),
                     (uint16_t)~ref_sum(0xFFFFFFF0u, z, 1));
}

static void test_matches_reference_all_lengths_and_alignments(void **state)
{
    static uint8_t buf[1600 + 8];
    size_t len, al, i;

    (void)state;
    srand(1071);
    for (i = 0; i < sizeof buf; i++)
        buf[i] = (uint8_t)rand();
    for (al = 0; al < 4; al++) {
        for (len = 0; len <= 1600; len++) {
            uint32_t start = (uint32_t)rand() & 0x3FFFF;
            unsigned want = 0xFFFFu - ref_sum(start, buf + al, len);
            unsigned got = net_csum_fold(net_csum_add(start, buf + al, len));

            if (got != want)
                fail_msg("len %zu align %zu start %x", len, al, start);
        }
    }
}

static void test_chained_pieces(void **state)
{
    static uint8_t buf[1500];
    size_t i, k;

    (void)state;
    srand(826);
    for (i = 0; i < sizeof buf; i++)
        buf[i] = (uint8_t)rand();
    for (k = 0; k < 200; k++) {
        size_t total = (size_t)rand() % 1500, cut1 = total ? ((size_t)rand() % total) & ~(size_t)1 : 0;
        size_t cut2 = cut1 + ((total - cut1 ? (size_t)rand() % (total - cut1) : 0) & ~(size_t)1);
        uint32_t sum = net_csum_add(0, buf, cut1);

        sum = net_csum_add(sum, buf + cut1, cut2 - cut1);
        sum = net_csum_add(sum, buf + cut2, total - cut2);
        assert_int_equal(net_csum_fold(sum), (uint16_t)~ref_sum(0, buf, total));
    }
}

static void test_pseudo_header(void **state)
{
    /* 192.168.7.1 -> 192.168.7.2, TCP, 20 bytes. */
    uint32_t want = 0xC0A8 + 0x0701 + 0xC0A8 + 0x0702 + 6 + 20;
    uint8_t ph[12] = { 0xC0, 0xA8, 0x07, 0x01, 0xC0, 0xA8, 0x07, 0x02, 0, 6, 0, 20 };

    (void)state;
    assert_int_equal(net_csum_fold(net_csum_pseudo(TU_PEER_IP, TU_IP, 6, 20)), net_csum_fold(want));
    assert_int_equal(net_csum_fold(net_csum_pseudo(TU_PEER_IP, TU_IP, 6, 20)),
                     net_csum_fold(net_csum_add(0, ph, 12)));
    assert_int_equal(net_csum_fold(net_csum_pseudo(0xFFFFFFFFu, 0xFFFFFFFFu, 255, 0xFFFF)),
                     (uint16_t)~ref_sum(0, (const uint8_t[]){ 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                                                              0xFF, 0, 0xFF, 0xFF, 0xFF }, 12));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc1071_example),
        cmocka_unit_test(test_known_ipv4_header),
        cmocka_unit_test(test_edge_values),
        cmocka_unit_test(test_matches_reference_all_lengths_and_alignments),
        cmocka_unit_test(test_chained_pieces),
        cmocka_unit_test(test_pseudo_header),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
