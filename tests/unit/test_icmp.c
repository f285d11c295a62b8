/* ICMP echo (ipv4.c): exact replies, validation, what is ignored. */
#include <string.h>

#include "testutil.h"

static uint8_t f[TU_BUF];
static uint8_t data[1500];

static int setup(void **state)
{
    tu_setup_peer(state);
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i * 7 + 3);
    return 0;
}

/* Send an echo request with len data bytes; check the one reply exactly. */
static void echo_exact(uint16_t id, uint16_t seq, size_t len)
{
    struct tu_ip_info ip;
    size_t n = tu_icmp(f, TU_PEER_IP, TU_IP, 8, id, seq, data, len);
    const uint8_t *req = f + ETH_HLEN + IP_HLEN;
    unsigned before = tu_ntx;

    tu_input(f, n);
    assert_int_equal(tu_ntx, before + 1);
    tu_get_ip(before, &ip); /* IPv4 header checks */
    assert_memory_equal(ip.eth_dst, tu_peer_mac, 6);
    assert_int_equal(ip.src, TU_IP);
    assert_int_equal(ip.dst, TU_PEER_IP);
    assert_int_equal(ip.proto, IP_PROTO_ICMP);
    assert_int_equal(ip.plen, 8 + len);
    assert_int_equal(ip.payload[0], 0); /* echo reply */
    assert_int_equal(ip.payload[1], 0);
    assert_int_equal(get_be16(ip.payload + 4), id);
    assert_int_equal(get_be16(ip.payload + 6), seq);
    assert_memory_equal(ip.payload + 4, req + 4, 4 + len);
    if (len)
        assert_memory_equal(ip.payload + 8, data, len);
    assert_int_equal(tu_csum(ip.payload, ip.plen), 0);
    assert_int_equal(tu_tx[before].len, n < 60 ? 60 : n);
}

static void test_echo_56(void **state)
{
    (void)state;
    echo_exact(0x1234, 1, 56);
    tu_expect_stats("rx_frames=1 tx_frames=1 icmp_echo=1");
}

static void test_echo_1400(void **state)
{
    (void)state;
    echo_exact(0xBEEF, 0xFFFF, 1400);
    tu_expect_stats("rx_frames=1 tx_frames=1 icmp_echo=1");
}

static void test_echo_sizes(void **state)
{
    static const size_t sizes[] = { 0, 1, 2, 3, 17, 18, 57, 1471, 1472 };

    (void)state;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        echo_exact((uint16_t)i, (uint16_t)(100 + i), sizes[i]);
    tu_expect_stats("rx_frames=9 tx_frames=9 icmp_echo=9");
}

static void test_echo_ids_and_ip_ids(void **state)
{
    struct tu_ip_info a, b;

    (void)state;
    echo_exact(0, 0, 8);
    echo_exact(0xFFFF, 0xFFFF, 8);
    tu_get_ip(0, &a);
    tu_get_ip(1, &b);
    assert_int_equal((uint16_t)(a.id + 1), b.id);
}

static void test_bad_checksum(void **state)
{
    size_t n;

    (void)state;
    n = tu_icmp(f, TU_PEER_IP, TU_IP, 8, 1, 1, data, 56);
    f[ETH_HLEN + IP_HLEN + 8 + 20] ^= 0x40; /* a data bit */
    tu_input(f, n);
    n = tu_icmp(f, TU_PEER_IP, TU_IP, 8, 1, 1, data, 57); /* odd: last byte counts */
    f[n - 1] ^= 0x01;
    tu_input(f, n);
    assert_int_equal(tu_ntx, 0);
    tu_expect_stats("rx_frames=2 icmp_bad=2");
}

static void test_short(void **state)
{
    static const uint8_t four[4] = { 8, 0, 0xF7, 0xFF }; /* valid checksum, no id/seq */
    static const uint8_t seven[7] = { 8, 0, 0xF7, 0xFF, 0, 0, 0 };

    (void)state;
    tu_input(f, tu_ipv4_simple(f, TU_PEER_IP, TU_IP, IP_PROTO_ICMP, four, 4));
    tu_input(f, tu_ipv4_simple(f, TU_PEER_IP, TU_IP, IP_PROTO_ICMP, seven, 7));
    tu_input(f, tu_ipv4_simple(f, TU_PEER_IP, TU_IP, IP_PROTO_ICMP, NULL, 0));
    assert_int_equal(tu_ntx, 0);
    tu_expect_stats("rx_frames=3 icmp_bad=3");
}

static void test_other_icmp_ignored(void **state)
{
    static const uint8_t types[] = { 0, 3, 5, 11, 13, 17, 128 };
    size_t n;

    (void)state;
    for (size_t i = 0; i < sizeof types; i++)
        tu_input(f, tu_icmp(f, TU_PEER_IP, TU_IP, types[i], 1, 1, data, 28));
    /* Echo request with a nonzero code: not an echo request we know. */
    n = tu_icmp(f, TU_PEER_IP, TU_IP, 8, 1, 1, data, 8);
    f[ETH_HLEN + IP_HLEN + 1] = 1;
    put_be16(f + ETH_HLEN + IP_HLEN + 2, 0);
    put_be16(f + ETH_HLEN + IP_HLEN + 2, tu_csum(f + ETH_HLEN + IP_HLEN, 16));
    tu_input(f, n);
    assert_int_equal(tu_ntx, 0);
    tu_expect_stats("rx_frames=8");
}

static void test_echo_to_broadcast_ignored(void **state)
{
    size_t n;

    (void)state;
    n = tu_icmp(f, TU_PEER_IP, 0xFFFFFFFFu, 8, 1, 1, data, 56);
    memcpy(f, tu_bcast, 6);
    tu_input(f, n);
    n = tu_icmp(f, TU_PEER_IP, 0xC0A807FFu, 8, 1, 1, data, 56);
    memcpy(f, tu_bcast, 6);
    tu_input(f, n);
    assert_int_equal(tu_ntx, 0);
    tu_expect_stats("rx_frames=2 ip_not_us=2");
}

static void test_ping_other_address_ignored(void **state)
{
    (void)state;
    tu_input(f, tu_icmp(f, TU_PEER_IP, 0xC0A80703u, 8, 1, 1, data, 56));
    assert_int_equal(tu_ntx, 0);
    tu_expect_stats("rx_frames=1 ip_not_us=1");
}

static void test_reply_dropped_while_next_hop_unknown(void **state)
{
    size_t n;

    (void)state;
    /* From afar, through a gateway we have not resolved: ARP asks for the
     * gateway, the reply is dropped, no echo counted. */
    tu_s.cfg.gateway = 0xC0A807FEu;
    n = tu_icmp(f, 0x0A000001u, TU_IP, 8, 1, 1, data, 56);
    tu_input(f, n);
    assert_int_equal(tu_ntx, 1);
    assert_int_equal(get_be16(tu_tx[0].d + 12), ETHTYPE_ARP);
    tu_expect_stats("rx_frames=1 tx_frames=1 arp_requests=1 arp_unresolved=1");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_echo_56, setup),
        cmocka_unit_test_setup(test_echo_1400, setup),
        cmocka_unit_test_setup(test_echo_sizes, setup),
        cmocka_unit_test_setup(test_echo_ids_and_ip_ids, setup),
        cmocka_unit_test_setup(test_bad_checksum, setup),
        cmocka_unit_test_setup(test_short, setup),
        cmocka_unit_test_setup(test_other_icmp_ignored, setup),
        cmocka_unit_test_setup(test_echo_to_broadcast_ignored, setup),
        cmocka_unit_test_setup(test_ping_other_address_ignored, setup),
        cmocka_unit_test_setup(test_reply_dropped_while_next_hop_unknown, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
