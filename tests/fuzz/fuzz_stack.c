/* libFuzzer target: the whole stack (Ethernet, ARP, IPv4/ICMP, TCP, the
 * echo/discard/chargen services and the console) in one host instance, fed
 * a SEQUENCE of frames, time steps and application calls per input, with
 * the stack's invariants checked after every step.
 *
 * Build and run: `make fuzz` (FUZZ_TIME s, default 300; new inputs go to
 * build/fuzz/corpus, the first crash to tests/fuzz/crashes/; FUZZ_FLAGS adds
 * libFuzzer flags, e.g. "-fork=2 -ignore_crashes=1" to go on after crashes),
 * `make test-fuzz` (a short fixed-seed pass over tests/fuzz/corpus and the
 * saved crashes, which stay there as regression inputs once fixed).
 * Reproduce a crash: build/fuzz/fuzz_stack tests/fuzz/crashes/<file>.
 * Environment: FUZZ_TRACE=1 prints every step, the stack's trace and the
 * connection table (2: the console's output too), for reading a crash;
 * FUZZ_SKIP="text|text" counts violations whose message contains a text
 * instead of aborting, and ends that input there (to fuzz on past a known
 * bug); make passes it on.
 * The seed corpus comes from captures of real runs: tests/fuzz/pcap2seed.py.
 *
 * The stack is 192.168.7.2/24 at 02:00:00:12:34:56, no gateway; the peer
 * is mostly 192.168.7.1 at 02:00:00:00:00:01 (its ARP entry primed at the
 * start), sometimes 192.168.7.3 (learned from its frames) or 10.0.0.9
 * (off-subnet: replies have no route). Listeners: 7 echo, 9 discard,
 * 19 chargen (services_init) and 5000 (the fuzz application, which also
 * makes the active opens, to peer ports 40000..40007).
 *
 * ---- Input format ----
 * A sequence of records [op][len][len bytes]; len 255 is followed by a
 * 2-byte big-endian length. A short last record gets the bytes that are
 * left; fields past the end of a record read as 0. Multi-byte fields are
 * big-endian.
 *
 * op bits 4-7: time step before the record, STEP_MS[op >> 4] ms (0: none);
 *              a step runs net_poll at the new time.
 * op bits 0-3: kind:
 *   0, 8..15 TCP  a segment from the peer, checksums fixed here:
 *        [0] flags: bits 0-5 TCP flags, bit 6 seq/ack absolute (else
 *            relative, see below), bit 7 also set ECE|CWR
 *        [1] target: bits 0-2 peer port 40000+n; bits 3-5 our port: 0 echo
 *            7, 1 discard 9, 2 chargen 19, 3 fuzz app 5000, 4 closed port
 *            1234, 5 the local port of the live connection to that peer
 *            port (active opens), 6-7 the whole tuple of connection slot n;
 *            bits 6-7 source: 0-1 192.168.7.1, 2 192.168.7.3, 3 10.0.0.9
 *        [2-5] seq, [6-9] ack: when the tuple names a live connection and
 *            bit 6 of [0] is clear, seq = RCV.NXT + [2-5] and
 *            ack = SND.NXT + [6-9] (mod 2^32): 0/0 is the in-order segment
 *            acknowledging everything; otherwise absolute
 *        [10-11] window  [12] options: 1 MSS, 2 MSS + SACK-permitted +
 *            timestamps + window scale (as Linux), 3 [13] % 41 raw option
 *            bytes taken from the payload bytes, else none
 *        [13-14] MSS value  [15-16] payload length (mod 1461, trimmed to fit
 *            the frame)  [17] twist: 1 IP options, 2 Ethernet padding,
 *            3 trailing bytes past the IP total length, 4 MF (a fragment),
 *            5 bad TCP checksum, 6 bad IP checksum, 7 TOS/TTL odd, else none
 *        [18-19] urgent pointer  [20..] payload bytes, repeated to the
 *            payload length (a pattern when there are none)
 *   1 TIME  [0-1] step ms (0: TCP_TICK_MS), [2] polls - 1, [3] jump: first
 *        advance [3] * 65536 ms without polling
 *   2 APP   [0] action, [1] id (= [1] % 10 - 1: -1..8), then by action % 8:
 *        0 tcp_connect(peer [2] as in TCP [1] bits 6-7, port 40000 + [3] % 8)
 *        1 tcp_send([2-3] % 2048 bytes: [4..] repeated)  2 tcp_close
 *        3 tcp_abort  4 tcp_window_changed
 *        5 app behaviour of id (or of every id when id is -1): [2] recv
 *          takes 0 all, 1 none, 2 half, 3 one byte; [3] window: 0 TCP_WND,
 *          1 zero, 2 one byte, 3 tx space, else [3] * 64; [4] bits: 0 echo
 *          what it takes, 1 close on peer close, 2 abort on peer close,
 *          3 abort inside recv, 4 reconnect on a final event, 5 send on
 *          CONNECTED
 *        6 queries (tcp_send_space, tcp_get_state, tcp_state_name, ctx)
 *        7 [2] % 4: 0 trace hook = the console's own (its connection events
 *          print; state transitions are then sampled), 1 the harness's
 *          (exact transitions), 2 net_add_entropy([3..]), 3 tcp_listen
 *          on port [3-4] (errors expected for 0 and taken ports)
 *   3 ARP   [0] op: 1 request, 2 reply, else [0] as is; [1] sender IP,
 *        [2] target IP, [3] sender MAC, [4] Ethernet destination (small
 *        selectors), [5] nonzero: xor [6] into byte [5] % 28 of the ARP packet
 *   4 ICMP  [0] source as TCP [1] bits 6-7, [1] type, [2] code,
 *        [3-4] id, [5-6] seq, [7-8] data length % 1473, [9] 1: bad checksum,
 *        [10..] data, repeated
 *   5 RAWIP the bytes are an IPv4 datagram from the peer: an Ethernet
 *        header is put in front and the IPv4 header checksum and the
 *        TCP/ICMP checksum are fixed when the lengths allow
 *   6 RAW   the bytes are a whole Ethernet frame, sent as they are
 *   7 CONSOLE the bytes are typed on the console (e.g. "connect
 *        192.168.7.1 40000\r")
 *
 * ---- Checked after every step (abort() on violation) ----
 * Connection table: state < TCP_NUM_STATES; CLOSED slots all zero but the
 * app index, and no user pointer; no two live connections share a 4-tuple;
 * tx_len <= TCP_TXBUF; SND.UNA <= SND.NXT <= SND.UNA + tx_len + 1 (mod
 * 2^32); rcv_wnd <= 65535; mss 1..TCP_MSS; live app index in range; a
 * connection that can still hang (handshake, closing states, data in
 * flight or waiting) has a timer running; a delayed ACK is scheduled.
 * State transitions (from the trace) are ones of RFC 9293's diagram (plus
 * "to CLOSED" on reset, abort and timeouts). The listener table never
 * changes. Counters never go down; rx_frames counts every net_input and
 * tx_frames every frame handed to the tx callback. Every emitted frame is
 * well-formed: length 60..1514, our source MAC, ARP or IPv4 (IHL 5, DF,
 * TTL 64, header checksum, our source address, zero padding) with a valid
 * TCP (checksum, offset, flags, MSS option only on SYN, seq/ack within the
 * connection's window of what it sent) or ICMP echo reply. The fuzz
 * application sees the event protocol of tcp.h: events only for open
 * ids, exactly one final event per connection, CONNECTED in ESTABLISHED.
 * ASan and UBSan watch every buffer and every operation; frames and
 * application data are copied to buffers of exactly their size.
 *
 * States and transitions reached (over the whole run) are printed at
 * exit. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "console.h"
#include "net_priv.h"
#include "services.h"
#include "tcp.h"
#include "tcp_seq.h"

/* Harness helpers that loop over bytes are kept out of the coverage
 * instrumentation: their comparisons tell the fuzzer nothing and cost most
 * of the run time. ASan still checks their memory accesses. */
#define NOCOV __attribute__((no_sanitize("coverage"), noinline))

#define OUR_IP 0xC0A80702u
#define NETMASK 0xFFFFFF00u
#define PEER1 0xC0A80701u
#define PEER3 0xC0A80703u
#define FARPEER 0x0A000009u /* off-subnet, no gateway */
#define FUZZ_PORT 5000
#define CLOSED_PORT 1234
#define PEER_PORT0 40000

#define F_FIN 0x01
#define F_SYN 0x02
#define F_RST 0x04
#define F_PSH 0x08
#define F_ACK 0x10
#define F_URG 0x20

/* tcp.c's private connection flags we look at (keep in step with tcp.c). */
#define CF_ACK_DELAYED 0x01

#define MAX_POLLS 4096 /* per input: keeps every run fast */

static const uint8_t our_mac[6] = { 0x02, 0x00, 0x00, 0x12, 0x34, 0x56 };
static const uint8_t peer1_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
static const uint8_t peer3_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x03 };
static const uint8_t router_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0xFE };
static const uint32_t STEP_MS[16] = { 0,   1,    3,    8,     20,    40,     100,    199,
                                      201, 500, 1000, 3000, 10000, 60000, 120001, 240001 };

static struct net_stack S;
static struct console con;
static uint32_t now;
static int npolls;
static int verbose;
static unsigned long step_no;

static net_trace_fn console_hook; /* the console's trace hook */

/* ---------------------------------------------------------------- report */

static void dump_conns(void)
{
    for (int i = 0; i < TCP_MAX_CONNS; i++) {
        const struct tcp_conn *c = &S.conn[i];
        fprintf(stderr,
                "  conn %d %-12s rip=%08x %u->%u una=%u nxt=%u rcv=%u tx_len=%u wnd=%u rcv_wnd=%u "
                "timer=%u flags=%02x nrtx=%u app=%u\n",
                i, tcp_state_name((enum tcp_state)c->state), c->rip, c->lport, c->rport, c->snd_una,
                c->snd_nxt, c->rcv_nxt, c->tx_len, c->snd_wnd, c->rcv_wnd, c->timer, c->flags,
                c->nrtx, c->app);
    }
}

/* FUZZ_SKIP="text|text...": violations whose message contains one of the
 * texts are counted (reported at exit) instead of aborting, to fuzz on past
 * a known bug while it is being fixed. */
static const char *skip_list;
static unsigned long skipped;
/* A violation was skipped: the state is not trusted any more, so the rest
 * of the step only runs (violations counted) and the input ends there. */
static int skipping;

__attribute__((format(printf, 1, 2))) static void fail(const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (skipping) {
        skipped++;
        return;
    }
    for (const char *p = skip_list; p && *p;) {
        const char *e = strchr(p, '|');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        for (const char *m = msg; n && *m; m++)
            if (strncmp(m, p, n) == 0) {
                if (!skipped++)
                    fprintf(stderr, "fuzz_stack: skipping (FUZZ_SKIP): %s\n", msg);
                skipping = 1;
                return;
            }
        p += n + (e != NULL);
    }
    fprintf(stderr, "\n*** INVARIANT VIOLATED at step %lu (now=%u ms): %s\n", step_no, now, msg);
    dump_conns();
    abort();
}
#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond))                                                                               \
            fail(__VA_ARGS__);                                                                     \
    } while (0)

static uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static void wr16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}
static void wr32(uint8_t *p, uint32_t v)
{
    wr16(p, (uint16_t)(v >> 16));
    wr16(p + 2, (uint16_t)v);
}

/* Independent of the stack's checksum code: the plain RFC 1071 loop. */
NOCOV static uint32_t sum16(uint32_t s, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        s += be16(p + i);
    if (n & 1)
        s += (uint32_t)p[n - 1] << 8;
    return s;
}
NOCOV static uint16_t fold(uint32_t s)
{
    while (s >> 16)
        s = (s & 0xFFFF) + (s >> 16);
    return (uint16_t)~s;
}
static uint32_t pseudo(uint32_t src, uint32_t dst, uint8_t proto, size_t len)
{
    return (src >> 16) + (src & 0xFFFF) + (dst >> 16) + (dst & 0xFFFF) + proto + (uint32_t)len;
}

/* Read every byte (ASan checks the length a callback was given). */
NOCOV static void touch(const void *p, size_t n)
{
    const volatile uint8_t *b = p;
    uint8_t x = 0;
    for (size_t i = 0; i < n; i++)
        x ^= b[i];
    (void)x;
}

/* n bytes at seq in the ring equal g? */
NOCOV static int ring_equal(const uint8_t *ring, uint32_t seq, const uint8_t *g, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (g[i] != ring[(seq + i) & (TCP_TXBUF - 1)])
            return 0;
    return 1;
}

NOCOV static int all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return 0;
    return 1;
}

/* ------------------------------------------------------- state coverage */

static uint16_t seen_states;                           /* bit per state */
static uint8_t seen_trans[TCP_NUM_STATES][TCP_NUM_STATES];
static uint8_t shadow[TCP_MAX_CONNS];                  /* state as last seen */
static uint8_t last_live[TCP_MAX_CONNS];               /* state before CLOSED */
static uint8_t app_open[TCP_MAX_CONNS]; /* the fuzz app owns a connection on this id */
static uint8_t fa_state[TCP_MAX_CONNS]; /* last state seen of the fuzz app's connection */
static const struct tcp_app fuzz_app;
static int exact_trace;                                /* our hook is installed */

/* RFC 9293's diagram (3.3.2, and 3.10.7.4 for FIN-WAIT-1 -> TIME-WAIT via
 * FIN-WAIT-2 in one segment), the passive open from a listener as CLOSED ->
 * SYN-RECEIVED (the listener has a table of its own), and CLOSED from
 * every state on reset, abort, retry exhaustion, FIN-WAIT-2/TIME-WAIT
 * timers and slot recycling. */
static int transition_ok(unsigned from, unsigned to)
{
    if (to == TCP_CLOSED)
        return from != TCP_CLOSED;
    switch (from) {
    case TCP_CLOSED:
        return to == TCP_SYN_SENT || to == TCP_SYN_RECEIVED;
    case TCP_SYN_SENT:
        return to == TCP_SYN_RECEIVED || to == TCP_ESTABLISHED;
    case TCP_SYN_RECEIVED:
        return to == TCP_ESTABLISHED || to == TCP_FIN_WAIT_1;
    case TCP_ESTABLISHED:
        return to == TCP_FIN_WAIT_1 || to == TCP_CLOSE_WAIT;
    case TCP_FIN_WAIT_1:
        return to == TCP_FIN_WAIT_2 || to == TCP_CLOSING || to == TCP_TIME_WAIT;
    case TCP_FIN_WAIT_2:
        return to == TCP_TIME_WAIT;
    case TCP_CLOSE_WAIT:
        return to == TCP_LAST_ACK;
    case TCP_CLOSING:
        return to == TCP_TIME_WAIT;
    default: /* LAST-ACK, TIME-WAIT: only CLOSED */
        return 0;
    }
}

static void note_transition(int id, unsigned from, unsigned to)
{
    CHECK(to < TCP_NUM_STATES, "conn %d: state %u is not an RFC 9293 state", id, to);
    CHECK(transition_ok(from, to), "conn %d: transition %s -> %s is not in RFC 9293's diagram",
          id, tcp_state_name((enum tcp_state)from), tcp_state_name((enum tcp_state)to));
    seen_trans[from][to] = 1;
    if (to == TCP_CLOSED)
        last_live[id] = (uint8_t)from;
    /* The application's final event comes right after CLOSED (conn_free),
     * so it must have come by the time the slot is used again. */
    if (from == TCP_CLOSED) {
        CHECK(!app_open[id], "conn %d: %s -> CLOSED without a final event to its application "
              "(and the slot is reused)", id, tcp_state_name((enum tcp_state)fa_state[id]));
        app_open[id] = 0; /* (when skipped: go on from a consistent view) */
    }
    if (S.apps[S.conn[id].app] == &fuzz_app)
        fa_state[id] = (uint8_t)(to == TCP_CLOSED ? from : to);
    seen_states |= (uint16_t)(1u << to);
    if (from == TCP_CLOSED && to == TCP_SYN_RECEIVED)
        seen_states |= 1u << TCP_LISTEN; /* a listener took a SYN */
}

/* Without our trace hook: sample the table (at callbacks and after steps). */
static void sample_states(void)
{
    for (int i = 0; i < TCP_MAX_CONNS; i++) {
        uint8_t st = S.conn[i].state;
        if (st != TCP_CLOSED && S.apps[S.conn[i].app] == &fuzz_app)
            fa_state[i] = st;
        if (st != shadow[i]) {
            CHECK(!exact_trace, "conn %d: %s -> %s without a trace record", i,
                  tcp_state_name((enum tcp_state)shadow[i]), tcp_state_name((enum tcp_state)st));
            if (st < TCP_NUM_STATES) { /* states only: samples may skip some */
                seen_states |= (uint16_t)(1u << st);
                if (st == TCP_CLOSED)
                    last_live[i] = shadow[i];
                if (shadow[i] == TCP_CLOSED && st == TCP_SYN_RECEIVED)
                    seen_states |= 1u << TCP_LISTEN;
            }
            shadow[i] = st;
        }
    }
}

static void fuzz_trace(void *ctx, const struct net_trace *t)
{
    CHECK(t->kind <= NET_TRACE_STATE, "trace kind %u", t->kind);
    if (t->kind == NET_TRACE_STATE) {
        CHECK(t->id >= 0 && t->id < TCP_MAX_CONNS, "state trace with id %d", t->id);
        CHECK(t->old_state == shadow[t->id], "conn %d: trace says %s -> %s, but it was %s", t->id,
              tcp_state_name((enum tcp_state)t->old_state),
              tcp_state_name((enum tcp_state)t->new_state),
              tcp_state_name((enum tcp_state)shadow[t->id]));
        note_transition(t->id, t->old_state, t->new_state);
        shadow[t->id] = t->new_state;
        if (verbose)
            fprintf(stderr, "    tcp %d %s -> %s\n", t->id,
                    tcp_state_name((enum tcp_state)t->old_state),
                    tcp_state_name((enum tcp_state)t->new_state));
    } else {
        CHECK(t->id >= -1 && t->id < TCP_MAX_CONNS, "segment trace with id %d", t->id);
        if (verbose)
            fprintf(stderr, "    tcp %d %s flags=%02x seq=%u ack=%u wnd=%u len=%u\n", t->id,
                    t->kind == NET_TRACE_SEG_IN ? "in " : "out", t->flags, t->seq, t->ack, t->wnd,
                    t->len);
    }
    console_hook(ctx, t); /* the console keeps its ISNs and prints when on */
}

static void print_coverage(void)
{
    int n = 0;
    if (!(seen_states & ~1u))
        return; /* nothing ran here (e.g. the parent of -fork) */
    for (int i = 0; i < TCP_NUM_STATES; i++)
        n += seen_states >> i & 1;
    fprintf(stderr, "fuzz_stack: TCP states reached %d/%d:", n, TCP_NUM_STATES);
    for (int i = 0; i < TCP_NUM_STATES; i++)
        fprintf(stderr, " %s%s", seen_states >> i & 1 ? "" : "!", tcp_state_name((enum tcp_state)i));
    fprintf(stderr, "\nfuzz_stack: state bitmap 0x%03x; transitions seen:", seen_states);
    int m = 0;
    for (int a = 0; a < TCP_NUM_STATES; a++)
        for (int b = 0; b < TCP_NUM_STATES; b++)
            if (seen_trans[a][b]) {
                fprintf(stderr, "%s%s>%s", m++ % 6 ? " " : "\n   ", tcp_state_name((enum tcp_state)a),
                        tcp_state_name((enum tcp_state)b));
            }
    int possible = 0;
    for (int a = 0; a < TCP_NUM_STATES; a++)
        for (int b = 0; b < TCP_NUM_STATES; b++)
            possible += a != TCP_LISTEN && b != TCP_LISTEN && transition_ok((unsigned)a, (unsigned)b);
    fprintf(stderr, "\nfuzz_stack: %d of the %d allowed transitions seen\n", m, possible);
    if (skipped)
        fprintf(stderr, "fuzz_stack: %lu violations skipped (FUZZ_SKIP=%s)\n", skipped, skip_list);
}

/* ------------------------------------------------------------ tx checks */

static unsigned long ntx; /* frames seen by the tx callback */

static const struct tcp_conn *find_conn(uint32_t rip, uint16_t lport, uint16_t rport)
{
    for (int i = 0; i < TCP_MAX_CONNS; i++) {
        const struct tcp_conn *c = &S.conn[i];
        if (c->state != TCP_CLOSED && c->rip == rip && c->lport == lport && c->rport == rport)
            return c;
    }
    return NULL;
}

static void check_tcp_out(const uint8_t *g, size_t n, uint32_t dst)
{
    CHECK(n >= 20, "TCP segment of %zu bytes", n);
    CHECK(fold(sum16(pseudo(OUR_IP, dst, 6, n), g, n)) == 0, "bad TCP checksum on a sent segment");
    size_t off = (size_t)(g[12] >> 4) * 4;
    uint8_t fl = g[13];
    CHECK(off >= 20 && off <= n, "sent TCP data offset %zu of %zu", off, n);
    CHECK((g[12] & 15) == 0 && (fl & 0xC0) == 0, "reserved bits or ECN flags set in a sent segment");
    CHECK(fl & (F_SYN | F_RST | F_ACK), "sent segment without SYN, RST or ACK: %02x", fl);
    CHECK((fl & (F_SYN | F_FIN)) != (F_SYN | F_FIN) && (fl & (F_SYN | F_RST)) != (F_SYN | F_RST),
          "sent invalid flag mix %02x", fl);
    CHECK(!(fl & F_URG) && be16(g + 18) == 0, "sent URG");
    uint16_t sport = be16(g), dport = be16(g + 2);
    CHECK(sport && dport, "sent port 0");
    if (fl & F_SYN) {
        CHECK(off == 24 && g[20] == 2 && g[21] == 4 && be16(g + 22) == TCP_MSS,
              "SYN without our MSS option");
    } else {
        CHECK(off == 20, "options on a non-SYN segment");
    }
    size_t len = n - off;
    CHECK(len <= TCP_MSS && len <= TCP_TXBUF / 2, "sent %zu data bytes", len);
    CHECK(!(fl & F_RST) || len == 0, "RST with data");
    CHECK(!(fl & F_SYN) || len == 0, "SYN with data");
    uint32_t seq = be32(g + 4), ack = be32(g + 8);
    if (fl & F_RST) {
        CHECK(!(fl & F_ACK) || seq == 0, "RST,ACK with a nonzero sequence number");
        CHECK((fl & F_ACK) || ack == 0, "RST without ACK but ack field %u", ack);
        return; /* resets answer segments: their numbers come from those */
    }
    const struct tcp_conn *c = find_conn(dst, sport, dport);
    if (!c && fl == (F_SYN | F_ACK)) { /* a SYN cookie: no state kept */
        CHECK(be16(g + 14) <= TCP_WND && be16(g + 14) <= TCP_TXBUF, "cookie window");
        return;
    }
    CHECK(c != NULL, "a non-RST segment %u->%u (flags %02x) for no connection", sport, dport, fl);
    /* Everything sent lies within what the send buffer holds (+SYN, FIN). */
    uint32_t from = seq - c->snd_una;
    uint32_t end = from + (uint32_t)len + !!(fl & F_SYN) + !!(fl & F_FIN);
    CHECK(from <= (uint32_t)c->tx_len + 1 && end <= (uint32_t)c->tx_len + 1u,
          "segment seq %u len %zu outside SND.UNA %u + tx_len %u (+1)", seq, len, c->snd_una,
          c->tx_len);
    if (fl & F_ACK)
        CHECK(ack == c->rcv_nxt, "ACK field %u is not RCV.NXT %u", ack, c->rcv_nxt);
    else
        CHECK(c->state == TCP_SYN_SENT && (fl & F_SYN) && ack == 0,
              "segment without ACK outside SYN-SENT (flags %02x ack %u)", fl, ack);
    /* The payload is the buffer's content at those sequence numbers. */
    CHECK(ring_equal(S.txbuf[c - S.conn], seq, g + off, len), "payload differs from the buffer");
}

static void fuzz_tx(void *ctx, const uint8_t *f, size_t len)
{
    CHECK(ctx == &S, "tx context");
    CHECK(f == S.frame, "tx from another buffer than s->frame");
    CHECK(len >= 60 && len <= NET_FRAME_MAX, "sent frame of %zu bytes", len);
    CHECK(memcmp(f + 6, our_mac, 6) == 0, "sent frame with a foreign source MAC");
    ntx++;
    sample_states();
    uint16_t type = be16(f + 12);
    if (type == ETHTYPE_ARP) {
        static const uint8_t hdr[6] = { 0, 1, 8, 0, 6, 4 };
        const uint8_t *a = f + 14;
        uint16_t op = be16(a + 6);
        CHECK(memcmp(a, hdr, 6) == 0 && (op == 1 || op == 2), "malformed ARP sent");
        CHECK(memcmp(a + 8, our_mac, 6) == 0 && be32(a + 14) == OUR_IP, "ARP sender not us");
        CHECK(all_zero(f + 14 + 28, len - 14 - 28), "ARP padding not zero");
        if (op == 1) {
            static const uint8_t bcast[6] = { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF };
            CHECK(memcmp(f, bcast, 6) == 0, "ARP request not broadcast");
            uint32_t tpa = be32(a + 24);
            CHECK(((tpa ^ OUR_IP) & NETMASK) == 0 && !ipv4_bad_src(&S, tpa),
                  "ARP request for %08x", tpa);
        } else {
            CHECK(memcmp(f, a + 18, 6) == 0 && !(f[0] & 1), "ARP reply to a group/other MAC");
        }
        return;
    }
    CHECK(type == ETHTYPE_IPV4, "sent EtherType %04x", type);
    CHECK(!(f[0] & 1), "IPv4 frame to a group MAC");
    const uint8_t *ip = f + 14;
    size_t tl = be16(ip + 2);
    CHECK(ip[0] == 0x45, "sent IPv4 version/IHL %02x", ip[0]);
    CHECK(tl >= 20 && 14 + tl <= len, "IPv4 total length %zu in a %zu-byte frame", tl, len);
    CHECK(14 + tl == len || len == 60, "frame longer than its datagram (%zu vs %zu)", len, tl);
    CHECK(all_zero(f + 14 + tl, len - 14 - tl), "padding not zero");
    CHECK(fold(sum16(0, ip, 20)) == 0, "bad IPv4 header checksum on a sent datagram");
    CHECK(be16(ip + 6) == 0x4000 && ip[8] == 64, "DF/TTL");
    uint32_t src = be32(ip + 12), dst = be32(ip + 16);
    CHECK(src == OUR_IP, "sent from %08x", src);
    CHECK(!ipv4_bad_src(&S, dst), "sent to a bad address %08x", dst);
    CHECK(((dst ^ OUR_IP) & NETMASK) == 0, "off-subnet destination without a gateway");
    if (ip[9] == IP_PROTO_TCP) {
        check_tcp_out(ip + 20, tl - 20, dst);
    } else {
        CHECK(ip[9] == IP_PROTO_ICMP, "sent IP protocol %u", ip[9]);
        CHECK(tl - 20 >= 8 && ip[20] == 0 && ip[21] == 0, "ICMP sent is not an echo reply");
        CHECK(fold(sum16(0, ip + 20, tl - 20)) == 0, "bad ICMP checksum");
    }
}

/* -------------------------------------------------- the fuzz application */

enum { M_ECHO = 1, M_CLOSE = 2, M_ABORT = 4, M_ABORT_IN_RECV = 8, M_RECONNECT = 16, M_SEND = 32 };
struct app_mode {
    uint8_t take, win, flags;
};
static struct app_mode mode[TCP_MAX_CONNS];


static void app_check_id(int id, const char *what)
{
    CHECK(id >= 0 && id < TCP_MAX_CONNS, "%s callback with id %d", what, id);
    CHECK(S.apps[S.conn[id].app] == &fuzz_app || S.conn[id].state == TCP_CLOSED,
          "%s callback for a connection of another application", what);
}

static size_t fa_recv(struct net_stack *s, int id, const uint8_t *d, size_t n)
{
    app_check_id(id, "recv");
    CHECK(app_open[id], "recv on id %d, never reported open", id);
    CHECK(n > 0 && n <= 65535, "recv of %zu bytes", n);
    CHECK(s->conn[id].state == TCP_ESTABLISHED || s->conn[id].state == TCP_FIN_WAIT_1 ||
              s->conn[id].state == TCP_FIN_WAIT_2,
          "recv in %s", tcp_state_name((enum tcp_state)s->conn[id].state));
    touch(d, n);
    sample_states();
    const struct app_mode *m = &mode[id];
    size_t take = m->take == 0 ? n : m->take == 1 ? 0 : m->take == 2 ? n / 2 : 1;
    if (m->flags & M_ABORT_IN_RECV) {
        tcp_abort(s, id);
        return take;
    }
    if (m->flags & M_ECHO) /* what fits is taken */
        take = tcp_send(s, id, d, take);
    return take;
}

static uint16_t fa_window(struct net_stack *s, int id)
{
    app_check_id(id, "window");
    switch (mode[id].win) {
    case 0:
        return TCP_WND;
    case 1:
        return 0;
    case 2:
        return 1;
    case 3:
        return (uint16_t)tcp_send_space(s, id);
    default:
        return (uint16_t)(mode[id].win * 64u);
    }
}

static void fa_event(struct net_stack *s, int id, enum tcp_event ev)
{
    CHECK(id >= 0 && id < TCP_MAX_CONNS, "event with id %d", id);
    CHECK((unsigned)ev <= TCP_EV_CLOSED, "event %d", ev);
    sample_states();
    uint8_t st = s->conn[id].state;
    switch (ev) {
    case TCP_EV_CONNECTED:
        CHECK(st == TCP_ESTABLISHED, "CONNECTED in %s", tcp_state_name((enum tcp_state)st));
        app_open[id] = 1;
        if (mode[id].flags & M_SEND)
            tcp_send(s, id, "hello\n", 6);
        return;
    case TCP_EV_SENT:
        CHECK(app_open[id], "SENT on id %d, not open", id);
        if (mode[id].flags & M_SEND)
            tcp_send(s, id, "more\n", 5);
        if (mode[id].win == 3)
            tcp_window_changed(s, id);
        return;
    case TCP_EV_PEER_CLOSED:
        CHECK(app_open[id], "PEER_CLOSED on id %d, not open", id);
        CHECK(st == TCP_CLOSE_WAIT || st == TCP_CLOSING,
              "PEER_CLOSED in %s", tcp_state_name((enum tcp_state)st));
        if (mode[id].flags & M_ABORT)
            tcp_abort(s, id);
        else if (mode[id].flags & M_CLOSE)
            tcp_close(s, id);
        return;
    default: /* final events: REFUSED, RESET, TIMEOUT, CLOSED */
        /* tcp_close/tcp_abort of a half-open passive connection (by anyone:
         * the console, or this harness acting on any id) reports CLOSED
         * although CONNECTED never came; RST and timeouts there report
         * nothing. Tolerated (and reported as an inconsistency). */
        CHECK(app_open[id] || (ev == TCP_EV_CLOSED && last_live[id] == TCP_SYN_RECEIVED),
              "final event %d on id %d, not open", ev, id);
        CHECK(st == TCP_CLOSED || (ev == TCP_EV_CLOSED && st == TCP_TIME_WAIT),
              "final event %d in %s", ev, tcp_state_name((enum tcp_state)st));
        app_open[id] = 0;
        if ((mode[id].flags & M_RECONNECT) && st == TCP_CLOSED) {
            int r = tcp_connect(s, PEER1, PEER_PORT0 + 7, &fuzz_app);
            if (r >= 0)
                app_open[r] = 1;
        }
        return;
    }
}

static const struct tcp_app fuzz_app = { fa_recv, fa_event, fa_window };

/* ------------------------------------------------------------- console */

static void con_out(void *ctx, const char *p, size_t n)
{
    (void)ctx;
    touch(p, n);
    if (verbose > 1)
        fwrite(p, 1, n, stderr);
}

/* ------------------------------------------------------------ invariants */

static struct net_stats stats_before;
static unsigned long ntx_before;
static unsigned long ninput; /* net_input calls in this step */
static struct tcp_listener lst_before[TCP_MAX_LISTENERS];

static void check_invariants(void)
{
    sample_states();
    CHECK(!S.tcp_busy, "tcp_busy left set");
    CHECK(memcmp(S.lst, lst_before, sizeof S.lst) == 0, "listener table changed");
    int delayed = 0;
    for (int i = 0; i < TCP_MAX_CONNS; i++) {
        const struct tcp_conn *c = &S.conn[i];
        CHECK(c->state < TCP_NUM_STATES && c->state != TCP_LISTEN, "conn %d in state %u", i,
              c->state);
        if (c->state == TCP_CLOSED) {
            struct tcp_conn z = *c, zero;
            memset(&zero, 0, sizeof zero);
            z.app = 0;
            CHECK(memcmp(&z, &zero, sizeof z) == 0, "CLOSED slot %d not cleared", i);
            CHECK(S.app_ctx[i] == NULL, "CLOSED slot %d keeps a user pointer", i);
            CHECK(!app_open[i], "conn %d: %s -> CLOSED without a final event to its application",
                  i, tcp_state_name((enum tcp_state)fa_state[i]));
            app_open[i] = 0;
            continue;
        }
        CHECK(c->app > 0 && c->app < TCP_MAX_APPS && S.apps[c->app], "conn %d: app index %u", i,
              c->app);
        CHECK(c->tx_len <= TCP_TXBUF, "conn %d: tx_len %u", i, c->tx_len);
        uint32_t flight = c->snd_nxt - c->snd_una;
        CHECK(flight <= (uint32_t)c->tx_len + 1, "conn %d: SND.NXT - SND.UNA = %d, tx_len %u", i,
              (int32_t)flight, c->tx_len);
        CHECK(c->rcv_wnd <= 65535, "rcv_wnd");
        CHECK(c->mss >= 1 && c->mss <= TCP_MSS, "conn %d: mss %u", i, c->mss);
        CHECK(c->cwnd >= c->mss || c->cwnd == 0, "conn %d: cwnd %u below mss %u", i, c->cwnd,
              c->mss);
        for (int j = 0; j < i; j++) {
            const struct tcp_conn *o = &S.conn[j];
            CHECK(o->state == TCP_CLOSED || o->rip != c->rip || o->lport != c->lport ||
                      o->rport != c->rport,
                  "conns %d and %d share a 4-tuple", j, i);
        }
        /* Liveness: what can hang has a timer. */
        int hang = c->state == TCP_SYN_SENT || c->state == TCP_SYN_RECEIVED ||
                   c->state == TCP_FIN_WAIT_1 || c->state == TCP_FIN_WAIT_2 ||
                   c->state == TCP_CLOSING || c->state == TCP_LAST_ACK ||
                   c->state == TCP_TIME_WAIT || flight != 0 ||
                   (c->tx_len && (c->state == TCP_ESTABLISHED || c->state == TCP_CLOSE_WAIT));
        CHECK(!hang || c->timer, "conn %d in %s (flight %u, tx_len %u) has no timer running", i,
              tcp_state_name((enum tcp_state)c->state), flight, c->tx_len);
        if (c->flags & CF_ACK_DELAYED)
            delayed = 1;
        if (c->app && S.apps[c->app] != &fuzz_app) { /* (seen without our trace hook) */
            CHECK(!app_open[i], "conn %d: %s -> CLOSED without a final event to its application "
                  "(and the slot is reused by another application)", i,
                  tcp_state_name((enum tcp_state)fa_state[i]));
            app_open[i] = 0;
        }
    }
    CHECK(!delayed || S.ack_pending, "a delayed ACK is owed but none is scheduled");
    const uint32_t *a = (const uint32_t *)&stats_before, *b = (const uint32_t *)&S.stats;
    for (size_t i = 0; i < sizeof S.stats / 4; i++)
        CHECK(b[i] >= a[i], "counter %zu went down (%u -> %u)", i, a[i], b[i]);
    CHECK(S.stats.rx_frames - stats_before.rx_frames == ninput, "rx_frames %u for %lu inputs",
          S.stats.rx_frames - stats_before.rx_frames, ninput);
    CHECK(S.stats.tx_frames - stats_before.tx_frames == ntx - ntx_before,
          "tx_frames grew by %u, %lu frames sent", S.stats.tx_frames - stats_before.tx_frames,
          ntx - ntx_before);
}

static void step_begin(void)
{
    step_no++;
    stats_before = S.stats;
    ntx_before = ntx;
    ninput = 0;
}

/* ------------------------------------------------------------- driving */

static void input(const uint8_t *f, size_t n)
{
    /* An exact-size copy: ASan flags any read past the frame's end. */
    uint8_t *p = malloc(n ? n : 1);
    memcpy(p, f, n);
    ninput++;
    net_input(&S, p, n, now);
    free(p);
}

static void poll_at(uint32_t t)
{
    now = t;
    npolls++;
    net_poll(&S, now);
}

struct rec {
    const uint8_t *p;
    size_t n;
};
static uint8_t at(const struct rec *r, size_t i) { return i < r->n ? r->p[i] : 0; }
static uint16_t at16(const struct rec *r, size_t i) { return (uint16_t)(at(r, i) << 8 | at(r, i + 1)); }
static uint32_t at32(const struct rec *r, size_t i) { return (uint32_t)at16(r, i) << 16 | at16(r, i + 2); }
/* Fill dst with n bytes: the record's bytes from `from` on, repeated. */
NOCOV static void fill(uint8_t *dst, size_t n, const struct rec *r, size_t from)
{
    static const uint8_t abc[] = "abcdefghijklmnopqrstuvwxyz";
    const uint8_t *src = r->n > from ? r->p + from : abc;
    size_t k = r->n > from ? r->n - from : 26;
    for (size_t i = 0; i < n; i += k)
        memcpy(dst + i, src, n - i < k ? n - i : k);
}

static uint32_t peer_ip(uint8_t sel)
{
    return sel == 2 ? PEER3 : sel == 3 ? FARPEER : PEER1;
}

static const uint8_t *peer_mac(uint32_t ip)
{
    return ip == PEER3 ? peer3_mac : ip == FARPEER ? router_mac : peer1_mac;
}

static size_t eth_hdr(uint8_t *f, const uint8_t *dst, const uint8_t *src, uint16_t type)
{
    memcpy(f, dst, 6);
    memcpy(f + 6, src, 6);
    wr16(f + 12, type);
    return 14;
}

/* IPv4 header at ip with the given payload length; returns the header length. */
static size_t ip_hdr(uint8_t *ip, uint32_t src, uint8_t proto, size_t plen, int opts)
{
    size_t hl = opts ? 24 : 20;
    memset(ip, 0, hl);
    ip[0] = (uint8_t)(0x40 | hl / 4);
    wr16(ip + 2, (uint16_t)(hl + plen));
    wr16(ip + 4, 0x1234);
    ip[8] = 64;
    ip[9] = proto;
    wr32(ip + 12, src);
    wr32(ip + 16, OUR_IP);
    if (opts)
        memset(ip + 20, 1, 4); /* NOPs */
    wr16(ip + 10, fold(sum16(0, ip, hl)));
    return hl;
}

static uint8_t fbuf[NET_FRAME_MAX + 256];

static void do_tcp(const struct rec *r)
{
    uint8_t fl = at(r, 0), tg = at(r, 1);
    uint32_t src = peer_ip(tg >> 6);
    uint16_t sport = (uint16_t)(PEER_PORT0 + (tg & 7)), dport;
    unsigned dsel = tg >> 3 & 7;
    const struct tcp_conn *c = NULL;
    static const uint16_t ports[5] = { SERVICE_ECHO_PORT, SERVICE_DISCARD_PORT,
                                       SERVICE_CHARGEN_PORT, FUZZ_PORT, CLOSED_PORT };
    if (dsel < 5) {
        dport = ports[dsel];
    } else if (dsel == 5) { /* the live connection (active open) to that peer port */
        dport = SERVICE_ECHO_PORT;
        for (int i = 0; i < TCP_MAX_CONNS; i++)
            if (S.conn[i].state != TCP_CLOSED && S.conn[i].rip == src &&
                S.conn[i].rport == sport) {
                dport = S.conn[i].lport;
                break;
            }
    } else { /* slot n's tuple */
        const struct tcp_conn *k = &S.conn[(tg & 7) % TCP_MAX_CONNS];
        dport = SERVICE_ECHO_PORT;
        if (k->state != TCP_CLOSED) {
            src = k->rip;
            sport = k->rport;
            dport = k->lport;
        }
    }
    c = find_conn(src, dport, sport);
    uint32_t seq = at32(r, 2), ack = at32(r, 6);
    if (c && !(fl & 0x40)) {
        seq += c->rcv_nxt;
        ack += c->snd_nxt;
    }
    uint8_t opt[48];
    size_t optlen = 0;
    uint8_t osel = at(r, 12);
    uint16_t mss = at16(r, 13);
    if (osel == 1 || osel == 2) {
        opt[0] = 2, opt[1] = 4, wr16(opt + 2, mss);
        optlen = 4;
        if (osel == 2) { /* SACK-permitted, timestamps, NOP, window scale 7 */
            static const uint8_t lx[16] = { 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7 };
            memcpy(opt + 4, lx, 16);
            optlen = 20;
        }
    } else if (osel == 3) {
        optlen = at(r, 13) % 41;
        fill(opt, optlen, r, 20);
    }
    while (optlen % 4)
        opt[optlen++] = 0;
    uint8_t twist = at(r, 17);
    int ipopt = twist == 1;
    size_t room = NET_FRAME_MAX - 14 - (ipopt ? 24 : 20) - 20 - optlen;
    size_t plen = at16(r, 15) % 1461;
    if (plen > room)
        plen = room;
    size_t tcplen = 20 + optlen + plen;
    uint8_t *f = fbuf, *ip = f + 14;
    eth_hdr(f, our_mac, peer_mac(src), ETHTYPE_IPV4);
    size_t hl = ipopt ? 24 : 20;
    uint8_t *g = ip + hl;
    wr16(g, sport);
    wr16(g + 2, dport);
    wr32(g + 4, seq);
    wr32(g + 8, ack);
    g[12] = (uint8_t)((20 + optlen) / 4 << 4);
    g[13] = (uint8_t)((fl & 0x3F) | (fl & 0x80 ? 0xC0 : 0));
    wr16(g + 14, at16(r, 10));
    wr16(g + 16, 0);
    wr16(g + 18, at16(r, 18));
    memcpy(g + 20, opt, optlen);
    fill(g + 20 + optlen, plen, r, 20);
    wr16(g + 16, (uint16_t)(fold(sum16(pseudo(src, OUR_IP, 6, tcplen), g, tcplen)) +
                            (twist == 5)));
    ip_hdr(ip, src, IP_PROTO_TCP, tcplen, ipopt);
    if (twist == 4) /* MF */
        ip[6] |= 0x20;
    if (twist == 7)
        ip[1] = 0xB8, ip[8] = 1;
    if (twist == 4 || twist == 6 || twist == 7) {
        wr16(ip + 10, 0);
        wr16(ip + 10, (uint16_t)(fold(sum16(0, ip, hl)) + (twist == 6)));
    }
    size_t len = 14 + hl + tcplen;
    if (twist == 2 && len < 60) { /* Ethernet padding, not zero */
        memset(f + len, 0xEE, 60 - len);
        len = 60;
    } else if (twist == 3 && len + 7 <= NET_FRAME_MAX) {
        memset(f + len, 0x55, 7);
        len += 7;
    }
    if (verbose)
        fprintf(stderr, "  TCP %08x:%u -> %u flags %02x seq %u ack %u wnd %u len %zu%s\n", src,
                sport, dport, g[13], seq, ack, at16(r, 10), plen, c ? "" : " (no conn)");
    input(f, len);
}

static void do_time(const struct rec *r)
{
    uint32_t step = at16(r, 0), n = at(r, 2) + 1u;
    if (!step)
        step = TCP_TICK_MS;
    now += (uint32_t)at(r, 3) << 16;
    if (verbose)
        fprintf(stderr, "  TIME +%u ms x %u (jump %u)\n", step, n, (uint32_t)at(r, 3) << 16);
    for (uint32_t i = 0; i < n && npolls < MAX_POLLS; i++)
        poll_at(now + step);
}

static void do_app(const struct rec *r)
{
    uint8_t action = at(r, 0) % 8;
    int id = at(r, 1) % (TCP_MAX_CONNS + 2) - 1;
    int ok = id >= 0 && id < TCP_MAX_CONNS;
    if (verbose)
        fprintf(stderr, "  APP %u id %d\n", action, id);
    switch (action) {
    case 0: {
        int r2 = tcp_connect(&S, peer_ip(at(r, 2) & 3), (uint16_t)(PEER_PORT0 + at(r, 3) % 8),
                             &fuzz_app);
        CHECK(r2 < TCP_MAX_CONNS && r2 >= TCP_ERR_STATE, "tcp_connect returned %d", r2);
        if (r2 >= 0) {
            CHECK(S.conn[r2].state == TCP_SYN_SENT, "connect left %s",
                  tcp_state_name((enum tcp_state)S.conn[r2].state));
            app_open[r2] = 1;
        }
        break;
    }
    case 1: {
        size_t n = at16(r, 2) % 2048;
        uint8_t *d = malloc(n ? n : 1);
        fill(d, n, r, 4);
        size_t space = tcp_send_space(&S, id);
        size_t k = tcp_send(&S, id, d, n);
        CHECK(k <= n, "tcp_send took %zu of %zu", k, n);
        CHECK(k <= space, "tcp_send took %zu with space %zu", k, space);
        free(d);
        break;
    }
    case 2: {
        int e = tcp_close(&S, id);
        CHECK(e == 0 || e == TCP_ERR_ARG || e == TCP_ERR_STATE, "tcp_close %d", e);
        break;
    }
    case 3: {
        int was = ok && S.conn[id].state != TCP_CLOSED;
        int e = tcp_abort(&S, id);
        CHECK(e == (was ? 0 : TCP_ERR_ARG), "tcp_abort returned %d", e);
        CHECK(!ok || S.conn[id].state == TCP_CLOSED || app_open[id], "abort left %s",
              tcp_state_name((enum tcp_state)S.conn[id].state));
        break;
    }
    case 4:
        tcp_window_changed(&S, id);
        break;
    case 5: {
        struct app_mode m = { (uint8_t)(at(r, 2) % 4), at(r, 3), at(r, 4) };
        if (ok)
            mode[id] = m;
        else
            for (int i = 0; i < TCP_MAX_CONNS; i++)
                mode[i] = m;
        break;
    }
    case 6: {
        size_t sp = tcp_send_space(&S, id);
        enum tcp_state st = tcp_get_state(&S, id);
        CHECK(sp <= TCP_TXBUF, "send space %zu", sp);
        CHECK(ok || st == TCP_CLOSED, "state of a bad id");
        CHECK(!ok || sp == 0 || sp == TCP_TXBUF - S.conn[id].tx_len, "send space vs tx_len");
        CHECK(strcmp(tcp_state_name(st), "?") != 0, "state without a name");
        (void)tcp_state_name((enum tcp_state)at(r, 2));
        (void)tcp_get_ctx(&S, id);
        break;
    }
    default:
        switch (at(r, 2) % 4) {
        case 0:
            S.trace = console_hook;
            exact_trace = 0;
            break;
        case 1:
            sample_states();
            S.trace = fuzz_trace;
            exact_trace = 1;
            break;
        case 2:
            net_add_entropy(&S, r->n > 3 ? r->p + 3 : NULL, r->n > 3 ? r->n - 3 : 0);
            break;
        default: {
            uint16_t port = at16(r, 3);
            int e = tcp_listen(&S, port, &fuzz_app);
            CHECK(e != 0 || port != 0, "listen on port 0 accepted");
            if (e == 0) { /* take it out again: the listener table is checked */
                for (int i = 0; i < TCP_MAX_LISTENERS; i++)
                    if (S.lst[i].port == port)
                        S.lst[i].port = 0;
            }
        }
        }
    }
}

static void do_arp(const struct rec *r)
{
    static const uint32_t ips[8] = { PEER1, PEER3, 0xC0A80704u, 0xC0A80705u,
                                     OUR_IP, 0,     0xC0A807FFu, FARPEER };
    static const uint8_t macs[4][6] = { { 2, 0, 0, 0, 0, 1 }, { 2, 0, 0, 0, 0, 3 },
                                        { 0x01, 0, 0x5E, 0, 0, 1 }, { 0 } };
    static const uint8_t bcast[6] = { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF };
    uint8_t op = at(r, 0);
    const uint8_t *sha = macs[at(r, 3) % 4];
    uint8_t dsel = at(r, 4) % 3;
    const uint8_t *dst = dsel == 0 ? our_mac : dsel == 1 ? bcast : peer3_mac;
    uint8_t *f = fbuf, *a = f + 14;
    eth_hdr(f, dst, sha, ETHTYPE_ARP);
    static const uint8_t hdr[6] = { 0, 1, 8, 0, 6, 4 };
    memcpy(a, hdr, 6);
    wr16(a + 6, op == 1 || op == 2 ? op : (uint16_t)(op << 8 | op));
    memcpy(a + 8, sha, 6);
    wr32(a + 14, ips[at(r, 1) % 8]);
    memset(a + 18, 0, 6);
    wr32(a + 24, at(r, 2) & 1 ? ips[at(r, 2) >> 1 & 7] : OUR_IP);
    if (at(r, 5))
        a[at(r, 5) % 28] ^= at(r, 6);
    if (verbose)
        fprintf(stderr, "  ARP op %u\n", be16(a + 6));
    input(f, 14 + 28);
}

static void do_icmp(const struct rec *r)
{
    uint32_t src = peer_ip(at(r, 0) & 3);
    size_t n = 8 + at16(r, 7) % 1473;
    uint8_t *f = fbuf, *ip = f + 14, *m = ip + 20;
    eth_hdr(f, our_mac, peer_mac(src), ETHTYPE_IPV4);
    m[0] = at(r, 1);
    m[1] = at(r, 2);
    wr16(m + 2, 0);
    wr16(m + 4, at16(r, 3));
    wr16(m + 6, at16(r, 5));
    fill(m + 8, n - 8, r, 10);
    wr16(m + 2, (uint16_t)(fold(sum16(0, m, n)) + (at(r, 9) == 1)));
    ip_hdr(ip, src, IP_PROTO_ICMP, n, 0);
    if (verbose)
        fprintf(stderr, "  ICMP type %u len %zu\n", m[0], n);
    input(f, 14 + 20 + n);
}

static void do_rawip(const struct rec *r)
{
    size_t n = r->n > NET_FRAME_MAX - 14 ? NET_FRAME_MAX - 14 : r->n;
    uint8_t *f = fbuf, *ip = f + 14;
    eth_hdr(f, our_mac, peer1_mac, ETHTYPE_IPV4);
    memcpy(ip, r->p, n);
    size_t hl = n ? (size_t)(ip[0] & 15) * 4 : 0;
    if (n >= 20 && hl >= 20 && hl <= n) {
        wr16(ip + 10, 0);
        wr16(ip + 10, fold(sum16(0, ip, hl)));
        size_t tl = be16(ip + 2);
        if (tl >= hl && tl <= n) {
            uint8_t *p = ip + hl;
            size_t pl = tl - hl;
            if (ip[9] == IP_PROTO_TCP && pl >= 18) {
                wr16(p + 16, 0);
                wr16(p + 16, fold(sum16(pseudo(be32(ip + 12), be32(ip + 16), 6, pl), p, pl)));
            } else if (ip[9] == IP_PROTO_ICMP && pl >= 4) {
                wr16(p + 2, 0);
                wr16(p + 2, fold(sum16(0, p, pl)));
            }
        }
    }
    if (verbose)
        fprintf(stderr, "  RAWIP %zu bytes\n", n);
    input(f, 14 + n);
}

static void do_console(const struct rec *r)
{
    if (verbose)
        fprintf(stderr, "  CONSOLE %.*s\n", (int)r->n, (const char *)r->p);
    for (size_t i = 0; i < r->n; i++)
        console_input(&con, (char)r->p[i], now);
    /* Adopt the ids the console opened? No: they belong to the console's
     * own application, whose events we do not see. */
}

static void reset(void)
{
    struct net_config cfg = { .ip = OUR_IP, .netmask = NETMASK, .gateway = 0 };
    memcpy(cfg.mac, our_mac, 6);
    now = 0;
    npolls = 0;
    net_init(&S, &cfg, fuzz_tx, &S);
    console_init(&con, &S, con_out, NULL);
    console_hook = S.trace;
    S.trace = fuzz_trace;
    exact_trace = 1;
    memset(shadow, 0, sizeof shadow);
    seen_states |= 1u << TCP_CLOSED;
    memset(app_open, 0, sizeof app_open);
    for (int i = 0; i < TCP_MAX_CONNS; i++)
        mode[i] = (struct app_mode){ 0, 0, M_CLOSE };
    if (services_init(&S) != 0 || tcp_listen(&S, FUZZ_PORT, &fuzz_app) != 0)
        abort();
    memcpy(lst_before, S.lst, sizeof lst_before);
    /* The peer's MAC, as a reply to our request would give it. */
    uint8_t f[64];
    uint8_t *a = f + eth_hdr(f, our_mac, peer1_mac, ETHTYPE_ARP);
    static const uint8_t hdr[6] = { 0, 1, 8, 0, 6, 4 };
    memcpy(a, hdr, 6);
    wr16(a + 6, 2);
    memcpy(a + 8, peer1_mac, 6);
    wr32(a + 14, PEER1);
    memcpy(a + 18, our_mac, 6);
    wr32(a + 24, OUR_IP);
    arp_input(&S, f, 42);
    memset(&S.stats, 0, sizeof S.stats);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    const char *v = getenv("FUZZ_TRACE");
    verbose = v ? atoi(v) : 0;
    skip_list = getenv("FUZZ_SKIP");
    atexit(print_coverage);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    reset();
    skipping = 0;
    step_begin();
    step_no = 0;
    check_invariants();
    size_t i = 0;
    while (i < size && !skipping) {
        uint8_t op = data[i++];
        size_t n = i < size ? data[i++] : 0;
        if (n == 255) {
            n = (i + 1 < size) ? (size_t)data[i] << 8 | data[i + 1] : 0;
            i += 2;
        }
        if (i > size)
            i = size;
        if (n > size - i)
            n = size - i;
        struct rec r = { data + i, n };
        i += n;
        step_begin();
        if (op >> 4)
            poll_at(now + STEP_MS[op >> 4]);
        if (verbose)
            fprintf(stderr, "step %lu now=%u op %02x len %zu\n", step_no, now, op, n);
        switch (op & 15) {
        case 1:
            do_time(&r);
            break;
        case 2:
            do_app(&r);
            break;
        case 3:
            do_arp(&r);
            break;
        case 4:
            do_icmp(&r);
            break;
        case 5:
            do_rawip(&r);
            break;
        case 6:
            if (verbose)
                fprintf(stderr, "  RAW %zu bytes\n", n);
            input(r.p, r.n);
            break;
        case 7:
            do_console(&r);
            break;
        default:
            do_tcp(&r);
        }
        check_invariants();
        if (verbose > 0)
            dump_conns();
    }
    return 0;
}
