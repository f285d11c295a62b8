#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const uint8_t tu_mac[6] = { 0x02, 0x00, 0x00, 0x12, 0x34, 0x56 };
const uint8_t tu_peer_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
const uint8_t tu_bcast[6] = { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF };
const uint8_t tu_zero_mac[6] = { 0 };

struct net_stack tu_s;
uint32_t tu_now;
int tu_keep_arp;
struct tu_frame tu_tx[TU_MAX_TX];
unsigned tu_ntx;

static void tu_tx_cb(void *ctx, const uint8_t *frame, size_t len)
{
    assert_ptr_equal(ctx, &tu_s);
    assert_true(len >= 60 && len <= NET_FRAME_MAX);
    if (tu_ntx < TU_MAX_TX) {
        tu_tx[tu_ntx].len = len;
        memcpy(tu_tx[tu_ntx].d, frame, len);
    }
    tu_ntx++;
}

void tu_tx_clear(void)
{
    tu_ntx = 0;
    memset(tu_tx, 0, sizeof tu_tx);
}

void tu_reset(void)
{
    struct net_config cfg = { .ip = TU_IP, .netmask = TU_NETMASK, .gateway = 0 };

    memcpy(cfg.mac, tu_mac, 6);
    /* Garbage first: net_init must clear everything itself. */
    memset(&tu_s, 0xA5, sizeof tu_s);
    tu_now = 0;
    tu_keep_arp = 0;
    net_init(&tu_s, &cfg, tu_tx_cb, &tu_s);
    tu_tx_clear();
}

int tu_setup(void **state)
{
    (void)state;
    tu_reset();
    return 0;
}

int tu_setup_peer(void **state)
{
    (void)state;
    tu_reset();
    tu_prime_arp();
    tu_keep_arp = 1;
    return 0;
}

void tu_prime_arp_for(uint32_t ip, const uint8_t mac[6])
{
    uint8_t f[TU_BUF];
    size_t n = tu_arp(f, 2, mac, ip, tu_mac, TU_IP);

    tu_s.now = tu_now;
    arp_input(&tu_s, f, n); /* below net_input: rx_frames stays as it is */
}

void tu_prime_arp(void) { tu_prime_arp_for(TU_PEER_IP, tu_peer_mac); }

void tu_input(const uint8_t *frame, size_t len) { net_input(&tu_s, frame, len, tu_now); }

void tu_poll(void)
{
    if (tu_keep_arp)
        tu_prime_arp();
    net_poll(&tu_s, tu_now);
}

void tu_advance(uint32_t ms)
{
    while (ms != 0) {
        uint32_t step = ms < TCP_TICK_MS ? ms : TCP_TICK_MS;
        tu_now += step;
        ms -= step;
        tu_poll();
    }
}

/* ---- Builders ---- */

size_t tu_eth(uint8_t *f, const uint8_t dst[6], const uint8_t src[6], uint16_t type)
{
    memcpy(f, dst, 6);
    memcpy(f + 6, src, 6);
    put_be16(f + 12, type);
    return ETH_HLEN;
}

size_t tu_arp(uint8_t *f, uint16_t op, const uint8_t sha[6], uint32_t spa, const uint8_t tha[6],
              uint32_t tpa)
{
    uint8_t *a = f + tu_eth(f, op == 1 ? tu_bcast : tu_mac, sha, ETHTYPE_ARP);

    put_be16(a, 1);
    put_be16(a + 2, ETHTYPE_IPV4);
    a[4] = 6;
    a[5] = 4;
    put_be16(a + 6, op);
    memcpy(a + 8, sha, 6);
    put_be32(a + 14, spa);
    memcpy(a + 18, tha, 6);
    put_be32(a + 24, tpa);
    return ETH_HLEN + 28;
}

uint16_t tu_csum(const void *p, size_t len) { return net_csum_fold(net_csum_add(0, p, len)); }

uint16_t tu_tcp_csum(uint32_t src, uint32_t dst, const uint8_t *seg, size_t len)
{
    return net_csum_fold(net_csum_add(net_csum_pseudo(src, dst, IP_PROTO_TCP, (uint16_t)len), seg, len));
}

void tu_ip_fix_csum(uint8_t *f)
{
    uint8_t *ip = f + ETH_HLEN;
    size_t hl = (size_t)(ip[0] & 15) * 4;

    put_be16(ip + 10, 0);
    put_be16(ip + 10, tu_csum(ip, hl));
}

size_t tu_ipv4(uint8_t *f, const struct tu_ip *h, const void *payload, size_t plen)
{
    uint8_t *ip = f + tu_eth(f, tu_mac, tu_peer_mac, ETHTYPE_IPV4);
    size_t optpad = (h->optlen + 3) & ~(size_t)3, hl = IP_HLEN + optpad;

    assert_true(optpad <= 40 && ETH_HLEN + hl + plen <= TU_BUF);
    memset(ip, 0, hl);
    ip[0] = h->version_ihl ? h->version_ihl : (uint8_t)(0x40 | hl / 4);
    ip[1] = h->tos;
    put_be16(ip + 2, h->total_len ? h->total_len : (uint16_t)(hl + plen));
    put_be16(ip + 4, h->id);
    put_be16(ip + 6, h->frag);
    ip[8] = h->ttl ? h->ttl : 64;
    ip[9] = h->proto;
    put_be32(ip + 12, h->src);
    put_be32(ip + 16, h->dst);
    if (h->optlen)
        memcpy(ip + IP_HLEN, h->opt, h->optlen);
    /* The checksum covers the header as built (hl), even when version_ihl
     * claims another length. */
    put_be16(ip + 10, (uint16_t)(tu_csum(ip, hl) + (h->bad_csum ? 1 : 0)));
    if (plen)
        memcpy(ip + hl, payload, plen);
    return ETH_HLEN + hl + plen;
}

size_t tu_ipv4_simple(uint8_t *f, uint32_t src, uint32_t dst, uint8_t proto, const void *payload,
                      size_t plen)
{
    struct tu_ip h = { .src = src, .dst = dst, .proto = proto };

    return tu_ipv4(f, &h, payload, plen);
}

size_t tu_icmp(uint8_t *f, uint32_t src, uint32_t dst, uint8_t type, uint16_t id, uint16_t seq,
               const void *data, size_t len)
{
    uint8_t m[TU_BUF];

    assert_true(8 + len <= sizeof m);
    m[0] = type;
    m[1] = 0;
    put_be16(m + 2, 0);
    put_be16(m + 4, id);
    put_be16(m + 6, seq);
    if (len)
        memcpy(m + 8, data, len);
    put_be16(m + 2, tu_csum(m, 8 + len));
    return tu_ipv4_simple(f, src, dst, IP_PROTO_ICMP, m, 8 + len);
}

size_t tu_tcp(uint8_t *f, const struct tu_tcp *t)
{
    uint8_t g[TU_BUF];
    uint32_t src = t->src ? t->src : TU_PEER_IP, dst = t->dst ? t->dst : TU_IP;
    size_t off = TCP_HLEN + ((t->optlen + 3) & ~(size_t)3), n = off + t->len;

    assert_true(off <= 60 && n <= sizeof g);
    memset(g, 0, off);
    put_be16(g, t->sport);
    put_be16(g + 2, t->dport);
    put_be32(g + 4, t->seq);
    put_be32(g + 8, t->ack);
    g[12] = (uint8_t)(off / 4 << 4);
    g[13] = t->flags;
    put_be16(g + 14, t->wnd);
    put_be16(g + 18, t->urg);
    if (t->optlen)
        memcpy(g + TCP_HLEN, t->opt, t->optlen);
    if (t->len)
        memcpy(g + off, t->data, t->len);
    put_be16(g + 16, (uint16_t)(tu_tcp_csum(src, dst, g, n) + (t->bad_csum ? 1 : 0)));
    return tu_ipv4_simple(f, src, dst, IP_PROTO_TCP, g, n);
}

size_t tu_tcp_seg(uint8_t *f, uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack,
                  uint8_t flags, uint16_t wnd, const void *data, size_t len)
{
    struct tu_tcp t = { .sport = sport, .dport = dport, .seq = seq, .ack = ack, .flags = flags,
                        .wnd = wnd, .data = data, .len = len };

    return tu_tcp(f, &t);
}

void tu_send_tcp(const struct tu_tcp *t)
{
    static uint8_t f[TU_BUF];

    tu_input(f, tu_tcp(f, t));
}

/* ---- Parsers ---- */

const uint8_t *tu_txf(unsigned i)
{
    if (i >= tu_ntx || i >= TU_MAX_TX)
        fail_msg("frame %u asked, %u sent (%u kept)", i, tu_ntx, TU_MAX_TX);
    return tu_tx[i].d;
}

void tu_get_ip(unsigned i, struct tu_ip_info *r)
{
    const uint8_t *f = tu_txf(i), *ip = f + ETH_HLEN;
    size_t len = tu_tx[i].len, tl, k;

    assert_memory_equal(f + 6, tu_mac, 6);
    assert_int_equal(get_be16(f + 12), ETHTYPE_IPV4);
    assert_true(len >= ETH_HLEN + IP_HLEN);
    assert_int_equal(ip[0], 0x45);
    tl = get_be16(ip + 2);
    assert_true(tl >= IP_HLEN && ETH_HLEN + tl <= len);
    /* Only the minimum-length padding may follow, and it is zero. */
    if (len > 60)
        assert_int_equal(ETH_HLEN + tl, len);
    for (k = ETH_HLEN + tl; k < len; k++)
        assert_int_equal(f[k], 0);
    assert_int_equal(get_be16(ip + 6), 0x4000); /* DF, no fragment */
    assert_int_equal(ip[8], 64);
    assert_int_equal(tu_csum(ip, IP_HLEN), 0);
    r->eth_dst = f;
    r->id = get_be16(ip + 4);
    r->proto = ip[9];
    r->src = get_be32(ip + 12);
    r->dst = get_be32(ip + 16);
    r->payload = ip + IP_HLEN;
    r->plen = tl - IP_HLEN;
}

void tu_get_tcp(unsigned i, struct tu_tcp_info *t)
{
    const uint8_t *g, *o;
    size_t k;

    memset(t, 0, sizeof *t);
    tu_get_ip(i, &t->ip);
    assert_int_equal(t->ip.proto, IP_PROTO_TCP);
    g = t->ip.payload;
    assert_true(t->ip.plen >= TCP_HLEN);
    assert_int_equal(tu_tcp_csum(t->ip.src, t->ip.dst, g, t->ip.plen), 0);
    t->sport = get_be16(g);
    t->dport = get_be16(g + 2);
    t->seq = get_be32(g + 4);
    t->ack = get_be32(g + 8);
    t->hlen = (size_t)(g[12] >> 4) * 4;
    assert_true(t->hlen >= TCP_HLEN && t->hlen <= t->ip.plen);
    t->flags = g[13];
    t->wnd = get_be16(g + 14);
    t->urg = get_be16(g + 18);
    t->opt = g + TCP_HLEN;
    t->optlen = t->hlen - TCP_HLEN;
    t->data = g + t->hlen;
    t->len = t->ip.plen - t->hlen;
    /* Walk the options: each well-formed, MSS noted. */
    o = t->opt;
    for (k = 0; k < t->optlen;) {
        if (o[k] == 0)
            break;
        if (o[k] == 1) {
            k++;
            continue;
        }
        assert_true(k + 1 < t->optlen && o[k + 1] >= 2 && k + o[k + 1] <= t->optlen);
        if (o[k] == 2) {
            assert_int_equal(o[k + 1], 4);
            t->mss = get_be16(o + k + 2);
        }
        k += o[k + 1];
    }
}

/* ---- Counters ---- */

static const struct {
    const char *name;
    size_t off;
} tu_stat_tab[] = {
#define TU_STAT(n) { #n, offsetof(struct net_stats, n) },
    NET_STATS(TU_STAT)
#undef TU_STAT
};
#define TU_NSTATS (sizeof tu_stat_tab / sizeof tu_stat_tab[0])

void tu_expect_stats_at(const char *file, int line, const char *spec)
{
    uint32_t want[TU_NSTATS] = { 0 };
    const char *p = spec;
    size_t i;
    int bad = 0;

    while (*p) {
        char name[40];
        unsigned long v;
        int used = 0;

        if (*p == ' ') {
            p++;
            continue;
        }
        if (sscanf(p, "%39[a-z_0-9]=%lu%n", name, &v, &used) != 2)
            fail_msg("%s:%d: bad stats spec at '%s'", file, line, p);
        for (i = 0; i < TU_NSTATS && strcmp(tu_stat_tab[i].name, name) != 0; i++)
            ;
        if (i == TU_NSTATS)
            fail_msg("%s:%d: no counter named %s", file, line, name);
        want[i] = (uint32_t)v;
        p += used;
    }
    for (i = 0; i < TU_NSTATS; i++) {
        uint32_t got;

        memcpy(&got, (const uint8_t *)&tu_s.stats + tu_stat_tab[i].off, sizeof got);
        if (got != want[i]) {
            print_error("%s:%d: counter %s is %u, want %u\n", file, line, tu_stat_tab[i].name,
                        (unsigned)got, (unsigned)want[i]);
            bad = 1;
        }
    }
    if (bad)
        fail_msg("%s:%d: counters differ (expected: %s)", file, line, spec);
}
