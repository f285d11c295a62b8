/* ARP (arp.c): replies, validation, RFC 826 learning, cache ageing and
 * replacement, resolution with rate-limited requests. */
#include <string.h>

#include "testutil.h"

/* Entry states in the order net.h lists them. */
enum { FREE, PENDING, RESOLVED };

static uint8_t f[TU_BUF];
static const uint8_t mac_a[6] = { 0x02, 0xAA, 0, 0, 0, 0x0A };
static const uint8_t mac_b[6] = { 0x02, 0xBB, 0, 0, 0, 0x0B };
#define HOST_A 0xC0A8070Au /* 192.168.7.10 */
#define HOST_B 0xC0A8070Bu

/* The state of ip's cache entry (FREE when absent); its MAC into mac. */
static int cached(uint32_t ip, uint8_t *mac)
{
    for (int i = 0; i < ARP_CACHE_SIZE; i++)
        if (tu_s.arp[i].state != FREE && tu_s.arp[i].ip == ip) {
            if (mac)
                memcpy(mac, tu_s.arp[i].mac, 6);
            return tu_s.arp[i].state;
        }
    return FREE;
}

/* arp_lookup as the stack calls it: at the time of the current call. */
static const uint8_t *lookup(uint32_t ip)
{
    tu_s.now = tu_now;
    return arp_lookup(&tu_s, ip);
}

static void arp_in(uint16_t op, const uint8_t *sha, uint32_t spa, const uint8_t *tha, uint32_t tpa)
{
    tu_input(f, tu_arp(f, op, sha, spa, tha, tpa));
}

static void test_request_for_us_exact_reply(void **state)
{
    static const uint8_t want[60] = {
        0x02, 0x00, 0x00, 0x00, 0x00, 0x01, /* to the asker */
        0x02, 0x00, 0x00, 0x12, 0x34, 0x56, /* from us */
        0x08, 0x06,                         /* ARP */
        0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x02, /* Ethernet/IPv4, reply */
        0x02, 0x00, 0x00, 0x12, 0x34, 0x56, 192, 168, 7, 2, /* sender: us */
        0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 192, 168, 7, 1, /* target: the asker */
        /* 18 bytes of zero padding to the 60-byte minimum */
    };
    uint8_t mac[6];

    (void)state;
    arp_in(1, tu_peer_mac, TU_PEER_IP, tu_zero_mac, TU_IP);
    assert_int_equal(tu_ntx, 1);
    assert_int_equal(tu_tx[0].len, 60);
    assert_memory_equal(tu_tx[0].d, want, 60);
    tu_expect_stats("rx_frames=1 tx_frames=1 arp_replies=1");
    /* RFC 826: it asked us, so we learned it. */
    assert_int_equal(cached(TU_PEER_IP, mac), RESOLVED);
    assert_memory_equal(mac, tu_peer_mac, 6);
    assert_memory_equal(lookup(TU_PEER_IP), tu_peer_mac, 6);
    assert_int_equal(tu_ntx, 1);
}

static void test_request_with_padding_and_any_target_mac(void **state)
{
    size_t n;

    (void)state;
    n = tu_arp(f, 1, tu_peer_mac, TU_PEER_IP, tu_bcast, TU_IP); /* tha ignored */
    memset(f + n, 0xCC, 60 - n);
    tu_input(f, 60);
    assert_int_equal(tu_ntx, 1);
    assert_int_equal(get_be16(tu_tx[0].d + 20), 2);
    assert_memory_equal(tu_tx[0].d + 32, tu_peer_mac, 6);
    tu_expect_stats("rx_frames=1 tx_frames=1 arp_replies=1");
}

static void test_request_for_other_address_ignored(void **state)
{
    (void)state;
    arp_in(1, mac_a, HOST_A, tu_zero_mac, 0xC0A80703u);
    arp_in(1, mac_a, HOST_A, tu_zero_mac, HOST_A); /* gratuitous ARP */
    arp_in(2, mac_a, HOST_A, tu_peer_mac, TU_PEER_IP); /* broadcast reply to another */
    assert_int_equal(tu_ntx, 0);
    tu_expect_stats("rx_frames=3 arp_other=3");
    /* Not about us: nobody new learned. */
    assert_int_equal(cached(HOST_A, NULL), FREE);
}

static void test_malformed(void **state)
{
    static const uint8_t mcast[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 };
    static const struct {
        size_t off;
        uint8_t val;
    } bad[] = {
        { 15, 6 },    /* htype 6 (IEEE 802) */
        { 14, 1 },    /* htype 0x0101 */
        { 16, 0x86 }, /* ptype 0x8600 */
        { 17, 0x06 }, /* ptype 0x0806 */
        { 18, 8 },    /* hlen 8 */
        { 19, 16 },   /* plen 16 */
        { 21, 0 },    /* op 0 */
        { 21, 3 },    /* op 3 (RARP request) */
        { 20, 1 },    /* op 0x0101 */
    };
    size_t i, n;

    (void)state;
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        n = tu_arp(f, 1, tu_peer_mac, TU_PEER_IP, tu_zero_mac, TU_IP);
        f[bad[i].off] = bad[i].val;
        tu_input(f, n);
    }
    n = tu_arp(f, 1, tu_peer_mac, TU_PEER_IP, tu_zero_mac, TU_IP);
    tu_input(f, n - 1); /* target IP cut short */
    arp_in(1, tu_bcast, TU_PEER_IP, tu_zero_mac, TU_IP);
    arp_in(1, mcast, TU_PEER_IP, tu_zero_mac, TU_IP);
    arp_in(1, tu_zero_mac, TU_PEER_IP, tu_zero_mac, TU_IP);
    arp_in(2, tu_bcast, TU_PEER_IP, tu_mac, TU_IP);
    assert_int_equal(tu_ntx, 0);
    tu_expect_stats("rx_frames=14 arp_bad=14");
    assert_int_equal(cached(TU_PEER_IP, NULL), FREE);
}

static void test_never_learns_impossible_senders(void **state)
{
    static const uint32_t bad_ip[] = { 0xFFFFFFFFu, 0xC0A807FFu, 0xE0000001u, 0xF0000001u,
                                       0x7F000001u, TU_IP };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof bad_ip / sizeof bad_ip[0]; i++)
        arp_in(2, mac_a, bad_ip[i], tu_mac, TU_IP);
    for (i = 0; i < ARP_CACHE_SIZE; i++)
        assert_int_equal(tu_s.arp[i].state, FREE);
    tu_expect_stats("rx_frames=6");
}

static void test_probe_answered_not_learned(void **state)
{
    (void)state;
    /* RFC 5227 probe: sender IP 0. Answer (defend), learn nothing. */
    arp_in(1, mac_a, 0, tu_zero_mac, TU_IP);
    assert_int_equal(tu_ntx, 1);
    assert_memory_equal(tu_tx[0].d, mac_a, 6);
    assert_memory_equal(tu_tx[0].d + 32, mac_a, 6);
    assert_int_equal(get_be32(tu_tx[0].d + 38), 0);
    assert_int_equal(cached(0, NULL), FREE);
    tu_expect_stats("rx_frames=1 tx_frames=1 arp_replies=1");
}

static void test_reply_for_us_learned_silently(void **state)
{
    uint8_t mac[6];

    (void)state;
    arp_in(2, mac_a, HOST_A, tu_mac, TU_IP);
    assert_int_equal(tu_ntx, 0);
    tu_expect_stats("rx_frames=1");
    assert_int_equal(cached(HOST_A, mac), RESOLVED);
    assert_memory_equal(mac, mac_a, 6);
}

static void test_merge_updates_existing_entry_from_any_packet(void **state)
{
    uint8_t mac[6];

    (void)state;
    arp_in(2, mac_a, HOST_A, tu_mac, TU_IP);
    /* HOST_A's NIC changed: its gratuitous ARP (not for us) updates us. */
    tu_now = 500;
    arp_in(1, mac_b, HOST_A, tu_zero_mac, HOST_A);
    assert_int_equal(cached(HOST_A, mac), RESOLVED);
    assert_memory_equal(mac, mac_b, 6);
    tu_expect_stats("rx_frames=2 arp_other=1");
    /* ... and the refresh restarted its lifetime. */
    tu_now = 500 + ARP_TIMEOUT_MS - 1;
    tu_poll();
    assert_int_equal(cached(HOST_A, NULL), RESOLVED);
}

static void test_ageing(void **state)
{
    (void)state;
    tu_now = 1000;
    arp_in(2, mac_a, HOST_A, tu_mac, TU_IP);
    tu_now = 1000 + ARP_TIMEOUT_MS - 1;
    tu_poll();
    assert_int_equal(cached(HOST_A, NULL), RESOLVED);
    tu_now = 1000 + ARP_TIMEOUT_MS;
    tu_poll();
    assert_int_equal(cached(HOST_A, NULL), FREE);
    /* Gone: using it asks again. */
    assert_null(lookup(HOST_A));
    assert_int_equal(tu_ntx, 1);
    tu_expect_stats("rx_frames=1 tx_frames=1 arp_requests=1");
}

static void test_ageing_across_clock_wrap(void **state)
{
    (void)state;
    tu_now = 0xFFFFFFFFu - 100;
    arp_in(2, mac_a, HOST_A, tu_mac, TU_IP);
    tu_now = 1000; /* wrapped, about 1.1 s later */
    tu_poll();
    assert_int_equal(cached(HOST_A, NULL), RESOLVED);
    tu_now = 0xFFFFFFFFu - 100 + ARP_TIMEOUT_MS;
    tu_poll();
    assert_int_equal(cached(HOST_A, NULL), FREE);
}

static void test_replacement_of_oldest(void **state)
{
    uint8_t mac[6];
    uint32_t ip;

    (void)state;
    /* Fill the cache, each entry learned 10 ms after the one before, the
     * first one refreshed last. */
    for (ip = 0; ip < ARP_CACHE_SIZE; ip++) {
        uint8_t m[6] = { 0x02, 0, 0, 0, 1, (uint8_t)ip };

        tu_now = 10 * ip;
        arp_in(2, m, HOST_A + ip, tu_mac, TU_IP);
    }
    tu_now = 1000;
    {
        uint8_t m[6] = { 0x02, 0, 0, 0, 1, 0 };
        arp_in(2, m, HOST_A, tu_mac, TU_IP);
    }
    for (ip = 0; ip < ARP_CACHE_SIZE; ip++)
        assert_int_equal(cached(HOST_A + ip, NULL), RESOLVED);
    /* One more: the entry learned longest ago goes (the second one when
     * there are several, else the only one). */
    tu_now = 2000;
    arp_in(2, mac_b, 0xC0A80764u, tu_mac, TU_IP);
    assert_int_equal(cached(0xC0A80764u, mac), RESOLVED);
    assert_memory_equal(mac, mac_b, 6);
    if (ARP_CACHE_SIZE > 1) {
        assert_int_equal(cached(HOST_A + 1, NULL), FREE);
        assert_int_equal(cached(HOST_A, NULL), RESOLVED);
        for (ip = 2; ip < ARP_CACHE_SIZE; ip++)
            assert_int_equal(cached(HOST_A + ip, NULL), RESOLVED);
    }
    assert_int_equal(tu_ntx, 0);
}

static void test_free_entry_preferred_to_replacement(void **state)
{
    (void)state;
    if (ARP_CACHE_SIZE < 2)
        skip();
    tu_now = 0;
    arp_in(2, mac_a, HOST_A, tu_mac, TU_IP);
    tu_now = 100;
    arp_in(2, mac_b, HOST_B, tu_mac, TU_IP);
    assert_int_equal(cached(HOST_A, NULL), RESOLVED);
    assert_int_equal(cached(HOST_B, NULL), RESOLVED);
}

static void test_lookup_sends_one_request_then_rate_limits(void **state)
{
    static const uint8_t want[60] = {
        0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, /* broadcast */
        0x02, 0x00, 0x00, 0x12, 0x34, 0x56, 0x08, 0x06,
        0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, /* request */
        0x02, 0x00, 0x00, 0x12, 0x34, 0x56, 192, 168, 7, 2,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 192, 168, 7, 10,
    };

    (void)state;
    tu_now = 5000;
    assert_null(lookup(HOST_A));
    assert_int_equal(tu_ntx, 1);
    assert_int_equal(tu_tx[0].len, 60);
    assert_memory_equal(tu_tx[0].d, want, 60);
    assert_int_equal(cached(HOST_A, NULL), PENDING);
    /* Asked again and again within ARP_RETRY_MS: no more requests. */
    tu_now = 5000 + ARP_RETRY_MS / 2;
    assert_null(lookup(HOST_A));
    tu_now = 5000 + ARP_RETRY_MS - 1;
    assert_null(lookup(HOST_A));
    assert_int_equal(tu_ntx, 1);
    tu_expect_stats("tx_frames=1 arp_requests=1");
    /* Then one more. */
    tu_now = 5000 + ARP_RETRY_MS;
    assert_null(lookup(HOST_A));
    assert_null(lookup(HOST_A));
    assert_int_equal(tu_ntx, 2);
    assert_memory_equal(tu_tx[1].d, want, 60);
    tu_expect_stats("tx_frames=2 arp_requests=2");
    /* Another address has its own budget. */
    assert_null(lookup(HOST_B));
    assert_int_equal(tu_ntx, 3);
    assert_int_equal(get_be32(tu_tx[2].d + 38), HOST_B);
    /* The reply resolves it: no further requests, the MAC at once. */
    arp_in(2, mac_a, HOST_A, tu_mac, TU_IP);
    assert_memory_equal(lookup(HOST_A), mac_a, 6);
    assert_int_equal(tu_ntx, 3);
    tu_expect_stats("rx_frames=1 tx_frames=3 arp_requests=3");
}

static void test_pending_resolved_by_broadcast_reply(void **state)
{
    (void)state;
    assert_null(lookup(HOST_A));
    /* A reply for someone else still carries HOST_A's mapping, and we
     * have an entry for it: merged. */
    arp_in(2, mac_a, HOST_A, tu_peer_mac, TU_PEER_IP);
    assert_int_equal(cached(HOST_A, NULL), RESOLVED);
    assert_memory_equal(lookup(HOST_A), mac_a, 6);
    tu_expect_stats("rx_frames=1 tx_frames=1 arp_requests=1 arp_other=1");
}

static void test_pending_entry_ages_out(void **state)
{
    (void)state;
    assert_null(lookup(HOST_A));
    tu_now = ARP_TIMEOUT_MS;
    tu_poll();
    assert_int_equal(cached(HOST_A, NULL), FREE);
}

static void test_learns_from_ipv4_of_on_link_hosts(void **state)
{
    struct tu_ip_info ip;
    uint8_t mac[6];
    size_t n;

    (void)state;
    /* A ping from an on-link host we never ARPed: answered directly. */
    n = tu_icmp(f, HOST_A, TU_IP, 8, 7, 1, "hi", 2);
    memcpy(f + 6, mac_a, 6);
    tu_input(f, n);
    assert_int_equal(tu_ntx, 1);
    tu_get_ip(0, &ip);
    assert_memory_equal(ip.eth_dst, mac_a, 6);
    assert_int_equal(ip.dst, HOST_A);
    assert_int_equal(cached(HOST_A, mac), RESOLVED);
    tu_expect_stats("rx_frames=1 tx_frames=1 icmp_echo=1");
    /* Off-link sources are the router's MAC: not learned. */
    tu_s.cfg.gateway = 0xC0A807FEu;
    n = tu_icmp(f, 0x0A000001u, TU_IP, 8, 7, 1, "hi", 2);
    memcpy(f + 6, mac_b, 6);
    tu_input(f, n);
    assert_int_equal(cached(0x0A000001u, NULL), FREE);
    /* A group source MAC is never learned. */
    n = tu_icmp(f, HOST_B, TU_IP, 8, 7, 1, "hi", 2);
    f[6] = 0x01;
    tu_input(f, n);
    assert_int_equal(cached(HOST_B, NULL), PENDING); /* we asked, to reply */
}

static size_t app_recv(struct net_stack *s, int id, const uint8_t *d, size_t n)
{
    (void)s, (void)id, (void)d;
    return n;
}
static void app_event(struct net_stack *s, int id, enum tcp_event ev) { (void)s, (void)id, (void)ev; }
static const struct tcp_app app = { app_recv, app_event, NULL };

static void test_resolution_lets_tcp_resend_at_once(void **state)
{
    struct tu_tcp_info t;
    int id;

    (void)state;
    /* Active open to an unresolved neighbour: the SYN is dropped, ARP asks. */
    tu_now = 100;
    tu_s.now = tu_now;
    id = tcp_connect(&tu_s, HOST_A, 80, &app);
    assert_true(id >= 0);
    assert_int_equal(tu_ntx, 1);
    assert_int_equal(get_be16(tu_tx[0].d + 12), ETHTYPE_ARP);
    assert_int_equal(tu_s.stats.arp_unresolved, 1);
    /* The reply comes 2 ms later: the SYN goes out now, not at its RTO. */
    tu_now = 102;
    arp_in(2, mac_a, HOST_A, tu_mac, TU_IP);
    assert_int_equal(tu_ntx, 2);
    tu_get_tcp(1, &t);
    assert_memory_equal(t.ip.eth_dst, mac_a, 6);
    assert_int_equal(t.ip.dst, HOST_A);
    assert_int_equal(t.dport, 80);
    assert_int_equal(t.flags, TU_SYN);
}

static void test_resolution_by_ipv4_lets_tcp_resend(void **state)
{
    struct tu_tcp_info t;
    size_t n;

    (void)state;
    assert_true(tcp_connect(&tu_s, HOST_A, 80, &app) >= 0);
    assert_int_equal(tu_ntx, 1); /* ARP request */
    /* Before any ARP reply, HOST_A pings us: that resolves it too. */
    n = tu_icmp(f, HOST_A, TU_IP, 8, 1, 1, "x", 1);
    memcpy(f + 6, mac_a, 6);
    tu_input(f, n);
    assert_int_equal(tu_ntx, 3); /* SYN, then the echo reply */
    tu_get_tcp(1, &t);
    assert_int_equal(t.flags, TU_SYN);
    assert_memory_equal(t.ip.eth_dst, mac_a, 6);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_request_for_us_exact_reply, tu_setup),
        cmocka_unit_test_setup(test_request_with_padding_and_any_target_mac, tu_setup),
        cmocka_unit_test_setup(test_request_for_other_address_ignored, tu_setup),
        cmocka_unit_test_setup(test_malformed, tu_setup),
        cmocka_unit_test_setup(test_never_learns_impossible_senders, tu_setup),
        cmocka_unit_test_setup(test_probe_answered_not_learned, tu_setup),
        cmocka_unit_test_setup(test_reply_for_us_learned_silently, tu_setup),
        cmocka_unit_test_setup(test_merge_updates_existing_entry_from_any_packet, tu_setup),
        cmocka_unit_test_setup(test_ageing, tu_setup),
        cmocka_unit_test_setup(test_ageing_across_clock_wrap, tu_setup),
        cmocka_unit_test_setup(test_replacement_of_oldest, tu_setup),
        cmocka_unit_test_setup(test_free_entry_preferred_to_replacement, tu_setup),
        cmocka_unit_test_setup(test_lookup_sends_one_request_then_rate_limits, tu_setup),
        cmocka_unit_test_setup(test_pending_resolved_by_broadcast_reply, tu_setup),
        cmocka_unit_test_setup(test_pending_entry_ages_out, tu_setup),
        cmocka_unit_test_setup(test_learns_from_ipv4_of_on_link_hosts, tu_setup),
        cmocka_unit_test_setup(test_resolution_lets_tcp_resend_at_once, tu_setup),
        cmocka_unit_test_setup(test_resolution_by_ipv4_lets_tcp_resend, tu_setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
