/* Console: line editor, command parsing (good and bad input), netstat,
 * stats and trace formatting; connections opened from the console, driven
 * at the frame level through the whole stack. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "console.h"
#include "net.h"
#include "tcp.h"
#include "tcp_harness.h"

#define OUR_IP 0xC0A80702u /* 192.168.7.2 */

static struct net_stack st;
static struct console con;
static char out[65536];
static size_t out_len;

static void cap_write(void *ctx, const char *s, size_t n)
{
    assert_ptr_equal(ctx, &out_len);
    assert_true(n > 0);
    assert_true(out_len + n < sizeof out);
    memcpy(out + out_len, s, n);
    out_len += n;
    out[out_len] = 0;
}

static void clear(void)
{
    out_len = 0;
    out[0] = 0;
}

static void no_tx(void *ctx, const uint8_t *f, size_t n)
{
    (void)ctx; (void)f; (void)n;
}

static int setup(void **state)
{
    (void)state;
    struct net_config cfg = { { 0x02, 0, 0, 0x12, 0x34, 0x56 }, OUR_IP, 0xFFFFFF00u, 0 };
    net_init(&st, &cfg, no_tx, NULL);
    console_init(&con, &st, cap_write, &out_len);
    assert_int_equal(con.trace_on, NET_TRACE_DEFAULT != 0);
    con.trace_on = 0; /* the tests turn it on when they want it */
    clear();
    return 0;
}

/* Type a line (CR-terminated) and return what it printed after the echo. */
static const char *cmd(const char *line)
{
    clear();
    for (const char *p = line; *p; p++)
        console_input(&con, *p, 0);
    console_input(&con, '\r', 0);
    size_t n = strlen(line);
    assert_true(out_len >= n + 2);
    assert_memory_equal(out, line, n); /* echo */
    assert_memory_equal(out + n, "\r\n", 2);
    return out + n + 2;
}

/* ---- line editor ---- */

static void test_echo_and_eol(void **state)
{
    (void)state;
    assert_string_equal(cmd(""), "");
    /* CR LF ends one line, not two; a lone LF ends a line too */
    clear();
    const char *in = "trace on\r\ntrace off\n";
    for (const char *p = in; *p; p++)
        console_input(&con, *p, 0);
    assert_string_equal(out, "trace on\r\ntrace: on\r\ntrace off\r\ntrace: off\r\n");
    /* control characters other than BS/DEL/CR/LF are ignored */
    clear();
    in = "tr\x01\x1b" "ace on\r";
    for (const char *p = in; *p; p++)
        console_input(&con, *p, 0);
    assert_string_equal(out, "trace on\r\ntrace: on\r\n");
    assert_int_equal(con.trace_on, 1);
}

static void test_backspace(void **state)
{
    (void)state;
    clear();
    const char *in = "\btracx\b\x7f" "ce on\r";
    for (const char *p = in; *p; p++)
        console_input(&con, *p, 0);
    assert_string_equal(out, "tracx\b \b\b \bce on\r\ntrace: on\r\n");
    assert_int_equal(con.trace_on, 1);
}

static void test_line_too_long(void **state)
{
    (void)state;
    char line[CONSOLE_LINE_MAX + 8];
    /* exactly CONSOLE_LINE_MAX characters: accepted */
    memset(line, ' ', sizeof line);
    memcpy(line, "trace on", 8);
    line[CONSOLE_LINE_MAX] = 0;
    assert_string_equal(cmd(line), "trace: on\r\n");
    /* one more: rejected, not run, nothing echoed past the limit */
    memcpy(line, "trace of", 8);
    line[CONSOLE_LINE_MAX] = 'f';
    line[CONSOLE_LINE_MAX + 1] = 0;
    clear();
    for (const char *p = line; *p; p++)
        console_input(&con, *p, 0);
    console_input(&con, '\r', 0);
    assert_int_equal(out_len, CONSOLE_LINE_MAX + 2 + strlen("error: line too long\r\n"));
    assert_string_equal(out + CONSOLE_LINE_MAX + 2, "error: line too long\r\n");
    assert_int_equal(con.trace_on, 1);
    /* the editor is usable again */
    assert_string_equal(cmd("trace off"), "trace: off\r\n");
}

/* ---- parsing: every bad line prints one error line and changes nothing ---- */

static void test_bad_commands(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        { "foo", "unknown command (try help)" },
        { "connectx 1.2.3.4 7", "unknown command (try help)" },
        { "CONNECT 1.2.3.4 7", "unknown command (try help)" },
        { "connect", "usage: connect <ip> <port>" },
        { "connect   ", "usage: connect <ip> <port>" },
        { "connect 192.168.7.1", "usage: connect <ip> <port>" },
        { "connect 192.168.7.1 7 x", "usage: connect <ip> <port>" },
        { "connect 1.2.3 7", "bad ip" },
        { "connect 1.2.3.4.5 7", "bad ip" },
        { "connect 256.1.1.1 7", "bad ip" },
        { "connect 1.2.3.4x 7", "bad ip" },
        { "connect 1..3.4 7", "bad ip" },
        { "connect .1.2.3.4 7", "bad ip" },
        { "connect 1.2.3.4. 7", "bad ip" },
        { "connect -1.2.3.4 7", "bad ip" },
        { "connect 99999999999.1.1.1 7", "bad ip" },
        { "connect host 7", "bad ip" },
        { "connect 192.168.7.1 0", "bad port" },
        { "connect 192.168.7.1 65536", "bad port" },
        { "connect 192.168.7.1 4294967303", "bad port" },
        { "connect 192.168.7.1 7x", "bad port" },
        { "connect 192.168.7.1 -1", "bad port" },
        { "connect 192.168.7.1 +7", "bad port" },
        { "connect 0.0.0.0 7", "bad argument" },     /* refused by tcp_connect */
        { "connect 192.168.7.2 7", "bad argument" }, /* ourselves */
        { "send", "usage: send <id> <text>" },
        { "send 0", "usage: send <id> <text>" },
        { "send x hi", "bad id" },
        { "send 0x hi", "bad id" },
        { "send -1 hi", "bad id" },
        { "send 0 hi", "no such connection" },
        { "close", "usage: close <id>" },
        { "close 0 1", "usage: close <id>" },
        { "close 1x", "bad id" },
        { "close 0", "no such connection" },
        { "abort", "usage: abort <id>" },
        { "abort 0 now", "usage: abort <id>" },
        { "abort -1", "bad id" },
        { "abort 0", "no such connection" },
        { "netstat -a", "usage: netstat" },
        { "stats 1", "usage: stats" },
        { "help me", "usage: help" },
        { "trace", "usage: trace on|off" },
        { "trace maybe", "usage: trace on|off" },
        { "trace onx", "usage: trace on|off" },
        { "trace o", "usage: trace on|off" },
        { "trace on off", "usage: trace on|off" },
    };
    char ids[3][16];
    snprintf(ids[0], sizeof ids[0], "%d", TCP_MAX_CONNS);
    snprintf(ids[1], sizeof ids[1], "%d", TCP_MAX_CONNS + 10);
    snprintf(ids[2], sizeof ids[2], "99999999999");
    static struct net_stack before;
    memcpy(&before, &st, sizeof st);
    uint8_t trace_before = con.trace_on;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char want[128];
        snprintf(want, sizeof want, "error: %s\r\n", cases[i][1]);
        const char *got = cmd(cases[i][0]);
        if (strcmp(got, want))
            fail_msg("'%s': got '%s' want '%s'", cases[i][0], got, want);
        if (memcmp(&before, &st, sizeof st))
            fail_msg("'%s' changed the stack", cases[i][0]);
        assert_int_equal(con.trace_on, trace_before);
    }
    for (int i = 0; i < 3; i++) {
        const char *verbs[] = { "send %s x", "close %s", "abort %s" };
        for (int v = 0; v < 3; v++) {
            char line[64];
            snprintf(line, sizeof line, verbs[v], ids[i]);
            assert_string_equal(cmd(line), "error: bad id\r\n");
        }
    }
    assert_memory_equal(&before, &st, sizeof st);
}

static void test_help(void **state)
{
    (void)state;
    const char *h = cmd("help");
    static const char *const want[] = { "  connect <ip> <port>\r\n", "  send <id> <text>\r\n",
                                        "  close <id>\r\n", "  abort <id>\r\n", "  netstat\r\n",
                                        "  stats\r\n", "  trace on|off\r\n", "  help\r\n",
                                        "flags: F=FIN S=SYN R=RST P=PSH A=ACK U=URG E=ECE C=CWR\r\n" };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (!strstr(h, want[i]))
            fail_msg("help lacks '%s'", want[i]);
    /* leading and repeated spaces are fine */
    assert_string_equal(cmd("   trace    on  "), "trace: on\r\n");
}

/* ---- stats ---- */

static void extra(struct console *c, void *ctx)
{
    assert_ptr_equal(c, &con);
    console_print(c, "%s %u\n", (const char *)ctx, (uint32_t)4000000000u);
}

static void test_stats(void **state)
{
    (void)state;
    uint32_t *v = (uint32_t *)&st.stats;
    size_t n = sizeof st.stats / sizeof *v;
    for (size_t i = 0; i < n; i++)
        v[i] = (uint32_t)(i * 1000 + 1);
    st.stats.tcp_retrans = 0xFFFFFFFFu;
    const char *o = cmd("stats");
    /* one "name value" line per counter, in NET_STATS order */
    char want[4096];
    size_t w = 0;
#define LINE(name) w += (size_t)snprintf(want + w, sizeof want - w, "%s %u\r\n", #name, (unsigned)st.stats.name);
    NET_STATS(LINE)
#undef LINE
    assert_string_equal(o, want);
    assert_non_null(strstr(o, "tcp_retrans 4294967295\r\n"));
    assert_non_null(strstr(o, "tcp_rst_out "));
    /* driver counters through the hook, after the stack's */
    con.extra_stats = extra;
    con.extra_ctx = "lan_rx_overrun";
    o = cmd("stats");
    assert_int_equal(strlen(o), w + strlen("lan_rx_overrun 4000000000\r\n"));
    assert_string_equal(o + w, "lan_rx_overrun 4000000000\r\n");
}

/* ---- trace ---- */

static const char *trace_rec(int kind, int id, uint8_t flags, uint32_t seq, uint32_t ack,
                             uint16_t wnd, uint16_t len)
{
    struct net_trace t = { .kind = (uint8_t)kind, .id = (int8_t)id, .flags = flags,
                           .wnd = wnd, .len = len, .seq = seq, .ack = ack };
    clear();
    st.trace(st.trace_ctx, &t);
    return out;
}

static const char *trace_state(int id, int from, int to)
{
    struct net_trace t = { .kind = NET_TRACE_STATE, .id = (int8_t)id,
                           .old_state = (uint8_t)from, .new_state = (uint8_t)to };
    clear();
    st.trace(st.trace_ctx, &t);
    return out;
}

#define IN NET_TRACE_SEG_IN
#define OUT NET_TRACE_SEG_OUT

static void test_trace_format(void **state)
{
    (void)state;
    const int L = TCP_MAX_CONNS - 1; /* the last slot */
    assert_ptr_equal(st.trace_ctx, &con);
    cmd("trace on");
    /* active open, ISNs near the wrap */
    assert_string_equal(trace_state(0, TCP_CLOSED, TCP_SYN_SENT), "tcp 0 CLOSED -> SYN-SENT\r\n");
    st.conn[0].state = TCP_SYN_SENT;
    assert_string_equal(trace_rec(OUT, 0, 0x02, 0xFFFFFFF0u, 0, 0, 0),
                        "tcp 0 out S seq=0 ack=0 wnd=0 len=0\r\n");
    assert_string_equal(trace_rec(IN, 0, 0x12, 5000, 0xFFFFFFF1u, 65535, 0),
                        "tcp 0 in SA seq=0 ack=1 wnd=65535 len=0\r\n");
    st.conn[0].snd_una = 0xFFFFFFF1u; /* as the stack has them on ESTABLISHED */
    st.conn[0].rcv_nxt = 5001;
    assert_string_equal(trace_state(0, TCP_SYN_SENT, TCP_ESTABLISHED),
                        "tcp 0 SYN-SENT -> ESTABLISHED\r\n");
    st.conn[0].state = TCP_ESTABLISHED;
    assert_string_equal(trace_rec(OUT, 0, 0x18, 0xFFFFFFF1u, 5001, 4096, 20),
                        "tcp 0 out PA seq=1 ack=1 wnd=4096 len=20\r\n");
    assert_string_equal(trace_rec(IN, 0, 0x10, 5001, 0x5u, 1000, 0),
                        "tcp 0 in A seq=1 ack=21 wnd=1000 len=0\r\n");
    assert_string_equal(trace_rec(IN, 0, 0x19, 5001, 0x5u, 1000, 3),
                        "tcp 0 in FPA seq=1 ack=21 wnd=1000 len=3\r\n");
    /* a SYN on a synchronized connection (challenge ACK case) keeps the ISNs */
    assert_string_equal(trace_rec(IN, 0, 0x02, 777777, 0, 512, 0),
                        "tcp 0 in S seq=772777 ack=0 wnd=512 len=0\r\n");
    assert_string_equal(trace_rec(IN, 0, 0x04, 5005, 0, 0, 0),
                        "tcp 0 in R seq=5 ack=0 wnd=0 len=0\r\n");
    /* flags: none, all */
    assert_string_equal(trace_rec(IN, 0, 0x00, 5001, 0, 0, 0), "tcp 0 in . seq=1 ack=0 wnd=0 len=0\r\n");
    assert_string_equal(trace_rec(OUT, 0, 0xFD, 0xFFFFFFF1u, 5001, 1, 0),
                        "tcp 0 out FRPAUEC seq=1 ack=1 wnd=1 len=0\r\n");
    /* no connection: absolute */
    assert_string_equal(trace_rec(OUT, -1, 0x14, 0, 123456789u, 0, 0),
                        "tcp -1 out RA seq=0 ack=123456789 wnd=0 len=0\r\n");
    assert_string_equal(trace_rec(IN, -1, 0x02, 4000000000u, 0, 64240, 0),
                        "tcp -1 in S seq=4000000000 ack=0 wnd=64240 len=0\r\n");
    /* CLOSED forgets the ISNs: numbers are absolute again */
    assert_string_equal(trace_state(0, TCP_LAST_ACK, TCP_CLOSED), "tcp 0 LAST-ACK -> CLOSED\r\n");
    st.conn[0].state = TCP_CLOSED;
    assert_string_equal(trace_rec(OUT, 0, 0x10, 0xFFFFFFF2u, 5002, 7, 0),
                        "tcp 0 out A seq=4294967282 ack=5002 wnd=7 len=0\r\n");
    /* passive open (last slot): the SYN comes in without an id, our SYN-ACK gives both */
    trace_rec(IN, -1, 0x02, 100, 0, 64240, 0);
    char want[128];
    snprintf(want, sizeof want, "tcp %d CLOSED -> SYN-RECEIVED\r\n", L);
    assert_string_equal(trace_state(L, TCP_CLOSED, TCP_SYN_RECEIVED), want);
    st.conn[L].state = TCP_SYN_RECEIVED;
    snprintf(want, sizeof want, "tcp %d out SA seq=0 ack=1 wnd=1024 len=0\r\n", L);
    assert_string_equal(trace_rec(OUT, L, 0x12, 9000, 101, 1024, 0), want);
    snprintf(want, sizeof want, "tcp %d in A seq=1 ack=1 wnd=64240 len=0\r\n", L);
    assert_string_equal(trace_rec(IN, L, 0x10, 101, 9001, 64240, 0), want);
    trace_state(L, TCP_SYN_RECEIVED, TCP_CLOSED);
    st.conn[L].state = TCP_CLOSED;
    /* simultaneous open: our SYN, their bare SYN, our SYN-ACK, theirs */
    st.conn[0].state = TCP_SYN_SENT;
    trace_rec(OUT, 0, 0x02, 70, 0, 0, 0);
    assert_string_equal(trace_rec(IN, 0, 0x02, 300, 0, 100, 0), "tcp 0 in S seq=0 ack=0 wnd=100 len=0\r\n");
    assert_int_equal(con.iss[0], 70); /* their bare SYN acks nothing: ours is kept */
    st.conn[0].state = TCP_SYN_RECEIVED;
    assert_string_equal(trace_rec(OUT, 0, 0x12, 70, 301, 100, 0),
                        "tcp 0 out SA seq=0 ack=1 wnd=100 len=0\r\n");
    assert_string_equal(trace_rec(IN, 0, 0x12, 300, 71, 100, 0),
                        "tcp 0 in SA seq=0 ack=1 wnd=100 len=0\r\n");
    /* TIME-WAIT hit by a SYN: TCP may reject it (challenge ACK), so the
     * old ISNs stay; if TCP reopens, CLOSED and our SYN-ACK set new ones */
    st.conn[0].state = TCP_TIME_WAIT;
    assert_string_equal(trace_rec(IN, 0, 0x02, 5000000, 0, 100, 0),
                        "tcp 0 in S seq=4999700 ack=0 wnd=100 len=0\r\n");
    assert_int_equal(con.irs[0], 300);
    assert_int_equal(con.iss[0], 70);
    trace_state(0, TCP_TIME_WAIT, TCP_CLOSED);
    st.conn[0].state = TCP_CLOSED;
    /* our bare SYN on a slot that still knows a peer ISN: forgotten */
    con.irs[L] = 777;
    snprintf(want, sizeof want, "tcp %d out S seq=0 ack=0 wnd=0 len=0\r\n", L);
    assert_string_equal(trace_rec(OUT, L, 0x02, 42, 0, 0, 0), want);
    assert_int_equal(con.iss[L], 42);
    assert_int_equal(con.irs[L], 0);
    trace_state(L, TCP_SYN_SENT, TCP_CLOSED);
    /* trace off: nothing printed, ISNs still recorded */
    assert_string_equal(cmd("trace off"), "trace: off\r\n");
    assert_string_equal(trace_state(L, TCP_CLOSED, TCP_SYN_SENT), "");
    assert_string_equal(trace_rec(OUT, L, 0x02, 1, 0, 0, 0), "");
    assert_int_equal(con.iss[L], 1);
    assert_int_equal(con.irs[L], 0);
    memset(st.conn, 0, sizeof st.conn);
}

/* ---- netstat ---- */

static void test_netstat(void **state)
{
    (void)state;
    assert_string_equal(cmd("netstat"), "");
    st.lst[0].port = 7;
    st.lst[TCP_MAX_LISTENERS - 1].port = 65535;
    /* an established connection with its ISNs seen in the trace */
    struct tcp_conn *k = &st.conn[0];
    k->state = TCP_ESTABLISHED;
    k->rip = 0xC0A80701u;
    k->lport = 7;
    k->rport = 40000;
    trace_rec(IN, -1, 0x02, 0xFFFFFFFFu, 0, 1000, 0);
    trace_rec(OUT, 0, 0x12, 123, 0, 1000, 0);
    k->snd_una = 123 + 1 + 100;
    k->snd_nxt = 123 + 1 + 150;
    k->rcv_nxt = 0 + 1000;
    k->nrtx = 15;
    const char *est = "0 192.168.7.2:7 192.168.7.1:40000 ESTABLISHED una=101 nxt=151 rcv=1001 rtx=15\r\n";
    char want[512];
    snprintf(want, sizeof want, "L 192.168.7.2:7 LISTEN\r\nL 192.168.7.2:65535 LISTEN\r\n%s", est);
    if (TCP_MAX_CONNS > 1) {
        /* a connection whose SYN the console never saw: absolute numbers */
        struct tcp_conn *j = &st.conn[TCP_MAX_CONNS - 1];
        j->state = TCP_SYN_SENT;
        j->rip = 0x0A000001u;
        j->lport = 49152;
        j->rport = 19;
        j->snd_una = 0xDEADBEEFu;
        j->snd_nxt = 0xDEADBEF0u;
        snprintf(want + strlen(want), sizeof want - strlen(want),
                 "%d 192.168.7.2:49152 10.0.0.1:19 SYN-SENT una=3735928559 nxt=3735928560 rcv=0 rtx=0\r\n",
                 TCP_MAX_CONNS - 1);
    }
    assert_string_equal(cmd("netstat"), want);
    /* every state by its RFC 9293 name */
    static const char *const names[] = { "CLOSED",     "LISTEN",     "SYN-SENT",   "SYN-RECEIVED",
                                         "ESTABLISHED", "FIN-WAIT-1", "FIN-WAIT-2", "CLOSE-WAIT",
                                         "CLOSING",    "LAST-ACK",   "TIME-WAIT" };
    for (int s = TCP_SYN_RECEIVED; s < TCP_NUM_STATES; s++) {
        char needle[64];
        k->state = (uint8_t)s;
        snprintf(needle, sizeof needle, "40000 %s una=", names[s]);
        if (!strstr(cmd("netstat"), needle))
            fail_msg("no '%s' in '%s'", needle, out);
    }
    memset(st.conn, 0, sizeof st.conn);
    memset(st.lst, 0, sizeof st.lst);
}

/* ---- through the whole stack (tcp_harness: the test is the peer) ---- */

#define PEER 1000u /* the peer's ISS */

static int setup_frames(void **state)
{
    (void)state;
    th_setup_no_listen();
    console_init(&con, &th_stack, cap_write, &out_len);
    con.trace_on = 0;
    clear();
    return 0;
}

/* connect from the console; returns our ISS, leaves SYN-SENT */
static uint32_t console_connect(void)
{
    assert_string_equal(cmd("connect 192.168.7.1 40000"), "connect: id 0\r\n");
    struct th_seg syn = th_expect(TH_SYN, th_stack.conn[0].snd_una, 0, 0);
    assert_int_equal(syn.dport, 40000);
    th_our_port = syn.sport;
    return syn.seq;
}

static uint32_t console_open(void)
{
    uint32_t iss = console_connect();
    clear();
    th_send(TH_SYN | TH_ACK, PEER, iss + 1, NULL, 0);
    th_expect(TH_ACK, iss + 1, PEER + 1, 0);
    assert_string_equal(out, "conn 0 established\r\n");
    return iss;
}

static void test_conn_session(void **state)
{
    (void)state;
    if (TCP_WND < 64)
        skip(); /* the peer's data would not fit the window */
    assert_string_equal(cmd("trace on"), "trace: on\r\n");
    /* the active open, traced with numbers relative to the ISNs */
    clear();
    for (const char *p = "connect 192.168.7.1 40000\r"; *p; p++)
        console_input(&con, *p, 0);
    struct th_seg syn = th_expect(TH_SYN, th_stack.conn[0].snd_una, 0, 0);
    th_our_port = syn.sport;
    uint32_t iss = syn.seq;
    char want[1024];
    snprintf(want, sizeof want,
             "connect 192.168.7.1 40000\r\n"
             "tcp 0 CLOSED -> SYN-SENT\r\n"
             "tcp 0 out S seq=0 ack=0 wnd=%u len=0\r\n"
             "connect: id 0\r\n", TCP_WND);
    assert_string_equal(out, want);
    clear();
    th_send(TH_SYN | TH_ACK, PEER, iss + 1, NULL, 0);
    th_expect(TH_ACK, iss + 1, PEER + 1, 0);
    snprintf(want, sizeof want,
             "tcp 0 in SA seq=0 ack=1 wnd=64240 len=0\r\n"
             "tcp 0 SYN-SENT -> ESTABLISHED\r\n"
             "conn 0 established\r\n"
             "tcp 0 out A seq=1 ack=1 wnd=%u len=0\r\n", TCP_WND);
    assert_string_equal(out, want);
    /* data: printed escaped, all consumed */
    clear();
    th_send(TH_PSH | TH_ACK, PEER + 1, iss + 1, "hi \"x\"\\\r\n\t\x01\xff", 13);
    assert_string_equal(out, "tcp 0 in PA seq=1 ack=1 wnd=64240 len=13\r\n"
                             "conn 0 data \"hi \\\"x\\\"\\\\\\r\\n\\t\\x01\\xff\\x00\"\r\n");
    assert_int_equal(th_stack.conn[0].rcv_nxt, PEER + 14);
    /* send: the rest of the line, spaces kept, plus LF */
    const char *o = cmd("send 0  two  words ");
    struct th_seg d = th_expect(TH_PSH | TH_ACK, iss + 1, PEER + 14, 13);
    assert_memory_equal(d.data, " two  words \n", 13);
    snprintf(want, sizeof want, "tcp 0 out PA seq=1 ack=14 wnd=%u len=13\r\nsend: 13 bytes\r\n", TCP_WND - 13);
    assert_string_equal(o, want);
    snprintf(want, sizeof want,
             "0 192.168.7.2:%u 192.168.7.1:40000 ESTABLISHED una=1 nxt=14 rcv=14 rtx=0\r\n",
             th_our_port);
    assert_string_equal(cmd("netstat"), want);
    /* a retransmission shows in netstat */
    clear();
    for (int ms = 0; ms < 2000 && !th_pending(); ms += 4)
        th_advance(4);
    assert_int_equal(th_pending(), 1);
    d = th_take();
    assert_int_equal(d.seq, iss + 1);
    snprintf(want, sizeof want, "tcp 0 out PA seq=1 ack=14 wnd=%u len=13\r\n", TCP_WND - 13);
    assert_string_equal(out, want);
    snprintf(want, sizeof want,
             "0 192.168.7.2:%u 192.168.7.1:40000 ESTABLISHED una=1 nxt=14 rcv=14 rtx=1\r\n",
             th_our_port);
    assert_string_equal(cmd("netstat"), want);
    /* close: FIN after the data */
    o = cmd("close 0");
    struct th_seg f = th_take();
    assert_true(f.flags & TH_FIN);
    assert_int_equal(f.seq, iss + 14);
    snprintf(want, sizeof want,
             "tcp 0 ESTABLISHED -> FIN-WAIT-1\r\n"
             "tcp 0 out FA seq=14 ack=14 wnd=%u len=0\r\n"
             "close: id 0\r\n", TCP_WND - 13);
    assert_string_equal(o, want);
    assert_string_equal(cmd("close 0"), "error: bad state\r\n");
    assert_string_equal(cmd("send 0 x"), "error: cannot send in FIN-WAIT-1\r\n");
    /* the peer acks everything and closes: TIME-WAIT, "closed" */
    clear();
    th_send(TH_FIN | TH_ACK, PEER + 14, iss + 15, NULL, 0);
    th_expect(TH_ACK, iss + 15, PEER + 15, 0);
    snprintf(want, sizeof want,
             "tcp 0 in FA seq=14 ack=15 wnd=64240 len=0\r\n"
             "tcp 0 FIN-WAIT-1 -> FIN-WAIT-2\r\n"
             "tcp 0 FIN-WAIT-2 -> TIME-WAIT\r\n"
             "conn 0 closed\r\n"
             "tcp 0 out A seq=15 ack=15 wnd=%u len=0\r\n", TCP_WND - 13);
    assert_string_equal(out, want);
    snprintf(want, sizeof want,
             "0 192.168.7.2:%u 192.168.7.1:40000 TIME-WAIT una=15 nxt=15 rcv=15 rtx=0\r\n",
             th_our_port);
    assert_string_equal(cmd("netstat"), want);
    /* abort works in TIME-WAIT (no RST there) and frees the slot; the
     * application heard CLOSED on entering TIME-WAIT, not again now */
    assert_string_equal(cmd("abort 0"), "tcp 0 TIME-WAIT -> CLOSED\r\nabort: id 0\r\n");
    th_expect_none();
    assert_string_equal(cmd("netstat"), "");
}

static void test_conn_refused(void **state)
{
    (void)state;
    uint32_t iss = console_connect();
    clear();
    th_send(TH_RST | TH_ACK, 0, iss + 1, NULL, 0);
    assert_string_equal(out, "conn 0 refused\r\n");
    assert_int_equal(th_state(0), TCP_CLOSED);
    assert_string_equal(cmd("netstat"), "");
    assert_string_equal(cmd("close 0"), "error: no such connection\r\n");
}

static void test_conn_reset(void **state)
{
    (void)state;
    uint32_t iss = console_open();
    clear();
    th_send(TH_RST, PEER + 1, 0, NULL, 0);
    assert_string_equal(out, "conn 0 reset\r\n");
    assert_int_equal(th_state(0), TCP_CLOSED);
    (void)iss;
}

static void test_conn_timeout(void **state)
{
    (void)state;
    console_connect();
    clear();
    th_advance(200000);
    assert_non_null(strstr(out, "conn 0 timed out\r\n"));
    assert_int_equal(th_state(0), TCP_CLOSED);
    while (th_pending()) /* the SYN retransmissions */
        assert_int_equal(th_take().flags, TH_SYN);
    cmd("stats");
    assert_non_null(strstr(out, "tcp_timeouts 1\r\n"));
    char want[32];
    snprintf(want, sizeof want, "tcp_retrans %d\r\n", TCP_SYN_RETRIES);
    assert_non_null(strstr(out, want));
}

static void test_conn_peer_close_and_abort(void **state)
{
    (void)state;
    uint32_t iss = console_open();
    clear();
    th_send(TH_FIN | TH_ACK, PEER + 1, iss + 1, NULL, 0);
    th_expect(TH_ACK, iss + 1, PEER + 2, 0);
    assert_string_equal(out, "conn 0 peer closed\r\n");
    /* CLOSE-WAIT: we may still send */
    assert_string_equal(cmd("send 0 late"), "send: 5 bytes\r\n");
    struct th_seg d = th_expect(TH_PSH | TH_ACK, iss + 1, PEER + 2, 5);
    assert_memory_equal(d.data, "late\n", 5);
    /* abort: RST, then the slot is free */
    const char *o = cmd("abort 0");
    assert_string_equal(o, "conn 0 closed\r\nabort: id 0\r\n");
    th_expect(TH_RST, iss + 6, 0, 0);
    assert_int_equal(th_state(0), TCP_CLOSED);
}

static void test_conn_send_limits(void **state)
{
    (void)state;
    uint32_t iss = console_connect();
    assert_string_equal(cmd("send 0 early"), "error: cannot send in SYN-SENT\r\n");
    clear();
    th_send_wnd(TH_SYN | TH_ACK, PEER, iss + 1, 0); /* a zero window: nothing leaves */
    th_expect(TH_ACK, iss + 1, PEER + 1, 0);
    char line[CONSOLE_LINE_MAX + 1];
    memset(line, 'z', sizeof line);
    memcpy(line, "send 0 ", 7);
    line[CONSOLE_LINE_MAX] = 0;
    size_t per = CONSOLE_LINE_MAX - 7 + 1, queued = 0;
    char want[64];
    snprintf(want, sizeof want, "send: %u bytes\r\n", (unsigned)per);
    while (queued + per <= TCP_TXBUF) {
        assert_string_equal(cmd(line), want);
        queued += per;
    }
    static struct net_stack before;
    memcpy(&before, &th_stack, sizeof th_stack);
    snprintf(want, sizeof want, "error: no room (%u bytes free)\r\n", (unsigned)(TCP_TXBUF - queued));
    assert_string_equal(cmd(line), want);
    assert_memory_equal(&before, &th_stack, sizeof th_stack);
}

/* Connections of other applications: no event or data lines, but traced,
 * and shown by netstat with their listener. */
static void test_passive_trace(void **state)
{
    (void)state;
    assert_int_equal(tcp_listen(&th_stack, 7, &th_tcp_app), 0);
    cmd("trace on");
    clear();
    th_send_syn_mss(4000000000u, 1460);
    struct th_seg sa = th_take();
    char want[1024];
    snprintf(want, sizeof want,
             "tcp -1 in S seq=4000000000 ack=0 wnd=64240 len=0\r\n"
             "tcp 0 CLOSED -> SYN-RECEIVED\r\n"
             "tcp 0 out SA seq=0 ack=1 wnd=%u len=0\r\n", sa.wnd);
    assert_string_equal(out, want);
    clear();
    th_send(TH_ACK, 4000000001u, sa.seq + 1, NULL, 0);
    assert_string_equal(out, "tcp 0 in A seq=1 ack=1 wnd=64240 len=0\r\n"
                             "tcp 0 SYN-RECEIVED -> ESTABLISHED\r\n");
    clear();
    th_send(TH_PSH | TH_ACK, 4000000001u, sa.seq + 1, "abc", 3);
    assert_string_equal(out, "tcp 0 in PA seq=1 ack=1 wnd=64240 len=3\r\n"); /* no data line */
    assert_string_equal(cmd("netstat"),
                        "L 192.168.7.2:7 LISTEN\r\n"
                        "0 192.168.7.2:7 192.168.7.1:40000 ESTABLISHED una=1 nxt=1 rcv=4 rtx=0\r\n");
    /* a segment for no connection: RST with absolute numbers */
    clear();
    struct th_seg g = { .sport = 5555, .dport = 9, .seq = 77, .ack = 0, .flags = TH_SYN, .wnd = 1 };
    th_send_full(&g, NULL, 0);
    assert_string_equal(out, "tcp -1 in S seq=77 ack=0 wnd=1 len=0\r\n"
                             "tcp -1 out RA seq=0 ack=78 wnd=0 len=0\r\n");
}

/* ---- console_print ---- */

static void test_print(void **state)
{
    (void)state;
    clear();
    console_print(&con, "%d %d %u %I %s%% %q\n", 0, -128, (uint32_t)4294967295u, (uint32_t)0x7F000001u,
                  "x");
    assert_string_equal(out, "0 -128 4294967295 127.0.0.1 x% q\r\n");
    clear();
    console_print(&con, "50%");
    assert_string_equal(out, "50");
    console_poll(&con, 12345);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_echo_and_eol, setup),
        cmocka_unit_test_setup(test_backspace, setup),
        cmocka_unit_test_setup(test_line_too_long, setup),
        cmocka_unit_test_setup(test_bad_commands, setup),
        cmocka_unit_test_setup(test_help, setup),
        cmocka_unit_test_setup(test_stats, setup),
        cmocka_unit_test_setup(test_trace_format, setup),
        cmocka_unit_test_setup(test_netstat, setup),
        cmocka_unit_test_setup(test_print, setup),
        cmocka_unit_test_setup(test_conn_session, setup_frames),
        cmocka_unit_test_setup(test_conn_refused, setup_frames),
        cmocka_unit_test_setup(test_conn_reset, setup_frames),
        cmocka_unit_test_setup(test_conn_timeout, setup_frames),
        cmocka_unit_test_setup(test_conn_peer_close_and_abort, setup_frames),
        cmocka_unit_test_setup(test_conn_send_limits, setup_frames),
        cmocka_unit_test_setup(test_passive_trace, setup_frames),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
