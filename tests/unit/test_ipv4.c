/* IPv4 input checks and output routing (ipv4.c). An ICMP echo request is
 * the probe: answered means accepted. */
#include <string.h>

#include "testutil.h"

static uint8_t f[TU_BUF];
static uint8_t echo[16] = { 8, 0, 0, 0, 0x12, 0x34, 0, 1, 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h' };
#define GW 0xC0A807FEu    /* 192.168.7.254 */
#define FAR 0x08080808u   /* 8.8.8.8 */
static const uint8_t gw_mac[6] = { 0x02, 0, 0, 0, 0, 0xFE };

static int setup(void **state)
{
    tu_setup_peer(state);
    put_be16(echo + 2, 0);
    put_be16(echo + 2, tu_csum(echo, sizeof echo));
    return 0;
}

/* Echo request datagram per h (proto ICMP implied). */
static size_t ping(struct tu_ip *h)
{
    h->proto = IP_PROTO_ICMP;
    if (!h->src)
        h->src = TU_PEER_IP;
    if (!h->dst)
        h->dst = TU_IP;
    return tu_ipv4(f, h, echo, sizeof echo);
}

static void test_plain_ping_answered(void **state)
{
    struct tu_ip h = { 0 };

    (void)state;
    tu_input(f, ping(&h));
    assert_int_equal(tu_ntx, 1);
    tu_expect_stats("rx_frames=1 tx_frames=1 icmp_echo=1");
}

static void test_bad_version(void **state)
{
    static const uint8_t v[] = { 0x65, 0x05, 0x35, 0xF5 };
    struct tu_ip h = { 0 };

    (void)state;
    for (size_t i = 0; i < sizeof v; i++) {
        h.version_ihl = v[i];
        tu_input(f, ping(&h));
    }
    assert_int_equal(tu_ntx, 0);
    tu_expect_stats("rx_frames=4 ip_bad_hdr=4");
}

static void test_ihl_below_5(void **state)
{
    struct tu_ip h = { 0 };

    (void)state;
    for (uint8_t ihl = 0; ihl < 5; ihl++) {
        h.version_ihl = (uint8_t)(0x40 | ihl);
        tu_input(f, ping(&h));
    }
    tu_expect_stats("rx_frames=5 ip_bad_hdr=5");
}

static void test_ihl_past_total_length_and_frame(void **state)
{
    struct tu_ip h = { 0 };
    size_t n;

    (void)state;
    /* IHL 15 = 60 bytes, but the datagram is 36 long. */
    h.version_ihl = 0x4F;
    tu_input(f, ping(&h));
    /* Total length shorter than the header. */
    h.version_ihl = 0;
    h.total_len = 19;
    tu_input(f, ping(&h));
    h.total_len = 0;
    /* Total length past the end of the frame, by one. */
    n = ping(&h);
    put_be16(f + ETH_HLEN + 2, (uint16_t)(n - ETH_HLEN + 1));
    tu_ip_fix_csum(f);
    tu_input(f, n);
    /* A frame too short for an IPv4 header. */
    tu_input(f, ETH_HLEN + IP_HLEN - 1);
    assert_int_equal(tu_ntx, 0);
    tu_expect_stats("rx_frames=4 ip_bad_hdr=4");
}

static void test_ethernet_padding_trimmed(void **state)
{
    struct tu_ip_info ip;
    struct tu_ip h = { 0 };
    size_t n;

    (void)state;
    n = ping(&h); /* 14 + 20 + 16 = 50 */
    memset(f + n, 0xAB, 60 - n); /* padding, as a switch or QEMU adds */
    tu_input(f, 60);
    assert_int_equal(tu_ntx, 1);
    tu_get_ip(0, &ip);
    assert_int_equal(ip.plen, sizeof echo); /* the padding is not echoed */
    tu_expect_stats("rx_frames=1 tx_frames=1 icmp_echo=1");
}

static void test_bad_header_checksum(void **state)
{
    struct tu_ip h = { .bad_csum = 1 };
    size_t n;

    (void)state;
    tu_input(f, ping(&h));
    /* A flipped bit anywhere in the header. */
    h.bad_csum = 0;
    n = ping(&h);
    f[ETH_HLEN + 8] ^= 0x01; /* TTL */
    tu_input(f, n);
    assert_int_equal(tu_ntx, 0);
    tu_expect_stats("rx_frames=2 ip_bad_csum=2");
}

static void test_fragments_dropped(void **state)
{
    static const uint16_t frag[] = { 0x2000, 0x0001, 0x2001, 0x1FFF, 0x6000, 0x4001 };
    struct tu_ip h = { 0 };

    (void)state;
    for (size_t i = 0; i < sizeof frag / sizeof frag[0]; i++) {
        h.frag = frag[i];
        tu_input(f, ping(&h));
    }
    assert_int_equal(tu_ntx, 0);
    tu_expect_stats("rx_frames=6 ip_frag=6");
    /* DF alone, or the reserved bit alone, is a whole datagram. */
    h.frag = 0x4000;
    tu_input(f, ping(&h));
    h.frag = 0x8000;
    tu_input(f, ping(&h));
    assert_int_equal(tu_ntx, 2);
    tu_expect_stats("rx_frames=8 tx_frames=2 icmp_echo=2 ip_frag=6");
}

static void test_options_skipped_echo_answered(void **state)
{
    /* Record route with room for two addresses, NOP, EOL: 12 bytes. */
    static const uint8_t rr[12] = { 7, 11, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
    static const uint8_t ra[4] = { 148, 4, 0, 0 }; /* router alert */
    struct tu_ip_info ip;
    struct tu_ip h = { .opt = rr, .optlen = sizeof rr, .id = 0x7777 };

    (void)state;
    tu_input(f, ping(&h));
    h.opt = ra;
    h.optlen = sizeof ra;
    tu_input(f, ping(&h));
    assert_int_equal(tu_ntx, 2);
    for (unsigned i = 0; i < 2; i++) {
        tu_get_ip(i, &ip); /* checks IHL 5: options not echoed */
        assert_int_equal(ip.plen, sizeof echo);
        assert_int_equal(ip.payload[0], 0);
        assert_memory_equal(ip.payload + 4, echo + 4, sizeof echo - 4);
    }
    tu_expect_stats("rx_frames=2 tx_frames=2 icmp_echo=2");
}

static void test_not_for_us(void **state)
{
    static const uint32_t dst[] = { 0xC0A80703u, 0xFFFFFFFFu, 0xC0A807FFu, 0xE0000001u, 0x0A000002u };
    struct tu_ip h = { 0 };

    (void)state;
    for (size_t i = 0; i < sizeof dst / sizeof dst[0]; i++) {
        h.dst = dst[i];
        tu_input(f, ping(&h));
    }
    assert_int_equal(tu_ntx, 0);
    tu_expect_stats("rx_frames=5 ip_not_us=5");
}

static void test_bad_sources(void **state)
{
    static const uint32_t src[] = { 0xFFFFFFFFu, 0xC0A807FFu, 0xE0000001u, 0xEFFFFFFFu,
                                    0xF0000001u, 0x7F000001u, 0x7FFFFFFFu, TU_IP };
    struct tu_ip h = { 0 };

    (void)state;
    /* 0 is the builder's "default", so build 0.0.0.0 by hand. */
    ping(&h);
    put_be32(f + ETH_HLEN + 12, 0);
    tu_ip_fix_csum(f);
    tu_input(f, ETH_HLEN + IP_HLEN + sizeof echo);
    for (size_t i = 0; i < sizeof src / sizeof src[0]; i++) {
        h.src = src[i];
        tu_input(f, ping(&h));
    }
    assert_int_equal(tu_ntx, 0);
    tu_expect_stats("rx_frames=9 ip_bad_src=9");
    /* The network address and other hosts off our subnet are fine. */
    h.src = 0xC0A80700u;
    tu_input(f, ping(&h));
    assert_int_equal(tu_ntx, 1);
}

static void test_unknown_protocol(void **state)
{
    (void)state;
    tu_input(f, tu_ipv4_simple(f, TU_PEER_IP, TU_IP, 17, "udp!", 4));
    tu_input(f, tu_ipv4_simple(f, TU_PEER_IP, TU_IP, 2, "igmp", 4));
    tu_input(f, tu_ipv4_simple(f, TU_PEER_IP, TU_IP, 41, NULL, 0));
    assert_int_equal(tu_ntx, 0);
    tu_expect_stats("rx_frames=3 ip_proto=3");
}

static void test_one_reason_per_drop(void **state)
{
    struct tu_ip h = { 0 };
    size_t n;

    (void)state;
    /* Version 6 with a bad checksum, a fragment, to someone else from a
     * broadcast address: counted as the first failed check only. */
    h.version_ihl = 0x65;
    h.bad_csum = 1;
    h.frag = 0x2000;
    h.dst = 0xC0A80703u;
    h.src = 0xFFFFFFFFu;
    tu_input(f, ping(&h));
    h.version_ihl = 0;
    tu_input(f, ping(&h)); /* now the checksum is first */
    h.bad_csum = 0;
    tu_input(f, ping(&h)); /* then the fragment */
    h.frag = 0;
    tu_input(f, ping(&h)); /* then the destination */
    h.dst = TU_IP;
    tu_input(f, ping(&h)); /* then the source */
    n = tu_ipv4_simple(f, 0xFFFFFFFFu, TU_IP, 17, "x", 1);
    tu_input(f, n); /* bad source before protocol */
    tu_expect_stats("rx_frames=6 ip_bad_hdr=1 ip_bad_csum=1 ip_frag=1 ip_not_us=1 ip_bad_src=2");
}

static void test_output_header(void **state)
{
    struct tu_ip_info ip;
    uint8_t *p = tu_s.frame + NET_IP_PAYLOAD;

    (void)state;
    memcpy(p, "payload!", 8);
    tu_s.ip_id = 0xFFFF;
    assert_int_equal(ipv4_output(&tu_s, TU_PEER_IP, 99, 8), 0);
    assert_int_equal(ipv4_output(&tu_s, TU_PEER_IP, 99, 8), 0);
    assert_int_equal(tu_ntx, 2);
    tu_get_ip(0, &ip); /* version, IHL, DF, TTL, checksum, padding */
    assert_memory_equal(ip.eth_dst, tu_peer_mac, 6);
    assert_int_equal(ip.src, TU_IP);
    assert_int_equal(ip.dst, TU_PEER_IP);
    assert_int_equal(ip.proto, 99);
    assert_int_equal(ip.plen, 8);
    assert_memory_equal(ip.payload, "payload!", 8);
    assert_int_equal(ip.id, 0xFFFF);
    assert_int_equal(tu_tx[0].d[ETH_HLEN + 1], 0); /* TOS */
    tu_get_ip(1, &ip);
    assert_int_equal(ip.id, 0); /* incremented, wrapping */
    tu_expect_stats("tx_frames=2");
}

static void test_output_off_subnet_without_gateway(void **state)
{
    (void)state;
    assert_int_equal(ipv4_output(&tu_s, FAR, IP_PROTO_ICMP, 8), -1);
    assert_int_equal(tu_ntx, 0);
    tu_expect_stats("ip_no_route=1");
    /* A ping from afar (through some router's MAC) cannot be answered. */
    tu_input(f, tu_icmp(f, FAR, TU_IP, 8, 1, 1, "far", 3));
    assert_int_equal(tu_ntx, 0);
    tu_expect_stats("rx_frames=1 ip_no_route=2");
}

static void test_output_off_subnet_through_gateway(void **state)
{
    struct tu_ip_info ip;

    (void)state;
    tu_s.cfg.gateway = GW;
    /* Gateway unknown: ARP for the gateway, not for the destination. */
    assert_int_equal(ipv4_output(&tu_s, FAR, IP_PROTO_ICMP, 8), -1);
    assert_int_equal(tu_ntx, 1);
    assert_int_equal(get_be16(tu_tx[0].d + 12), ETHTYPE_ARP);
    assert_int_equal(get_be32(tu_tx[0].d + 38), GW);
    tu_expect_stats("tx_frames=1 arp_requests=1 arp_unresolved=1");
    tu_prime_arp_for(GW, gw_mac);
    tu_tx_clear();
    /* Resolved: to the gateway's MAC, IP destination unchanged. */
    tu_input(f, tu_icmp(f, FAR, TU_IP, 8, 1, 1, "far", 3));
    assert_int_equal(tu_ntx, 1);
    tu_get_ip(0, &ip);
    assert_memory_equal(ip.eth_dst, gw_mac, 6);
    assert_int_equal(ip.dst, FAR);
    /* On-link destinations still go direct. */
    tu_input(f, tu_icmp(f, TU_PEER_IP, TU_IP, 8, 1, 1, "near", 4));
    assert_int_equal(tu_ntx, 2);
    tu_get_ip(1, &ip);
    assert_memory_equal(ip.eth_dst, tu_peer_mac, 6);
    tu_expect_stats("rx_frames=2 tx_frames=3 arp_requests=1 arp_unresolved=1 icmp_echo=2");
}

static void test_output_on_link_unresolved(void **state)
{
    (void)state;
    assert_int_equal(ipv4_output(&tu_s, 0xC0A80709u, IP_PROTO_TCP, 20), -1);
    assert_int_equal(ipv4_output(&tu_s, 0xC0A80709u, IP_PROTO_TCP, 20), -1);
    assert_int_equal(tu_ntx, 1); /* one request, rate-limited */
    assert_int_equal(get_be32(tu_tx[0].d + 38), 0xC0A80709u);
    tu_expect_stats("tx_frames=1 arp_requests=1 arp_unresolved=2");
}

static void test_tcp_dispatch_skips_ip_options(void **state)
{
    static const uint8_t nops[8] = { 1, 1, 1, 1, 1, 1, 1, 0 };
    static const uint8_t mss[4] = { 2, 4, 0x05, 0xB4 };
    struct tu_tcp seg = { .sport = 40000, .dport = 9, .seq = 1000, .flags = TU_SYN, .wnd = 512,
                          .opt = mss, .optlen = sizeof mss };
    struct tu_ip h = { .src = TU_PEER_IP, .dst = TU_IP, .proto = IP_PROTO_TCP, .opt = nops,
                       .optlen = sizeof nops };
    struct tu_tcp_info t;
    uint8_t g[TU_BUF];
    size_t n;

    (void)state;
    /* A SYN to a port nobody listens on, behind 8 bytes of IP options:
     * TCP must see the segment itself, and answers with RST/ACK. */
    n = tu_tcp(g, &seg) - NET_IP_PAYLOAD;
    tu_input(f, tu_ipv4(f, &h, g + NET_IP_PAYLOAD, n));
    assert_int_equal(tu_ntx, 1);
    tu_get_tcp(0, &t);
    assert_int_equal(t.sport, 9);
    assert_int_equal(t.dport, 40000);
    assert_int_equal(t.flags, TU_RST | TU_ACK);
    assert_int_equal(t.ack, 1001);
    assert_int_equal(t.ip.dst, TU_PEER_IP);
    /* With a bad TCP checksum it is TCP's to drop, not IP's. */
    seg.bad_csum = 1;
    tu_input(f, tu_tcp(f, &seg));
    assert_int_equal(tu_ntx, 1);
    assert_int_equal(tu_s.stats.tcp_bad_csum, 1);
    assert_int_equal(tu_s.stats.ip_bad_csum, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_plain_ping_answered, setup),
        cmocka_unit_test_setup(test_bad_version, setup),
        cmocka_unit_test_setup(test_ihl_below_5, setup),
        cmocka_unit_test_setup(test_ihl_past_total_length_and_frame, setup),
        cmocka_unit_test_setup(test_ethernet_padding_trimmed, setup),
        cmocka_unit_test_setup(test_bad_header_checksum, setup),
        cmocka_unit_test_setup(test_fragments_dropped, setup),
        cmocka_unit_test_setup(test_options_skipped_echo_answered, setup),
        cmocka_unit_test_setup(test_not_for_us, setup),
        cmocka_unit_test_setup(test_bad_sources, setup),
        cmocka_unit_test_setup(test_unknown_protocol, setup),
        cmocka_unit_test_setup(test_one_reason_per_drop, setup),
        cmocka_unit_test_setup(test_output_header, setup),
        cmocka_unit_test_setup(test_output_off_subnet_without_gateway, setup),
        cmocka_unit_test_setup(test_output_off_subnet_through_gateway, setup),
        cmocka_unit_test_setup(test_output_on_link_unresolved, setup),
        cmocka_unit_test_setup(test_tcp_dispatch_skips_ip_options, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
