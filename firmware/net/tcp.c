/* TCP (RFC 9293), read next to section 3.10 "Event Processing".
 *
 * One control block per connection (struct tcp_conn, 40 bytes) in a fixed
 * table; listeners in a separate table. Segment arrival is handled by
 * tcp_input() in the RFC's order: LISTEN / SYN-SENT / the rest, then the
 * sequence test, RST, SYN, ACK, text, FIN. Timers count down in ticks and
 * are run by tcp_poll() (and before every input). Everything we transmit
 * goes through tcp_output(), which decides what to send from the state.
 *
 * Deliberate simplifications, each within the RFCs:
 * - Out-of-order segments are not queued: their ACK field is processed,
 *   their data dropped with an immediate duplicate ACK (RFC 9293 allows
 *   either; the sender's fast retransmit repairs the hole).
 * - SND.WL1/SND.WL2 are not kept: since only in-order data is accepted,
 *   the window is taken from every segment whose ACK is not old.
 * - RTT is sampled uIP-style, as the time since the retransmission timer
 *   was armed, only when no retransmission happened (Karn's rule).
 * - The application supplies the receive window; data it does not
 *   consume is not acknowledged. No receive buffer is needed. */
#include <string.h>

#include "net_priv.h"
#include "tcp.h"
#include "tcp_seq.h"

_Static_assert(sizeof(struct tcp_conn) <= 40, "TCP control block over its 40-byte budget");

/* TCP header flags */
#define FIN 0x01
#define SYN 0x02
#define RST 0x04
#define PSH 0x08
#define ACK 0x10
#define URG 0x20

/* tcp_conn.flags */
#define F_ACK_DELAYED 0x01 /* an ACK is owed, due at s->ack_deadline */
#define F_ACK_NOW 0x02     /* send an ACK at the next output */
#define F_ONE_FULL 0x04    /* one full segment received, not yet ACKed */
#define F_FIN_QUEUED 0x08  /* the application closed: FIN after the data */
#define F_PROBE_ACKED 0x10 /* the peer answered a zero-window probe */
#define F_PASSIVE 0x20     /* opened from a listener (RST: back to LISTEN) */

#define MSS_DEFAULT 536 /* RFC 9293 3.7.1 when the peer sends no MSS */
#define TICKS(ms) ((uint16_t)(((ms) + TCP_TICK_MS - 1) / TCP_TICK_MS))
/* Receiver SWS avoidance (RFC 1122 4.2.3.3): the right edge of our window
 * moves only in steps of min(buffer / 2, MSS). The buffers behind windows
 * are the send buffer (echo) or TCP_WND (applications without a window
 * callback); a window callback must offer at least WND_STEP when empty. */
#define MIN3(a, b, c) ((a) < (b) ? ((a) < (c) ? (a) : (c)) : ((b) < (c) ? (b) : (c)))
#define WND_STEP MIN3(TCP_MSS, TCP_TXBUF / 2, (TCP_WND + 1) / 2)
/* We send at most half the send buffer per segment so that two segments
 * are in flight and the peer's delayed ACK (every second segment) cannot
 * stall us when the buffer is smaller than two MSS. */
#define SEG_MAX (TCP_TXBUF / 2)

struct seg {
    uint32_t seq, ack;
    uint16_t sport, dport, wnd, mss, len;
    uint8_t flags;
    const uint8_t *data;
};

static uint32_t min32(uint32_t a, uint32_t b) { return a < b ? a : b; }
static int conn_id(const struct net_stack *s, const struct tcp_conn *c) { return (int)(c - s->conn); }

static void trace(struct net_stack *s, const struct net_trace *t)
{
    if (s->trace)
        s->trace(s->trace_ctx, t);
}

static void set_state(struct net_stack *s, struct tcp_conn *c, enum tcp_state st)
{
    struct net_trace t = {.kind = NET_TRACE_STATE, .id = (int8_t)conn_id(s, c),
                          .old_state = c->state, .new_state = (uint8_t)st};
    c->state = st;
    trace(s, &t);
}

static void app_event(struct net_stack *s, struct tcp_conn *c, enum tcp_event ev)
{
    const struct tcp_app *app = s->apps[c->app];
    if (app && app->event)
        app->event(s, conn_id(s, c), ev);
}

/* Free the slot (CLOSED). The event, if any, is given after the slot is
 * free so the application may reuse the id at once. */
static void conn_free(struct net_stack *s, struct tcp_conn *c, int ev)
{
    uint8_t app = c->app;
    set_state(s, c, TCP_CLOSED);
    memset(c, 0, sizeof *c);
    if (ev >= 0) {
        c->app = app;
        app_event(s, c, (enum tcp_event)ev);
    }
    if (c->state == TCP_CLOSED) { /* unless the event handler reused the slot */
        c->app = 0;
        s->app_ctx[conn_id(s, c)] = NULL;
    }
}

/* --- RTO (RFC 6298), in ticks --- */
static uint16_t rto(const struct tcp_conn *c)
{
    uint32_t r = c->srtt ? (uint32_t)(c->srtt >> 3) + c->rttvar : TICKS(TCP_RTO_INIT_MS);
    if (r < TICKS(TCP_RTO_MIN_MS))
        r = TICKS(TCP_RTO_MIN_MS);
    r <<= c->nrtx; /* exponential backoff (5.5) */
    return (uint16_t)min32(r, TICKS(TCP_RTO_MAX_MS));
}

static void rtt_sample(struct tcp_conn *c, uint32_t r);
/* An ACK of new data: if nothing was retransmitted (Karn's rule), the time
 * since the timer was armed is an RTT sample. */
static void rtt_on_ack(struct tcp_conn *c)
{
    uint16_t armed = rto(c);
    if (c->nrtx == 0 && c->timer && c->timer <= armed)
        rtt_sample(c, (uint32_t)(armed - c->timer));
}

static void rtt_sample(struct tcp_conn *c, uint32_t r)
{
    if (r == 0)
        r = 1;
    if (!c->srtt) { /* first measurement (2.2) */
        c->srtt = (uint16_t)(r << 3);
        c->rttvar = (uint16_t)(r << 1);
    } else { /* 2.3, alpha 1/8, beta 1/4 in fixed point */
        int32_t delta = (int32_t)r - (c->srtt >> 3);
        c->srtt = (uint16_t)(c->srtt + delta);
        if (delta < 0)
            delta = -delta;
        c->rttvar = (uint16_t)(c->rttvar + delta - (c->rttvar >> 2));
    }
}

/* --- the receive window we offer --- */
static uint32_t app_window(struct net_stack *s, struct tcp_conn *c)
{
    const struct tcp_app *app = s->apps[c->app];
    uint32_t w = app && app->window ? app->window(s, conn_id(s, c)) : TCP_WND;
    return min32(w, 0xFFFF);
}

/* Advance RCV.WND's right edge when it moves by at least WND_STEP, never
 * shrink it. Returns the window to put in the segment. */
static uint16_t advertise(struct net_stack *s, struct tcp_conn *c)
{
    uint32_t w = app_window(s, c);
    if (w >= (uint32_t)c->rcv_wnd + WND_STEP || (w > c->rcv_wnd && c->state < TCP_ESTABLISHED))
        c->rcv_wnd = (uint16_t)w;
    return c->rcv_wnd;
}

/* --- building segments --- */

/* The send buffer is a ring indexed by sequence number: a run of bytes is
 * at most two pieces, up to the end of the buffer and from its start. */
static uint32_t ring_first(uint32_t seq, uint32_t len)
{
    return min32(len, TCP_TXBUF - (seq & (TCP_TXBUF - 1)));
}

static void ring_read(const uint8_t *ring, uint32_t seq, uint8_t *dst, uint32_t len)
{
    uint32_t first = ring_first(seq, len);
    memcpy(dst, ring + (seq & (TCP_TXBUF - 1)), first);
    memcpy(dst + first, ring, len - first);
}

static void ring_write(uint8_t *ring, uint32_t seq, const uint8_t *src, uint32_t len)
{
    uint32_t first = ring_first(seq, len);
    memcpy(ring + (seq & (TCP_TXBUF - 1)), src, first);
    memcpy(ring, src + first, len - first);
}

/* Build and send one segment at s->frame. Data comes from the connection's
 * send buffer at sequence number seq (len bytes). */
static void send_segment(struct net_stack *s, uint32_t rip, uint16_t lport, uint16_t rport,
                         uint32_t seq, uint32_t ack, uint8_t flags, uint16_t wnd,
                         const uint8_t *ring, uint16_t len, int id)
{
    uint8_t *h = s->frame + NET_IP_PAYLOAD;
    uint16_t hlen = TCP_HLEN;
    put_be16(h, lport);
    put_be16(h + 2, rport);
    put_be32(h + 4, seq);
    put_be32(h + 8, ack);
    h[13] = flags;
    put_be16(h + 14, wnd);
    put_be32(h + 16, 0); /* checksum, urgent pointer */
    if (flags & SYN) {   /* our MSS (RFC 9293 3.7.1) */
        put_be32(h + 20, 0x02040000u | TCP_MSS);
        hlen += 4;
    }
    h[12] = (uint8_t)(hlen << 2);
    if (len)
        ring_read(ring, seq, h + hlen, len);
    uint16_t tot = (uint16_t)(hlen + len);
    uint32_t sum = net_csum_pseudo(s->cfg.ip, rip, IP_PROTO_TCP, tot);
    put_be16(h + 16, net_csum_fold(net_csum_add(sum, h, tot)));
    struct net_trace t = {.kind = NET_TRACE_SEG_OUT, .id = (int8_t)id, .flags = flags,
                          .wnd = wnd, .len = len, .seq = seq, .ack = ack};
    trace(s, &t);
    NET_COUNT(s, tcp_seg_out);
    ipv4_output(s, rip, IP_PROTO_TCP, tot);
}

static void send_conn(struct net_stack *s, struct tcp_conn *c, uint32_t seq, uint8_t flags,
                      uint16_t len)
{
    if (c->state != TCP_SYN_SENT)
        flags |= ACK;
    c->flags &= (uint8_t) ~(F_ACK_DELAYED | F_ACK_NOW | F_ONE_FULL);
    send_segment(s, c->rip, c->lport, c->rport, seq, c->rcv_nxt, flags, advertise(s, c),
                 s->txbuf[conn_id(s, c)], len, conn_id(s, c));
}

/* A reset for a segment that has no connection (RFC 9293 3.10.7.1): if it
 * carried an ACK, <SEQ=SEG.ACK><CTL=RST>; otherwise
 * <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>. Never in answer to a RST. */
static void reply_rst(struct net_stack *s, uint32_t src, const struct seg *g)
{
    if (g->flags & RST)
        return;
    NET_COUNT(s, tcp_rst_out);
    if (g->flags & ACK)
        send_segment(s, src, g->dport, g->sport, g->ack, 0, RST, 0, NULL, 0, -1);
    else
        send_segment(s, src, g->dport, g->sport, 0,
                     g->seq + g->len + !!(g->flags & SYN) + !!(g->flags & FIN), RST | ACK, 0,
                     NULL, 0, -1);
}

static void conn_rst(struct net_stack *s, struct tcp_conn *c)
{
    NET_COUNT(s, tcp_rst_out);
    send_segment(s, c->rip, c->lport, c->rport, c->snd_nxt, 0, RST, 0, NULL, 0, conn_id(s, c));
}

static int fin_sent(const struct tcp_conn *c)
{
    return (c->flags & F_FIN_QUEUED) && c->snd_nxt == c->snd_una + c->tx_len + 1;
}

/* States in which queued data and a queued FIN may go out. */
static int can_send(const struct tcp_conn *c)
{
    return c->state == TCP_ESTABLISHED || c->state == TCP_CLOSE_WAIT ||
           c->state == TCP_FIN_WAIT_1 || c->state == TCP_CLOSING || c->state == TCP_LAST_ACK;
}

/* States in which the peer's data is taken. */
static int can_recv(const struct tcp_conn *c)
{
    return c->state == TCP_ESTABLISHED || c->state == TCP_FIN_WAIT_1 || c->state == TCP_FIN_WAIT_2;
}

static uint16_t seg_size(const struct tcp_conn *c) { return (uint16_t)min32(c->mss, SEG_MAX); }

static void set_cwnd(struct tcp_conn *c, uint32_t w) { c->cwnd = (uint16_t)min32(w, 0xFFFF); }

/* A loss was detected (RFC 5681 (4)): ssthresh = max(FlightSize / 2, 2 * SMSS).
 * Returns the new ssthresh in bytes. */
static uint32_t on_loss(struct tcp_conn *c)
{
    uint32_t half = (c->snd_nxt - c->snd_una) / 2;
    uint32_t th = half > 2u * c->mss ? half : 2u * c->mss;
    c->ssthresh_mss = (uint8_t)min32(th / c->mss, 14) & 15;
    return th;
}

/* Send what the state, the windows and Nagle allow, then an ACK if one is
 * still owed. Called after input, after application calls and by timers. */
static void tcp_output(struct net_stack *s, struct tcp_conn *c)
{
    if (s->tcp_busy)
        return; /* tcp_input sends once, at its end */
    while (can_send(c) && !fin_sent(c)) {
        uint32_t flight = c->snd_nxt - c->snd_una;
        uint32_t unsent = c->snd_una + c->tx_len - c->snd_nxt;
        uint32_t wnd = min32(c->snd_wnd, c->cwnd);
        uint32_t n = min32(min32(unsent, wnd > flight ? wnd - flight : 0), seg_size(c));
        int fin = (c->flags & F_FIN_QUEUED) && n == unsent;
        if (n == 0 && !fin)
            break;
        /* Nagle (RFC 896) and sender SWS avoidance (RFC 1122 4.2.3.4): a
         * short segment only when nothing is in flight. */
        if (n > 0 && n < seg_size(c) && flight)
            break;
        send_conn(s, c, c->snd_nxt, (uint8_t)((n && n == unsent ? PSH : 0) | (fin ? FIN : 0)),
                  (uint16_t)n);
        c->snd_nxt += n + (uint32_t)fin;
        if (!c->timer)
            c->timer = rto(c);
    }
    /* Persist timer (RFC 9293 3.8.6.1): zero window, data waiting. */
    if (can_send(c) && !c->timer && c->snd_wnd == 0 && c->tx_len)
        c->timer = rto(c);
    /* A window update is due when the edge can move a full step and the
     * window would at least double (as Linux does): the peer may be
     * waiting for it, and a bulk sender still gets ACKs only every second
     * segment. */
    if (can_recv(c)) {
        uint32_t w = app_window(s, c);
        if (w >= (uint32_t)c->rcv_wnd + WND_STEP && w >= 2u * c->rcv_wnd)
            c->flags |= F_ACK_NOW;
    }
    if (c->flags & F_ACK_NOW)
        send_conn(s, c, c->snd_nxt, 0, 0);
}

/* Send the first unacknowledged segment again (timeout, fast retransmit,
 * partial ACK), or a SYN / SYN-ACK, or a one-byte zero-window probe. */
static void retransmit(struct net_stack *s, struct tcp_conn *c)
{
    NET_COUNT(s, tcp_retrans);
    if (c->state == TCP_SYN_SENT || c->state == TCP_SYN_RECEIVED) {
        send_conn(s, c, c->snd_una, SYN, 0);
        return;
    }
    uint32_t flight = c->snd_nxt - c->snd_una;
    if (flight == 0) { /* persist: probe with one new byte */
        if (!c->tx_len)
            return;
        send_conn(s, c, c->snd_nxt, 0, 1);
        c->snd_nxt++;
        return;
    }
    uint32_t data = min32(flight, c->tx_len);
    uint32_t n = min32(data, seg_size(c));
    int fin = fin_sent(c) && n == data;
    send_conn(s, c, c->snd_una, (uint8_t)((fin ? FIN : 0) | (n && n == c->tx_len ? PSH : 0)),
              (uint16_t)n);
}

/* --- timers --- */

static void conn_timeout(struct net_stack *s, struct tcp_conn *c)
{
    switch (c->state) {
    case TCP_TIME_WAIT: /* 2*MSL over */
        conn_free(s, c, -1);
        return;
    case TCP_FIN_WAIT_2: /* the peer never closed: give the slot back */
        conn_free(s, c, TCP_EV_TIMEOUT);
        return;
    case TCP_SYN_SENT:
    case TCP_SYN_RECEIVED:
        if (c->nrtx >= ((c->flags & F_PASSIVE) ? TCP_SYNACK_RETRIES : TCP_SYN_RETRIES)) {
            NET_COUNT(s, tcp_timeouts);
            if (c->state == TCP_SYN_RECEIVED)
                conn_rst(s, c);
            conn_free(s, c, (c->flags & F_PASSIVE) ? -1 : TCP_EV_TIMEOUT);
            return;
        }
        break;
    default: {
        int probing = c->snd_wnd == 0 && (c->flags & F_PROBE_ACKED);
        if (c->nrtx >= TCP_MAX_RETRIES && !probing) {
            NET_COUNT(s, tcp_timeouts);
            conn_rst(s, c);
            conn_free(s, c, TCP_EV_TIMEOUT);
            return;
        }
        c->flags &= (uint8_t)~F_PROBE_ACKED;
        on_loss(c);
        c->cwnd = c->mss; /* loss window: one segment */
        c->dupacks = 0;
    }
    }
    retransmit(s, c);
    if (c->nrtx < 15)
        c->nrtx++;
    c->timer = rto(c);
}

static void tcp_timers(struct net_stack *s)
{
    uint32_t ticks = (s->now - s->tcp_last_tick) / TCP_TICK_MS;
    if (ticks) {
        s->tcp_last_tick += ticks * TCP_TICK_MS;
        for (struct tcp_conn *c = s->conn; c < s->conn + TCP_MAX_CONNS; c++) {
            if (!c->timer)
                continue;
            if (c->timer > ticks) {
                c->timer = (uint16_t)(c->timer - ticks);
            } else {
                c->timer = 0;
                conn_timeout(s, c);
            }
        }
    }
    if (s->ack_pending && (int32_t)(s->now - s->ack_deadline) >= 0) {
        s->ack_pending = 0;
        for (struct tcp_conn *c = s->conn; c < s->conn + TCP_MAX_CONNS; c++)
            if (c->flags & F_ACK_DELAYED) {
                c->flags |= F_ACK_NOW;
                tcp_output(s, c);
            }
    }
}

void tcp_poll(struct net_stack *s) { tcp_timers(s); }

static void delay_ack(struct net_stack *s, struct tcp_conn *c)
{
    c->flags |= F_ACK_DELAYED;
    if (!s->ack_pending) {
        s->ack_pending = 1;
        s->ack_deadline = s->now + TCP_ACK_DELAY_MS;
    }
}

/* --- connection setup --- */

static uint32_t new_iss(struct net_stack *s, const struct tcp_conn *c)
{
    /* RFC 6528: ISN = M + F(localip, localport, remoteip, remoteport, key),
     * M a 4 us clock. */
    s->isn_key_frozen = 1;
    return s->now * 250u + net_siphash_tuple(s->isn_key, s->cfg.ip, c->lport, c->rip, c->rport);
}

/* A slot for a new connection: a free one, else the oldest TIME-WAIT
 * (recycled before anything is refused). Live connections are never
 * taken. With take == 0 only says whether there would be one. */
static struct tcp_conn *conn_alloc(struct net_stack *s, int take)
{
    struct tcp_conn *tw = NULL;
    for (struct tcp_conn *c = s->conn; c < s->conn + TCP_MAX_CONNS; c++) {
        if (c == s->tcp_busy)
            continue; /* tcp_input still works on it (freed by a callback) */
        if (c->state == TCP_CLOSED)
            return c;
        if (c->state == TCP_TIME_WAIT && (!tw || c->timer < tw->timer))
            tw = c;
    }
    if (tw && take)
        conn_free(s, tw, -1);
    return tw;
}

static int half_open(const struct net_stack *s)
{
    int n = 0;
    for (const struct tcp_conn *c = s->conn; c < s->conn + TCP_MAX_CONNS; c++)
        n += c->state == TCP_SYN_RECEIVED && (c->flags & F_PASSIVE);
    return n;
}

static void conn_start(struct net_stack *s, struct tcp_conn *c, uint32_t rip, uint16_t lport,
                       uint16_t rport, uint8_t app)
{
    c->rip = rip;
    c->lport = lport;
    c->rport = rport;
    c->app = app & 15;
    c->mss = MSS_DEFAULT;
    c->ssthresh_mss = 15; /* "arbitrarily high" (RFC 5681 3.1) */
    c->snd_una = new_iss(s, c);
    c->snd_nxt = c->snd_una + 1;
    c->timer = rto(c);
}

/* RFC 5681 3.1 initial window: min(4*MSS, max(2*MSS, 4380)) */
static void set_mss(struct tcp_conn *c, uint16_t peer_mss)
{
    uint32_t m = peer_mss ? peer_mss : MSS_DEFAULT;
    c->mss = (uint16_t)min32(m, TCP_MSS);
    uint32_t iw = 2u * c->mss > 4380 ? 2u * c->mss : 4380;
    c->cwnd = (uint16_t)min32(4u * c->mss, iw);
}

/* --- SYN cookies: a SYN-RECEIVED kept in the ISN of our SYN,ACK ---
 * cookie = (F(key, tuple, period) + IRS) with its low 2 bits replaced by
 * the index of the peer's MSS in cookie_mss[]. A period is 65.5 s; an ACK
 * is accepted for the current and the previous one. 30 bits are keyed. */
static const uint16_t cookie_mss[4] = {536, 1220, 1440, 1460};

static uint32_t cookie_of(struct net_stack *s, uint32_t rip, const struct seg *g, uint32_t irs,
                          uint32_t period)
{
    s->isn_key_frozen = 1;
    return (net_siphash_tuple(s->isn_key, s->cfg.ip ^ (period << 8), g->dport, rip, g->sport) + irs) &
           ~3u;
}

static void send_cookie(struct net_stack *s, uint32_t rip, const struct seg *g)
{
    uint32_t i = 3;
    while (i && cookie_mss[i] > (g->mss ? g->mss : MSS_DEFAULT))
        i--;
    NET_COUNT(s, tcp_cookies_out);
    send_segment(s, rip, g->dport, g->sport, cookie_of(s, rip, g, g->seq, s->now >> 16) | i,
                 g->seq + 1, SYN | ACK, (uint16_t)min32(TCP_WND, TCP_TXBUF), NULL, 0, -1);
}

/* An ACK to a listener: the third segment of a cookie handshake? Returns
 * the new ESTABLISHED connection, or NULL (then the ACK gets a RST). */
static struct tcp_conn *cookie_accept(struct net_stack *s, uint32_t rip, const struct seg *g,
                                      const struct tcp_listener *l)
{
    uint32_t isn = g->ack - 1, irs = g->seq - 1, period = s->now >> 16;
    if (cookie_of(s, rip, g, irs, period) != (isn & ~3u) &&
        cookie_of(s, rip, g, irs, period - 1) != (isn & ~3u)) {
        NET_COUNT(s, tcp_cookies_bad);
        return NULL;
    }
    struct tcp_conn *c = conn_alloc(s, 1);
    if (!c) {
        NET_COUNT(s, tcp_no_conn);
        return NULL;
    }
    NET_COUNT(s, tcp_cookies_in);
    conn_start(s, c, rip, g->dport, g->sport, l->app);
    c->flags = F_PASSIVE;
    c->snd_una = c->snd_nxt = g->ack;
    c->rcv_nxt = g->seq;
    c->rcv_wnd = (uint16_t)min32(TCP_WND, TCP_TXBUF);
    c->snd_wnd = g->wnd;
    c->timer = 0;
    set_mss(c, cookie_mss[isn & 3]);
    set_state(s, c, TCP_SYN_RECEIVED); /* where the cookie kept it */
    set_state(s, c, TCP_ESTABLISHED);
    app_event(s, c, TCP_EV_CONNECTED);
    return c->state == TCP_ESTABLISHED ? c : NULL;
}

static int app_slot(struct net_stack *s, const struct tcp_app *app)
{
    for (int i = 1; i < TCP_MAX_APPS; i++) /* slot 0: no application */
        if (s->apps[i] == app)
            return i;
    for (int i = 1; i < TCP_MAX_APPS; i++)
        if (!s->apps[i]) {
            s->apps[i] = app;
            return i;
        }
    return TCP_ERR_FULL;
}

/* --- segment arrival (RFC 9293 3.10.7) --- */

/* Parse and validate; 0 if the segment must be dropped (counted). */
static int parse(struct net_stack *s, uint32_t src, uint32_t dst, const uint8_t *p, size_t len,
                 struct seg *g)
{
    if (len < TCP_HLEN) {
        NET_COUNT(s, tcp_bad_hdr);
        return 0;
    }
    uint32_t sum = net_csum_pseudo(src, dst, IP_PROTO_TCP, (uint16_t)len);
    if (net_csum_fold(net_csum_add(sum, p, len)) != 0) {
        NET_COUNT(s, tcp_bad_csum);
        return 0;
    }
    size_t off = (size_t)(p[12] >> 4) * 4;
    g->sport = get_be16(p);
    g->dport = get_be16(p + 2);
    if (off < TCP_HLEN || off > len || !g->sport || !g->dport) {
        NET_COUNT(s, tcp_bad_hdr);
        return 0;
    }
    g->seq = get_be32(p + 4);
    g->ack = get_be32(p + 8);
    g->flags = p[13] & 0x3F;
    g->wnd = get_be16(p + 14);
    g->data = p + off;
    g->len = (uint16_t)(len - off);
    g->mss = 0;
    /* Options: kind 0 ends, kind 1 pads, others carry a length >= 2 that
     * must stay inside the header; MSS must be 4 long. Unknown skipped. */
    for (size_t i = TCP_HLEN; i < off;) {
        uint8_t kind = p[i];
        if (kind == 0)
            break;
        if (kind == 1) {
            i++;
            continue;
        }
        if (i + 1 >= off || p[i + 1] < 2 || i + p[i + 1] > off || (kind == 2 && p[i + 1] != 4)) {
            NET_COUNT(s, tcp_bad_opt);
            return 0;
        }
        if (kind == 2)
            g->mss = get_be16(p + i + 2);
        i += p[i + 1];
    }
    /* Flag mixes no valid TCP sends: SYN+FIN, SYN+RST, none at all. */
    uint8_t f = g->flags;
    if ((f & (SYN | FIN)) == (SYN | FIN) || (f & (SYN | RST)) == (SYN | RST) || !(f & 0x3F)) {
        NET_COUNT(s, tcp_bad_flags);
        return 0;
    }
    return 1;
}

static const struct tcp_listener *find_listener(const struct net_stack *s, uint16_t port)
{
    for (const struct tcp_listener *l = s->lst; l < s->lst + TCP_MAX_LISTENERS; l++)
        if (l->port && l->port == port)
            return l;
    return NULL;
}

/* LISTEN (3.10.7.2). Returns a connection only when an ACK completed a
 * SYN-cookie handshake: the caller then processes the rest of it.
 * iss_floor: nonzero when the SYN reopens a TIME-WAIT (our ISS above it). */
static struct tcp_conn *listen_input(struct net_stack *s, uint32_t src, const struct seg *g,
                                     const struct tcp_listener *l, uint32_t iss_floor)
{
    if (g->flags & RST) /* an incoming RST is ignored */
        return NULL;
    if (g->flags & ACK) { /* bad here, unless it carries our cookie */
        struct tcp_conn *c = (g->flags & SYN) ? NULL : cookie_accept(s, src, g, l);
        if (!c)
            reply_rst(s, src, g); /* <SEQ=SEG.ACK><CTL=RST> */
        return c;
    }
    if (!(g->flags & SYN))
        return NULL;
    if (!conn_alloc(s, 0)) { /* full of live connections: the peer retries */
        NET_COUNT(s, tcp_no_conn);
        return NULL;
    }
    if (half_open(s) >= TCP_MAX_HALF_OPEN) { /* a SYN flood cannot fill the table */
        send_cookie(s, src, g);
        return NULL;
    }
    struct tcp_conn *c = conn_alloc(s, 1);
    conn_start(s, c, src, g->dport, g->sport, l->app);
    if (iss_floor && seq_le(c->snd_una, iss_floor)) { /* reopened TIME-WAIT */
        c->snd_una = iss_floor + TCP_WND;              /* past the old window */
        c->snd_nxt = c->snd_una + 1;
    }
    c->flags = F_PASSIVE;
    c->rcv_nxt = g->seq + 1; /* IRS = SEG.SEQ; data in the SYN is not taken */
    c->snd_wnd = g->wnd;
    set_mss(c, g->mss);
    set_state(s, c, TCP_SYN_RECEIVED);
    send_conn(s, c, c->snd_una, SYN, 0);
    return NULL;
}

static void syn_sent_input(struct net_stack *s, struct tcp_conn *c, uint32_t src,
                           const struct seg *g)
{
    /* iss == snd_una here: an acceptable ACK acknowledges our SYN. */
    int ack_ok = 0;
    if (g->flags & ACK) {
        if (seq_le(g->ack, c->snd_una) || seq_gt(g->ack, c->snd_nxt)) {
            reply_rst(s, src, g); /* not for this incarnation */
            return;
        }
        ack_ok = 1;
    }
    if (g->flags & RST) {
        if (ack_ok) { /* "error: connection reset" */
            NET_COUNT(s, tcp_rst_in);
            conn_free(s, c, TCP_EV_REFUSED);
        }
        return;
    }
    if (!(g->flags & SYN))
        return;
    c->rcv_nxt = g->seq + 1;
    c->snd_wnd = g->wnd;
    set_mss(c, g->mss);
    if (ack_ok) {
        c->snd_una = g->ack;
        rtt_on_ack(c);
        c->timer = 0;
        c->nrtx = 0;
        set_state(s, c, TCP_ESTABLISHED);
        c->flags |= F_ACK_NOW;
        app_event(s, c, TCP_EV_CONNECTED);
    } else { /* simultaneous open: <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK> */
        set_state(s, c, TCP_SYN_RECEIVED);
        c->nrtx = 0;
        c->timer = rto(c);
        send_conn(s, c, c->snd_una, SYN, 0);
    }
}

/* The four cases of RFC 9293 3.10.7.4 "first, check sequence number". A
 * segment of length 0 may also sit exactly at the right edge, as Linux and
 * the BSDs take it: a peer whose segment filling our window was lost sends
 * its ACKs there, and refusing them made us resend data already acked. */
static int seq_acceptable(const struct tcp_conn *c, const struct seg *g, uint32_t seg_len)
{
    uint32_t wnd = c->rcv_wnd, end = c->rcv_nxt + wnd;
    if (seg_len == 0)
        return seq_in(g->seq, c->rcv_nxt, end + 1);
    if (wnd == 0) /* a FIN exactly at RCV.NXT is taken even so, as Linux does:
                     it needs no buffer, and refusing it only delays the close */
        return g->len == 0 && (g->flags & FIN) && g->seq == c->rcv_nxt;
    return seq_in(g->seq, c->rcv_nxt, end) || seq_in(g->seq + seg_len - 1, c->rcv_nxt, end);
}

/* RFC 5961 challenge ACK: <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>, built from
 * our own variables, never from the offending segment. */
static void challenge_ack(struct net_stack *s, struct tcp_conn *c)
{
    /* RFC 5961 7: a rate limit. Its budget is drawn anew each second
     * between 1/2 and 3/2 of TCP_CHALLENGE_PER_S: with a fixed budget
     * shared by all connections, an off-path attacker could count the
     * challenge ACKs left on its own connection to learn whether its
     * spoofed RSTs fell inside another one's window (CVE-2016-5696). */
    if (s->now - s->challenge_start >= 1000) {
        s->challenge_start = s->now;
        s->challenges = (uint16_t)(TCP_CHALLENGE_PER_S / 2 +
                                   net_siphash_tuple(s->isn_key, s->now, 0, c->rip, c->rport) %
                                       (TCP_CHALLENGE_PER_S + 1));
    }
    if (!s->challenges) {
        NET_COUNT(s, tcp_challenge_limited);
        return;
    }
    s->challenges--;
    NET_COUNT(s, tcp_challenge);
    c->flags |= F_ACK_NOW;
}

/* Fifth step: the ACK field. Returns 0 when the segment is to be dropped. */
static int ack_input(struct net_stack *s, struct tcp_conn *c, uint32_t src, const struct seg *g)
{
    if (c->state == TCP_SYN_RECEIVED) {
        if (!seq_in(g->ack, c->snd_una + 1, c->snd_nxt + 1)) {
            reply_rst(s, src, g); /* <SEQ=SEG.ACK><CTL=RST> */
            return 0;
        }
        c->snd_una = g->ack;
        c->snd_wnd = g->wnd;
        rtt_on_ack(c);
        c->timer = 0;
        c->nrtx = 0;
        set_state(s, c, TCP_ESTABLISHED);
        app_event(s, c, TCP_EV_CONNECTED);
        return c->state != TCP_CLOSED;
    }
    /* RFC 5961 5.2: acceptable if SND.UNA - MAX.SND.WND <= SEG.ACK <=
     * SND.NXT; MAX.SND.WND is bounded by 65535 without window scaling. */
    if (seq_gt(g->ack, c->snd_nxt) || seq_lt(g->ack, c->snd_una - 0xFFFFu)) {
        NET_COUNT(s, tcp_bad_ack);
        c->flags |= F_ACK_NOW; /* "send an ACK, drop the segment" */
        return 0;
    }
    if (seq_lt(g->ack, c->snd_una))
        return 1; /* an old duplicate: ignore the ACK and its window */

    uint32_t acked = g->ack - c->snd_una;
    if (acked == 0) {
        /* Duplicate ACK (RFC 5681 2): no data, no SYN/FIN, same window,
         * data outstanding. Three start fast retransmit. */
        if (!g->len && !(g->flags & (SYN | FIN)) && g->wnd == c->snd_wnd &&
            c->snd_nxt != c->snd_una) {
            if (c->dupacks < 15)
                c->dupacks++;
            if (c->dupacks == 3) { /* fast retransmit, then fast recovery (3.2) */
                set_cwnd(c, on_loss(c) + 3u * c->mss);
                retransmit(s, c);
            } else if (c->dupacks > 3) {
                set_cwnd(c, c->cwnd + (uint32_t)c->mss);
            }
        }
        if (c->snd_wnd == 0 || g->wnd == 0)
            c->flags |= F_PROBE_ACKED;
        c->snd_wnd = g->wnd;
        return 1;
    }

    /* New data acknowledged. */
    int was_retransmitted = c->nrtx != 0;
    rtt_on_ack(c);
    uint32_t ssthresh = c->ssthresh_mss == 15 ? 0xFFFF : (uint32_t)c->ssthresh_mss * c->mss;
    if (c->dupacks >= 3) /* leaving fast recovery: deflate */
        set_cwnd(c, ssthresh);
    else if (c->cwnd < ssthresh) /* slow start */
        set_cwnd(c, c->cwnd + min32(acked, c->mss));
    else /* congestion avoidance */
        set_cwnd(c, c->cwnd + (uint32_t)c->mss * c->mss / c->cwnd + 1);
    c->dupacks = 0;
    c->nrtx = 0;
    int fin_acked = fin_sent(c) && g->ack == c->snd_nxt;
    uint32_t data = min32(acked, c->tx_len);
    c->tx_len = (uint16_t)(c->tx_len - data);
    c->snd_una = g->ack;
    c->snd_wnd = g->wnd;
    c->timer = c->snd_una == c->snd_nxt ? 0 : rto(c);
    if (was_retransmitted && c->snd_una != c->snd_nxt)
        retransmit(s, c); /* partial ACK after a loss: repair the next hole */
    if (fin_acked) {
        if (c->state == TCP_FIN_WAIT_1) {
            set_state(s, c, TCP_FIN_WAIT_2);
            c->timer = TICKS(2 * TCP_MSL_MS);
        } else if (c->state == TCP_CLOSING) {
            set_state(s, c, TCP_TIME_WAIT);
            c->timer = TICKS(2 * TCP_MSL_MS);
            app_event(s, c, TCP_EV_CLOSED); /* as FIN-WAIT-2 -> TIME-WAIT does */
        } else if (c->state == TCP_LAST_ACK) {
            conn_free(s, c, TCP_EV_CLOSED);
            return 0;
        }
    }
    if (data && c->state != TCP_TIME_WAIT)
        app_event(s, c, TCP_EV_SENT);
    return c->state != TCP_CLOSED;
}

/* Seventh and eighth steps: segment text and FIN. */
static void text_fin_input(struct net_stack *s, struct tcp_conn *c, struct seg *g)
{
    int fin = g->flags & FIN;
    if (g->len || fin) {
        if (g->seq != c->rcv_nxt) { /* out of order: immediate duplicate ACK */
            NET_COUNT(s, tcp_ooo);
            c->flags |= F_ACK_NOW;
            return;
        }
    }
    if (c->state == TCP_FIN_WAIT_2) /* the peer is alive: keep waiting for its FIN */
        c->timer = TICKS(2 * TCP_MSL_MS);
    if (g->len && can_recv(c)) {
        const struct tcp_app *app = s->apps[c->app];
        size_t took = g->len;
        if (app && app->recv)
            took = app->recv(s, conn_id(s, c), g->data, g->len);
        if (c->state == TCP_CLOSED)
            return; /* the application aborted */
        if (took > g->len)
            took = g->len;
        c->rcv_nxt += (uint32_t)took;
        c->rcv_wnd = (uint16_t)(c->rcv_wnd > took ? c->rcv_wnd - took : 0);
        if (took < g->len) {
            fin = 0; /* the FIN comes after bytes we did not take */
            c->flags |= F_ACK_NOW;
        } else if (g->len >= seg_size(c) && (c->flags & F_ONE_FULL)) {
            c->flags |= F_ACK_NOW; /* every second full-sized segment */
        } else {
            if (g->len >= seg_size(c))
                c->flags |= F_ONE_FULL;
            delay_ack(s, c);
        }
    } else if (g->len) {
        fin = 0; /* text after the peer's FIN is ignored (CLOSE-WAIT, ...) */
    }
    if (!fin)
        return;
    if (c->state == TCP_TIME_WAIT) { /* a retransmitted FIN: ACK, restart 2*MSL */
        c->flags |= F_ACK_NOW;
        c->timer = TICKS(2 * TCP_MSL_MS);
        return;
    }
    if (c->state == TCP_CLOSE_WAIT || c->state == TCP_CLOSING || c->state == TCP_LAST_ACK) {
        c->flags |= F_ACK_NOW; /* already have it */
        return;
    }
    c->rcv_nxt++;
    c->flags |= F_ACK_NOW;
    if (c->state == TCP_ESTABLISHED) {
        set_state(s, c, TCP_CLOSE_WAIT);
    } else if (c->state == TCP_FIN_WAIT_1) { /* simultaneous close */
        set_state(s, c, TCP_CLOSING);
    } else if (c->state == TCP_FIN_WAIT_2) {
        set_state(s, c, TCP_TIME_WAIT);
        c->timer = TICKS(2 * TCP_MSL_MS);
        app_event(s, c, TCP_EV_CLOSED);
        return;
    }
    app_event(s, c, TCP_EV_PEER_CLOSED);
}

static void conn_input(struct net_stack *s, struct tcp_conn *c, uint32_t src, struct seg *g)
{
    uint32_t seg_len = g->len + !!(g->flags & SYN) + !!(g->flags & FIN);

    if (c->state == TCP_SYN_RECEIVED && (g->flags & SYN) && g->seq + 1 == c->rcv_nxt) {
        /* The peer's SYN again: our SYN-ACK was lost. Answer with the
         * SYN-ACK at once rather than a bare ACK. */
        if (!(g->flags & ACK)) {
            send_conn(s, c, c->snd_una, SYN, 0);
            return;
        }
        /* Simultaneous open: the peer's SYN,ACK repeats its SYN and ACKs
         * ours (RFC 9293 figure 8, line 5): take it as that ACK. */
        g->flags &= (uint8_t)~SYN;
        g->seq++;
        seg_len--;
    }
    /* First: sequence number. */
    if (!seq_acceptable(c, g, seg_len)) {
        if (g->flags & RST)
            return;
        if ((g->flags & SYN) && c->state >= TCP_ESTABLISHED) {
            challenge_ack(s, c); /* RFC 5961 4.2: "irrespective of the sequence number" */
            return;
        }
        NET_COUNT(s, tcp_bad_seq);
        /* With our window at zero nothing is acceptable, "but special
         * allowance should be made to accept valid ACKs": the peer's
         * window probes carry them. */
        if (c->rcv_wnd == 0 && (g->flags & (ACK | SYN)) == ACK && c->state >= TCP_ESTABLISHED &&
            !ack_input(s, c, src, g))
            return;
        c->flags |= F_ACK_NOW; /* <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> */
        if (c->state == TCP_TIME_WAIT && (g->flags & FIN))
            c->timer = TICKS(2 * TCP_MSL_MS); /* retransmitted FIN: restart 2*MSL */
        return;
    }
    /* Trim what lies before RCV.NXT (an old SYN, old bytes). */
    if (seq_lt(g->seq, c->rcv_nxt)) {
        uint32_t skip = c->rcv_nxt - g->seq;
        if (g->flags & SYN) {
            g->flags &= (uint8_t)~SYN;
            skip--;
            g->seq++;
        }
        skip = min32(skip, g->len);
        g->data += skip;
        g->len = (uint16_t)(g->len - skip);
        g->seq += skip;
    }
    /* ... and what lies past the window (with a FIN there). */
    uint32_t room = c->rcv_nxt + c->rcv_wnd - g->seq;
    if (seq_gt(g->seq + g->len, c->rcv_nxt + c->rcv_wnd)) {
        g->len = (uint16_t)min32(g->len, seq_lt(g->seq, c->rcv_nxt + c->rcv_wnd) ? room : 0);
        g->flags &= (uint8_t)~FIN;
    }
    /* Second: RST (RFC 5961 3.2): exact match resets, in-window challenges. */
    if (g->flags & RST) {
        if (g->seq != c->rcv_nxt) {
            challenge_ack(s, c);
            return;
        }
        NET_COUNT(s, tcp_rst_in);
        if (c->state == TCP_SYN_RECEIVED) /* passive: back to LISTEN */
            conn_free(s, c, (c->flags & F_PASSIVE) ? -1 : TCP_EV_REFUSED);
        else if (c->state >= TCP_CLOSING) /* CLOSING, LAST-ACK, TIME-WAIT */
            conn_free(s, c, c->state == TCP_TIME_WAIT ? -1 : TCP_EV_CLOSED);
        else
            conn_free(s, c, TCP_EV_RESET);
        return;
    }
    /* Fourth: SYN. In a passive SYN-RECEIVED the peer started over: back
     * to LISTEN (3.10.7.4); in a synchronized state, a challenge ACK
     * (RFC 5961 4). */
    if (g->flags & SYN) {
        if (c->state == TCP_SYN_RECEIVED && (c->flags & F_PASSIVE))
            conn_free(s, c, -1);
        else
            challenge_ack(s, c);
        return;
    }
    /* Fifth: ACK. */
    if (!(g->flags & ACK))
        return;
    if (!ack_input(s, c, src, g))
        return;
    text_fin_input(s, c, g);
}

void tcp_input(struct net_stack *s, uint32_t src, uint32_t dst, const uint8_t *seg, size_t len)
{
    struct seg g;
    tcp_timers(s);
    if (!parse(s, src, dst, seg, len, &g))
        return;
    NET_COUNT(s, tcp_seg_in);
    struct tcp_conn *c = s->conn;
    for (; c < s->conn + TCP_MAX_CONNS; c++)
        if (c->state != TCP_CLOSED && c->rip == src && c->rport == g.sport && c->lport == g.dport)
            break;
    if (c == s->conn + TCP_MAX_CONNS)
        c = NULL;
    struct net_trace t = {.kind = NET_TRACE_SEG_IN, .id = (int8_t)(c ? conn_id(s, c) : -1),
                          .flags = g.flags, .wnd = g.wnd, .len = g.len, .seq = g.seq,
                          .ack = g.ack};
    trace(s, &t);
    /* RFC 1122 4.2.2.13: on a listening port, a new SYN above the old
     * sequence space may reopen a connection in TIME-WAIT; our new ISS must
     * then lie above the old connection's sequence numbers too (RFC 9293
     * 3.6.1). Elsewhere the SYN gets the challenge ACK of RFC 5961 4. */
    const struct tcp_listener *l = NULL;
    uint32_t iss_floor = 0; /* 0: none */
    if (c && c->state == TCP_TIME_WAIT && (g.flags & (SYN | ACK)) == SYN &&
        seq_gt(g.seq, c->rcv_nxt) && (l = find_listener(s, g.dport)) != NULL) {
        iss_floor = c->snd_nxt | 1; /* odd: never 0 */
        conn_free(s, c, -1);
        c = NULL;
    }
    if (!c) {
        if (!l && !(l = find_listener(s, g.dport))) {
            reply_rst(s, src, &g); /* CLOSED: no connection, no listener */
            return;
        }
        c = listen_input(s, src, &g, l, iss_floor);
        if (!c)
            return;
    }
    s->tcp_busy = c;
    if (c->state == TCP_SYN_SENT)
        syn_sent_input(s, c, src, &g);
    else
        conn_input(s, c, src, &g);
    s->tcp_busy = NULL;
    if (c->state != TCP_CLOSED)
        tcp_output(s, c);
}

/* --- application API --- */

/* Application calls arm timers: bring the tick base up to date first. */
static struct tcp_conn *conn_get(struct net_stack *s, int id)
{
    tcp_timers(s);
    if (id < 0 || id >= TCP_MAX_CONNS || s->conn[id].state == TCP_CLOSED)
        return NULL;
    return &s->conn[id];
}

void tcp_init(struct net_stack *s)
{
    memset(s->conn, 0, sizeof s->conn);
    memset(s->lst, 0, sizeof s->lst);
    s->tcp_last_tick = s->now;
}

int tcp_listen(struct net_stack *s, uint16_t port, const struct tcp_app *app)
{
    struct tcp_listener *free_slot = NULL;
    if (!port || !app)
        return TCP_ERR_ARG;
    for (struct tcp_listener *l = s->lst; l < s->lst + TCP_MAX_LISTENERS; l++) {
        if (l->port == port)
            return TCP_ERR_STATE;
        if (!l->port && !free_slot)
            free_slot = l;
    }
    int a = app_slot(s, app);
    if (!free_slot || a < 0)
        return TCP_ERR_FULL;
    free_slot->port = port;
    free_slot->app = (uint8_t)a;
    return 0;
}

int tcp_connect(struct net_stack *s, uint32_t ip, uint16_t port, const struct tcp_app *app)
{
    if (!ip || !port || !app || ip == s->cfg.ip)
        return TCP_ERR_ARG;
    int a = app_slot(s, app);
    if (a < 0)
        return TCP_ERR_FULL;
    tcp_timers(s);
    struct tcp_conn *c = conn_alloc(s, 1);
    if (!c)
        return TCP_ERR_FULL;
    /* Ephemeral port (RFC 6056 spirit): keyed hash, then the next free one. */
    uint16_t lport = (uint16_t)(49152u + (net_siphash_tuple(s->isn_key, s->now, port, ip, 0) & 0x3FFF));
    for (int again = 1; again;) {
        again = 0;
        for (struct tcp_conn *o = s->conn; o < s->conn + TCP_MAX_CONNS; o++)
            if (o->state != TCP_CLOSED && o->lport == lport) {
                lport = (uint16_t)(lport == 0xFFFF ? 49152 : lport + 1);
                again = 1;
            }
    }
    conn_start(s, c, ip, lport, port, (uint8_t)a);
    set_mss(c, 0);
    c->rcv_wnd = 0;
    set_state(s, c, TCP_SYN_SENT);
    send_conn(s, c, c->snd_una, SYN, 0);
    return conn_id(s, c);
}

/* ARP has just answered for ip: the segment that asked (a SYN, or a
 * retransmission after the entry aged out) was dropped; send it now. */
void tcp_arp_resolved(struct net_stack *s, uint32_t ip)
{
    for (struct tcp_conn *c = s->conn; c < s->conn + TCP_MAX_CONNS; c++)
        if (c->rip == ip && c->state != TCP_CLOSED && c->snd_nxt != c->snd_una)
            retransmit(s, c);
}

size_t tcp_send_space(const struct net_stack *s, int id)
{
    const struct tcp_conn *c = id >= 0 && id < TCP_MAX_CONNS ? &s->conn[id] : NULL;
    if (!c || c->state == TCP_CLOSED || (c->flags & F_FIN_QUEUED) || c->state > TCP_CLOSE_WAIT || c->state == TCP_FIN_WAIT_1 ||
        c->state == TCP_FIN_WAIT_2)
        return 0;
    return TCP_TXBUF - c->tx_len;
}

size_t tcp_send(struct net_stack *s, int id, const void *data, size_t len)
{
    struct tcp_conn *c = conn_get(s, id);
    if (!c || (c->state != TCP_ESTABLISHED && c->state != TCP_CLOSE_WAIT) || (c->flags & F_FIN_QUEUED))
        return 0;
    size_t n = TCP_TXBUF - c->tx_len;
    if (n > len)
        n = len;
    ring_write(s->txbuf[id], c->snd_una + c->tx_len, data, (uint32_t)n);
    c->tx_len = (uint16_t)(c->tx_len + n);
    tcp_output(s, c);
    return n;
}

int tcp_close(struct net_stack *s, int id)
{
    struct tcp_conn *c = conn_get(s, id);
    if (!c)
        return TCP_ERR_ARG;
    switch (c->state) {
    case TCP_SYN_SENT: /* nothing sent that needs a FIN */
        conn_free(s, c, TCP_EV_CLOSED);
        return 0;
    case TCP_SYN_RECEIVED:
        return tcp_abort(s, id);
    case TCP_ESTABLISHED:
        set_state(s, c, TCP_FIN_WAIT_1);
        break;
    case TCP_CLOSE_WAIT:
        set_state(s, c, TCP_LAST_ACK);
        break;
    default:
        return TCP_ERR_STATE; /* already closing */
    }
    c->flags |= F_FIN_QUEUED;
    tcp_output(s, c);
    return 0;
}

int tcp_abort(struct net_stack *s, int id)
{
    struct tcp_conn *c = conn_get(s, id);
    if (!c)
        return TCP_ERR_ARG;
    if (c->state != TCP_SYN_SENT && c->state != TCP_TIME_WAIT)
        conn_rst(s, c);
    /* TIME-WAIT already told the application CLOSED */
    conn_free(s, c, c->state == TCP_TIME_WAIT ? -1 : TCP_EV_CLOSED);
    return 0;
}

void tcp_window_changed(struct net_stack *s, int id)
{
    struct tcp_conn *c = conn_get(s, id);
    if (c)
        tcp_output(s, c);
}

enum tcp_state tcp_get_state(const struct net_stack *s, int id)
{
    return (id < 0 || id >= TCP_MAX_CONNS) ? TCP_CLOSED : (enum tcp_state)s->conn[id].state;
}

const char *tcp_state_name(enum tcp_state st)
{
    static const char names[TCP_NUM_STATES][13] = {
        "CLOSED",      "LISTEN",     "SYN-SENT",   "SYN-RECEIVED", "ESTABLISHED", "FIN-WAIT-1",
        "FIN-WAIT-2",  "CLOSE-WAIT", "CLOSING",    "LAST-ACK",     "TIME-WAIT"};
    return (unsigned)st < TCP_NUM_STATES ? names[st] : "?";
}

void tcp_set_ctx(struct net_stack *s, int id, void *ctx)
{
    if (id >= 0 && id < TCP_MAX_CONNS)
        s->app_ctx[id] = ctx;
}

void *tcp_get_ctx(const struct net_stack *s, int id)
{
    return (id >= 0 && id < TCP_MAX_CONNS) ? s->app_ctx[id] : NULL;
}
