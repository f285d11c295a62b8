/* Ethernet framing and the entry points (eth.c). */
#include <string.h>

#include "testutil.h"

static uint8_t f[TU_BUF];

static void test_init_clears_and_copies(void **state)
{
    static const struct net_stats zero;

    (void)state;
    /* tu_reset filled the struct with 0xA5 before net_init. */
    assert_memory_equal(tu_s.cfg.mac, tu_mac, 6);
    assert_int_equal(tu_s.cfg.ip, TU_IP);
    assert_int_equal(tu_s.cfg.netmask, TU_NETMASK);
    assert_int_equal(tu_s.cfg.gateway, 0);
    assert_ptr_equal(tu_s.tx_ctx, &tu_s);
    assert_null(tu_s.trace);
    assert_int_equal(tu_s.now, 0);
    assert_int_equal(tu_s.ip_id, 0);
    assert_memory_equal(&tu_s.stats, &zero, sizeof zero);
    for (int i = 0; i < ARP_CACHE_SIZE; i++) {
        assert_int_equal(tu_s.arp[i].ip, 0);
        assert_int_equal(tu_s.arp[i].state, 0);
    }
    assert_int_equal(tu_s.isn_key_frozen, 0);
    assert_int_equal(tu_s.isn_key[0] | tu_s.isn_key[1] | tu_s.isn_key[2] | tu_s.isn_key[3], 0);
}

static void test_short_frames(void **state)
{
    (void)state;
    memset(f, 0xFF, 64);
    tu_input(f, 0);
    tu_input(f, 1);
    tu_input(f, 13);
    tu_expect_stats("rx_frames=3 eth_short=3");
    assert_int_equal(tu_ntx, 0);
    /* 14 bytes is a header: it goes up, and IPv4 finds no header in it. */
    tu_eth(f, tu_mac, tu_peer_mac, ETHTYPE_IPV4);
    tu_input(f, 14);
    tu_expect_stats("rx_frames=4 eth_short=3 ip_bad_hdr=1");
    tu_eth(f, tu_bcast, tu_peer_mac, ETHTYPE_ARP);
    tu_input(f, 14);
    tu_expect_stats("rx_frames=5 eth_short=3 ip_bad_hdr=1 arp_bad=1");
}

static void test_longest_frame_accepted_one_more_dropped(void **state)
{
    uint8_t data[1472];
    size_t n;

    (void)state;
    tu_prime_arp();
    memset(data, 0x3C, sizeof data);
    n = tu_icmp(f, TU_PEER_IP, TU_IP, 8, 1, 1, data, sizeof data);
    assert_int_equal(n, NET_FRAME_MAX);
    tu_input(f, n);
    tu_expect_stats("rx_frames=1 tx_frames=1 icmp_echo=1");
    assert_int_equal(tu_ntx, 1);
    assert_int_equal(tu_tx[0].len, NET_FRAME_MAX);
    /* One byte more (say, a trailing FCS left on) is over the MTU. */
    tu_input(f, NET_FRAME_MAX + 1);
    tu_expect_stats("rx_frames=2 tx_frames=1 icmp_echo=1 eth_short=1");
    assert_int_equal(tu_ntx, 1);
}

static void test_destination_filter(void **state)
{
    static const uint8_t other[6] = { 0x02, 0, 0, 0x12, 0x34, 0x57 };
    static const uint8_t ipv4_mcast[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 };
    static const uint8_t ipv6_mcast[6] = { 0x33, 0x33, 0x00, 0x00, 0x00, 0x01 };
    static const uint8_t almost_bcast[6] = { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE };
    size_t n;

    (void)state;
    tu_prime_arp();
    n = tu_icmp(f, TU_PEER_IP, TU_IP, 8, 1, 1, "x", 1);
    memcpy(f, other, 6);
    tu_input(f, n);
    memcpy(f, ipv4_mcast, 6);
    tu_input(f, n);
    memcpy(f, ipv6_mcast, 6);
    tu_input(f, n);
    memcpy(f, almost_bcast, 6);
    tu_input(f, n);
    tu_expect_stats("rx_frames=4 eth_not_us=4");
    assert_int_equal(tu_ntx, 0);
    /* Broadcast gets through to IPv4 (which then ignores a ping to us
     * only when the IP destination says so: here it is ours). */
    memcpy(f, tu_bcast, 6);
    tu_input(f, n);
    memcpy(f, tu_mac, 6);
    tu_input(f, n);
    tu_expect_stats("rx_frames=6 tx_frames=2 icmp_echo=2 eth_not_us=4");
}

static void test_unknown_ethertypes(void **state)
{
    static const uint16_t types[] = { 0x86DD, 0x8100, 0x88CC, 0x0801, 0x0805, 0x0000, 0x05DC, 0xFFFF };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof types / sizeof types[0]; i++) {
        memset(f, 0, 60);
        tu_eth(f, i & 1 ? tu_bcast : tu_mac, tu_peer_mac, types[i]);
        tu_input(f, 60);
    }
    tu_expect_stats("rx_frames=8 eth_type=8");
    assert_int_equal(tu_ntx, 0);
}

static void test_time_is_taken_from_each_call(void **state)
{
    (void)state;
    net_input(&tu_s, f, 0, 1234);
    assert_int_equal(tu_s.now, 1234);
    net_poll(&tu_s, 99999);
    assert_int_equal(tu_s.now, 99999);
    net_input(&tu_s, f, 2000, 5); /* even a frame dropped at once */
    assert_int_equal(tu_s.now, 5);
    tu_expect_stats("rx_frames=2 eth_short=2");
}

static void test_output_pads_to_60_with_zeros(void **state)
{
    static const uint8_t hdr[14] = { 0x02, 0, 0, 0, 0, 0x01, 0x02, 0, 0, 0x12, 0x34, 0x56, 0x12, 0x34 };
    size_t i;

    (void)state;
    memset(tu_s.frame, 0xEE, sizeof tu_s.frame); /* stale bytes of an older frame */
    eth_output(&tu_s, tu_peer_mac, 0x1234, 20);
    assert_int_equal(tu_ntx, 1);
    assert_int_equal(tu_tx[0].len, 60);
    assert_memory_equal(tu_tx[0].d, hdr, 14);
    for (i = 14; i < 20; i++)
        assert_int_equal(tu_tx[0].d[i], 0xEE); /* the caller's bytes */
    for (i = 20; i < 60; i++)
        assert_int_equal(tu_tx[0].d[i], 0);
    /* 59 is padded by one, 60 and 61 are left alone. */
    eth_output(&tu_s, tu_peer_mac, 0x1234, 59);
    assert_int_equal(tu_tx[1].len, 60);
    memset(tu_s.frame, 0xEE, sizeof tu_s.frame);
    eth_output(&tu_s, tu_peer_mac, 0x1234, 60);
    assert_int_equal(tu_tx[2].len, 60);
    assert_int_equal(tu_tx[2].d[59], 0xEE);
    eth_output(&tu_s, tu_peer_mac, 0x1234, 61);
    assert_int_equal(tu_tx[3].len, 61);
    tu_expect_stats("tx_frames=4");
}

static void test_output_null_destination_is_broadcast(void **state)
{
    (void)state;
    eth_output(&tu_s, NULL, ETHTYPE_ARP, 42);
    assert_int_equal(tu_ntx, 1);
    assert_memory_equal(tu_tx[0].d, tu_bcast, 6);
    assert_memory_equal(tu_tx[0].d + 6, tu_mac, 6);
    assert_int_equal(get_be16(tu_tx[0].d + 12), ETHTYPE_ARP);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_init_clears_and_copies, tu_setup),
        cmocka_unit_test_setup(test_short_frames, tu_setup),
        cmocka_unit_test_setup(test_longest_frame_accepted_one_more_dropped, tu_setup),
        cmocka_unit_test_setup(test_destination_filter, tu_setup),
        cmocka_unit_test_setup(test_unknown_ethertypes, tu_setup),
        cmocka_unit_test_setup(test_time_is_taken_from_each_call, tu_setup),
        cmocka_unit_test_setup(test_output_pads_to_60_with_zeros, tu_setup),
        cmocka_unit_test_setup(test_output_null_destination_is_broadcast, tu_setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
