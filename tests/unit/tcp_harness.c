#include "tcp_harness.h"

#include <string.h>

#include "net_priv.h"

struct net_stack th_stack;
uint32_t th_now;
struct th_app_state th_app;
uint16_t th_our_port = TH_PORT;

static const uint8_t our_mac[6] = {0x02, 0, 0, 0x12, 0x34, 0x56};
static const uint8_t peer_mac[6] = {0x02, 0, 0, 0, 0, 0x01};

#define QMAX 64
static struct th_seg queue[QMAX];
static int q_head, q_tail;

static void capture(void *ctx, const uint8_t *f, size_t len)
{
    (void)ctx;
    if (len < 14 + 20 + 20 || get_be16(f + 12) != ETHTYPE_IPV4 || f[14 + 9] != IP_PROTO_TCP)
        return;
    const uint8_t *ip = f + 14;
    size_t ihl = (size_t)(ip[0] & 15) * 4, tot = get_be16(ip + 2);
    assert_true(tot <= len - 14);
    /* Every segment we send must carry a valid TCP checksum. */
    uint32_t sum = net_csum_pseudo(get_be32(ip + 12), get_be32(ip + 16), IP_PROTO_TCP,
                                   (uint16_t)(tot - ihl));
    assert_int_equal(net_csum_fold(net_csum_add(sum, ip + ihl, tot - ihl)), 0);
    const uint8_t *t = ip + ihl;
    assert_true(q_tail - q_head < QMAX);
    struct th_seg *g = &queue[q_tail++ % QMAX];
    memset(g, 0, sizeof *g);
    g->dst_ip = get_be32(ip + 16);
    g->sport = get_be16(t);
    g->dport = get_be16(t + 2);
    g->seq = get_be32(t + 4);
    g->ack = get_be32(t + 8);
    g->flags = t[13];
    g->wnd = get_be16(t + 14);
    size_t off = (size_t)(t[12] >> 4) * 4;
    if (off >= 24 && t[20] == 2 && t[21] == 4)
        g->mss = get_be16(t + 22);
    g->len = (uint16_t)(tot - ihl - off);
    memcpy(g->data, t + off, g->len);
}

static size_t app_recv(struct net_stack *s, int id, const uint8_t *d, size_t n)
{
    th_app.last_id = id;
    if (n > th_app.take_max)
        n = th_app.take_max;
    if (th_app.echo)
        n = tcp_send(s, id, d, n);
    if (th_app.rx_len + n <= sizeof th_app.rx) {
        memcpy(th_app.rx + th_app.rx_len, d, n);
        th_app.rx_len += n;
    }
    return n;
}

static void app_event(struct net_stack *s, int id, enum tcp_event ev)
{
    th_app.last_id = id;
    if (th_app.nevents < 64)
        th_app.events[th_app.nevents++] = ev;
    if (ev == TCP_EV_PEER_CLOSED && th_app.close_on_peer_close)
        tcp_close(s, id);
}

static uint16_t app_window(struct net_stack *s, int id)
{
    (void)s;
    (void)id;
    return th_app.window;
}

const struct tcp_app th_tcp_app = {app_recv, app_event, app_window};

static void send_frame(const uint8_t *tcp, size_t len)
{
    static uint8_t f[1600];
    memcpy(f, our_mac, 6);
    memcpy(f + 6, peer_mac, 6);
    put_be16(f + 12, ETHTYPE_IPV4);
    uint8_t *ip = f + 14;
    memset(ip, 0, 20);
    ip[0] = 0x45;
    put_be16(ip + 2, (uint16_t)(20 + len));
    ip[8] = 64;
    ip[9] = IP_PROTO_TCP;
    put_be32(ip + 12, TH_PEER_IP);
    put_be32(ip + 16, TH_OUR_IP);
    put_be16(ip + 10, net_csum_fold(net_csum_add(0, ip, 20)));
    memcpy(ip + 20, tcp, len);
    size_t flen = 14 + 20 + len;
    if (flen < 60) { /* as QEMU pads frames from the tap */
        memset(f + flen, 0, 60 - flen);
        flen = 60;
    }
    net_input(&th_stack, f, flen, th_now);
}

void th_send_raw(const uint8_t *tcp, size_t len, int fix_csum)
{
    static uint8_t t[1500];
    memcpy(t, tcp, len);
    if (fix_csum && len >= 18) {
        put_be16(t + 16, 0);
        uint32_t sum = net_csum_pseudo(TH_PEER_IP, TH_OUR_IP, IP_PROTO_TCP, (uint16_t)len);
        put_be16(t + 16, net_csum_fold(net_csum_add(sum, t, len)));
    }
    send_frame(t, len);
}

void th_send_full(const struct th_seg *g, const uint8_t *opts, size_t optlen)
{
    uint8_t t[1500];
    size_t off = 20 + ((optlen + 3) & ~(size_t)3);
    memset(t, 0, off);
    put_be16(t, g->sport ? g->sport : TH_PEER_PORT);
    put_be16(t + 2, g->dport ? g->dport : th_our_port);
    put_be32(t + 4, g->seq);
    put_be32(t + 8, g->ack);
    t[12] = (uint8_t)(off << 2);
    t[13] = g->flags;
    put_be16(t + 14, g->wnd);
    if (optlen)
        memcpy(t + 20, opts, optlen);
    memcpy(t + off, g->data, g->len);
    th_send_raw(t, off + g->len, 1);
}

void th_send_wnd(uint8_t flags, uint32_t seq, uint32_t ack, uint16_t wnd)
{
    struct th_seg g = {.seq = seq, .ack = ack, .flags = flags, .wnd = wnd};
    th_send_full(&g, NULL, 0);
}

void th_send(uint8_t flags, uint32_t seq, uint32_t ack, const void *data, uint16_t len)
{
    static struct th_seg g;
    memset(&g, 0, sizeof g);
    g.seq = seq;
    g.ack = ack;
    g.flags = flags;
    g.wnd = 64240;
    g.len = len;
    if (len)
        memcpy(g.data, data, len);
    th_send_full(&g, NULL, 0);
}

void th_send_syn_mss(uint32_t seq, uint16_t mss)
{
    struct th_seg g = {.seq = seq, .flags = TH_SYN, .wnd = 64240};
    uint8_t opt[4] = {2, 4, (uint8_t)(mss >> 8), (uint8_t)mss};
    th_send_full(&g, opt, mss ? 4 : 0);
}

static void peer_arp(void);

void th_advance(uint32_t ms)
{
    /* Step in small increments as the board's main loop would. */
    while (ms) {
        uint32_t step = ms < 4 ? ms : 4;
        th_now += step;
        ms -= step;
        /* The peer is alive: it ARPs for us now and then, which keeps our
         * cache entry for it fresh (RFC 826 merge). */
        if (th_now % 20000 == 0)
            peer_arp();
        net_poll(&th_stack, th_now);
    }
}

int th_pending(void) { return q_tail - q_head; }

struct th_seg th_take(void)
{
    assert_true(q_tail > q_head);
    return queue[q_head++ % QMAX];
}

struct th_seg th_expect_at(const char *file, int line, uint8_t flags, uint32_t seq, uint32_t ack,
                           uint16_t len)
{
    if (q_tail == q_head) {
        fail_msg("%s:%d: expected a segment, the stack sent none", file, line);
    }
    struct th_seg g = th_take();
    if (g.flags != flags || g.seq != seq || g.ack != ack || g.len != len)
        fail_msg("%s:%d: expected flags %02x seq %u ack %u len %u, got flags %02x seq %u ack %u len %u",
                 file, line, flags, seq, ack, len, g.flags, g.seq, g.ack, g.len);
    return g;
}

int th_state(int id) { return (int)tcp_get_state(&th_stack, id); }

int th_has_event(int ev)
{
    for (int i = 0; i < th_app.nevents; i++)
        if (th_app.events[i] == ev)
            return 1;
    return 0;
}

void th_clear_events(void) { th_app.nevents = 0; }

void th_setup_no_listen(void)
{
    struct net_config cfg = {.ip = TH_OUR_IP, .netmask = 0xFFFFFF00u};
    memcpy(cfg.mac, our_mac, 6);
    th_now = 1000;
    net_init(&th_stack, &cfg, capture, NULL);
    memset(&th_app, 0, sizeof th_app);
    th_app.take_max = (size_t)-1;
    th_app.window = 4096;
    th_our_port = TH_PORT;
    peer_arp();
    q_head = q_tail = 0;
}

/* The peer asks for our MAC, so we learn its own (RFC 826). */
static void peer_arp(void)
{
    uint8_t a[42];
    memset(a, 0xFF, 6);
    memcpy(a + 6, peer_mac, 6);
    put_be16(a + 12, ETHTYPE_ARP);
    const uint8_t hdr[8] = {0, 1, 8, 0, 6, 4, 0, 1};
    memcpy(a + 14, hdr, 8);
    memcpy(a + 22, peer_mac, 6);
    put_be32(a + 28, TH_PEER_IP);
    memset(a + 32, 0, 6);
    put_be32(a + 38, TH_OUR_IP);
    net_input(&th_stack, a, sizeof a, th_now);
}

void th_setup(void)
{
    th_setup_no_listen();
    assert_int_equal(tcp_listen(&th_stack, TH_PORT, &th_tcp_app), 0);
}

int th_open_passive(uint32_t peer_iss, uint32_t *iss)
{
    th_send_syn_mss(peer_iss, 1460);
    struct th_seg sa = th_take();
    assert_int_equal(sa.flags, TH_SYN | TH_ACK);
    assert_int_equal(sa.ack, peer_iss + 1);
    int id = 0;
    while (id < TCP_MAX_CONNS && !(th_stack.conn[id].state == TCP_SYN_RECEIVED &&
                                   th_stack.conn[id].snd_una == sa.seq))
        id++;
    assert_true(id < TCP_MAX_CONNS);
    th_send(TH_ACK, peer_iss + 1, sa.seq + 1, NULL, 0);
    assert_int_equal(th_state(id), TCP_ESTABLISHED);
    th_expect_none();
    if (iss)
        *iss = sa.seq;
    th_clear_events();
    return id;
}

int th_open_active(uint32_t peer_iss, uint32_t *iss)
{
    int id = tcp_connect(&th_stack, TH_PEER_IP, TH_PEER_PORT, &th_tcp_app);
    assert_true(id >= 0);
    struct th_seg syn = th_take();
    assert_int_equal(syn.flags, TH_SYN);
    th_our_port = syn.sport;
    th_send(TH_SYN | TH_ACK, peer_iss, syn.seq + 1, NULL, 0);
    th_expect(TH_ACK, syn.seq + 1, peer_iss + 1, 0);
    assert_int_equal(th_state(id), TCP_ESTABLISHED);
    if (iss)
        *iss = syn.seq;
    th_clear_events();
    return id;
}
