/* Backend: our TCP core (host build, symbols renamed ours_*).
 *
 * The stack gets Ethernet frames: each IPv4 packet of the runner is framed
 * as if from the peer's MAC, and the peer answers ARP for itself every 20 s
 * of virtual time (as tests/unit/tcp_harness.c does) so the cache entry
 * never ages out during a long wait. */
#include <string.h>

#include "diff.h"
#include "ours_api.h"

static struct net_stack st;
static uint32_t now, base;
static struct diff_app app;

static const uint8_t our_mac[6] = {0x02, 0, 0, 0x12, 0x34, 0x56};
static const uint8_t peer_mac[6] = {0x02, 0, 0, 0, 0, 0x01};

/* Application state per connection id. */
#define BACKLOG 8192
static struct app_conn {
    uint8_t out[BACKLOG]; /* bytes the app wants to send that tcp_send has not taken */
    size_t out_len;
    size_t held;          /* received bytes the app holds (hold mode) */
    int close_pending;    /* close once out[] is empty */
    int active;           /* opened by o_connect (else state is reset on CONNECTED) */
} conns[TCP_MAX_CONNS];
static uint32_t sent_total[TCP_MAX_CONNS]; /* stream offset for generated data */

static void tx(void *ctx, const uint8_t *frame, size_t len)
{
    (void)ctx;
    int was = diff_count_pause();
    if (len >= ETH_HLEN + IP_HLEN && get_be16(frame + 12) == ETHTYPE_IPV4) {
        size_t tot = get_be16(frame + ETH_HLEN + 2);
        if (tot > len - ETH_HLEN)
            diff_error("ours: IPv4 total length %zu past the frame (%zu)", tot, len);
        else
            diff_emit(frame + ETH_HLEN, tot);
    }
    diff_count_resume(was);
}

static void frame_in(const uint8_t *f, size_t len)
{
    uint32_t unresolved = st.stats.arp_unresolved;
    diff_count_on();
    ours_net_input(&st, f, len, now);
    diff_count_off();
    if (st.stats.arp_unresolved != unresolved)
        diff_error("ours: a segment was dropped awaiting ARP");
}

static void peer_arp(void)
{
    uint8_t a[42];
    memset(a, 0xFF, 6);
    memcpy(a + 6, peer_mac, 6);
    put_be16(a + 12, ETHTYPE_ARP);
    static const uint8_t hdr[8] = {0, 1, 8, 0, 6, 4, 0, 1};
    memcpy(a + 14, hdr, 8);
    memcpy(a + 22, peer_mac, 6);
    put_be32(a + 28, DIFF_PEER_IP);
    memset(a + 32, 0, 6);
    put_be32(a + 38, DIFF_STACK_IP);
    ours_net_input(&st, a, sizeof a, now); /* harness work: not counted */
}

static int conn_of(uint16_t peer_port)
{
    for (int id = 0; id < TCP_MAX_CONNS; id++)
        if (st.conn[id].state != TCP_CLOSED && st.conn[id].rport == peer_port &&
            st.conn[id].rip == DIFF_PEER_IP)
            return id;
    return -1;
}

/* Push the app's backlog into the send buffer; close when it is empty. */
static void flush(int id)
{
    struct app_conn *a = &conns[id];
    if (a->out_len) {
        diff_count_on();
        size_t n = ours_tcp_send(&st, id, a->out, a->out_len);
        diff_count_off();
        memmove(a->out, a->out + n, a->out_len - n);
        a->out_len -= n;
    }
    if (!a->out_len && a->close_pending) {
        a->close_pending = 0;
        diff_count_on();
        ours_tcp_close(&st, id);
        diff_count_off();
    }
}

static void app_queue(int id, const uint8_t *d, size_t n)
{
    struct app_conn *a = &conns[id];
    if (a->out_len + n > BACKLOG) {
        diff_error("ours: application backlog full");
        n = BACKLOG - a->out_len;
    }
    memcpy(a->out + a->out_len, d, n);
    a->out_len += n;
    flush(id);
}

/* Callbacks run inside the stack. In bench mode the application's own
 * bookkeeping is not counted; the tcp_* calls it makes are. */
static size_t cb_recv(struct net_stack *s, int id, const uint8_t *d, size_t n)
{
    (void)s;
    int was = diff_count_pause(); /* application work; its tcp_send counts again */
    struct app_conn *a = &conns[id];
    if (app.hold) {
        size_t room = TCP_WND - a->held;
        if (n > room)
            n = room;
        a->held += n;
    }
    if (app.echo)
        app_queue(id, d, n);
    diff_count_resume(was);
    return n;
}

static void cb_event(struct net_stack *s, int id, enum tcp_event ev)
{
    (void)s;
    int was = diff_count_pause(); /* application work; its tcp_* calls count again */
    if (ev == TCP_EV_CONNECTED && !conns[id].active) { /* a passive open */
        memset(&conns[id], 0, sizeof conns[id]);
        sent_total[id] = 0;
    }
    if (ev == TCP_EV_CONNECTED || ev == TCP_EV_SENT) {
        flush(id);
    } else if (ev == TCP_EV_PEER_CLOSED && app.auto_close) {
        conns[id].close_pending = 1;
        flush(id);
    }
    diff_count_resume(was);
}

/* Hold mode: the window is the room left in the application's buffer. */
static uint16_t cb_window(struct net_stack *s, int id)
{
    (void)s;
    return (uint16_t)(TCP_WND - conns[id].held);
}

static const struct tcp_app app_plain = {cb_recv, cb_event, NULL};
static const struct tcp_app app_hold = {cb_recv, cb_event, cb_window};

static void o_init(const struct diff_app *a, uint32_t stack_isn)
{
    struct net_config cfg = {.ip = DIFF_STACK_IP, .netmask = 0xFFFFFF00u};
    memcpy(cfg.mac, our_mac, 6);
    app = *a;
    memset(conns, 0, sizeof conns);
    memset(sent_total, 0, sizeof sent_total);
    base = 1000;
    if (stack_isn) {
        /* ISN = 250 * now + SipHash(tuple) under the all-zero key (no
         * entropy is added): pick the clock so that a SYN to the listener
         * at time 0 draws an ISN in [stack_isn, stack_isn + 250). */
        const uint32_t key[4] = {0, 0, 0, 0};
        uint32_t f = ours_net_siphash_tuple(key, DIFF_STACK_IP, DIFF_LISTEN_PORT, DIFF_PEER_IP,
                                            DIFF_PEER_PORT);
        base = (uint32_t)(((uint64_t)(uint32_t)(stack_isn - f) + 249u) / 250u);
    }
    now = base;
    ours_net_init(&st, &cfg, tx, NULL);
    peer_arp();
}

static void o_input(const uint8_t *ip, size_t len)
{
    static uint8_t f[1600];
    memcpy(f, our_mac, 6);
    memcpy(f + 6, peer_mac, 6);
    put_be16(f + 12, ETHTYPE_IPV4);
    memcpy(f + ETH_HLEN, ip, len);
    size_t flen = ETH_HLEN + len;
    if (flen < 60) { /* as QEMU pads frames from the tap */
        memset(f + flen, 0, 60 - flen);
        flen = 60;
    }
    frame_in(f, flen);
}

static void o_tick(void)
{
    now++;
    if ((now - base) % 20000 == 0)
        peer_arp();
    uint32_t unresolved = st.stats.arp_unresolved;
    diff_count_on();
    ours_net_poll(&st, now);
    diff_count_off();
    if (st.stats.arp_unresolved != unresolved)
        diff_error("ours: a segment was dropped awaiting ARP");
}

static const struct tcp_app *the_app(void) { return app.hold ? &app_hold : &app_plain; }

static void o_listen(uint16_t port)
{
    diff_count_on();
    int r = ours_tcp_listen(&st, port, the_app());
    diff_count_off();
    if (r)
        diff_error("ours: tcp_listen: %d", r);
}

static void o_connect(uint16_t peer_port)
{
    st.now = now; /* the API takes no time: it uses the last one given */
    diff_count_on();
    int id = ours_tcp_connect(&st, DIFF_PEER_IP, peer_port, the_app());
    diff_count_off();
    if (id < 0) {
        diff_error("ours: tcp_connect: %d", id);
        return;
    }
    memset(&conns[id], 0, sizeof conns[id]);
    conns[id].active = 1;
    sent_total[id] = 0;
}

static void o_send(uint16_t peer_port, size_t n)
{
    int id = conn_of(peer_port);
    if (id < 0)
        return;
    uint8_t buf[BACKLOG];
    if (n > sizeof buf)
        n = sizeof buf;
    for (size_t i = 0; i < n; i++)
        buf[i] = diff_byte(sent_total[id] + (uint32_t)i);
    sent_total[id] += (uint32_t)n;
    st.now = now;
    app_queue(id, buf, n);
}

static void o_close(uint16_t peer_port)
{
    int id = conn_of(peer_port);
    if (id < 0)
        return;
    st.now = now;
    conns[id].close_pending = 1;
    flush(id);
}

static void o_abort(uint16_t peer_port)
{
    int id = conn_of(peer_port);
    if (id < 0)
        return;
    st.now = now;
    diff_count_on();
    ours_tcp_abort(&st, id);
    diff_count_off();
}

static void o_read(uint16_t peer_port, size_t n)
{
    int id = conn_of(peer_port);
    if (id < 0)
        return;
    if (n > conns[id].held)
        n = conns[id].held;
    conns[id].held -= n;
    st.now = now;
    diff_count_on();
    ours_tcp_window_changed(&st, id);
    diff_count_off();
}

static int o_state(uint16_t peer_port)
{
    int id = conn_of(peer_port);
    return id < 0 ? -1 : (int)ours_tcp_get_state(&st, id);
}

static int o_listening(void)
{
    for (int i = 0; i < TCP_MAX_LISTENERS; i++)
        if (st.lst[i].port)
            return 1;
    return 0;
}

const struct diff_backend diff_ours = {
    "ours", o_init, o_input, o_tick, o_listen, o_connect, o_send, o_close, o_abort, o_read,
    o_state, o_listening,
};
