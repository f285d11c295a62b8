/* echo, discard and chargen end to end at the frame level: the test is the
 * peer (tcp_harness), the services run on the real stack. */
#include "tcp_harness.h"

#include <string.h>

#include "services.h"

#define PEER_ISS 1000000u

static uint16_t peer_port; /* of the connection under test */

static int setup(void **state)
{
    (void)state;
    th_setup_no_listen();
    assert_int_equal(services_init(&th_stack), 0);
    return 0;
}

/* Handshake to our port; returns the id, sets *iss, checks the window we
 * offered in the SYN-ACK. Leaves what followed the final ACK queued. */
static int open_to(uint16_t port, uint16_t peer_port_, uint16_t want_wnd, uint32_t *iss)
{
    th_our_port = port;
    peer_port = peer_port_;
    struct th_seg g = { .sport = peer_port_, .seq = PEER_ISS, .flags = TH_SYN, .wnd = 64240 };
    uint8_t mss[4] = { 2, 4, 1460 >> 8, 1460 & 255 };
    th_send_full(&g, mss, 4);
    struct th_seg sa = th_take();
    assert_int_equal(sa.flags, TH_SYN | TH_ACK);
    assert_int_equal(sa.ack, PEER_ISS + 1);
    assert_int_equal(sa.sport, port);
    assert_int_equal(sa.dport, peer_port_);
    assert_int_equal(sa.wnd, want_wnd);
    int id = 0;
    while (id < TCP_MAX_CONNS && !(th_stack.conn[id].state == TCP_SYN_RECEIVED &&
                                   th_stack.conn[id].snd_una == sa.seq))
        id++;
    assert_true(id < TCP_MAX_CONNS);
    struct th_seg a = { .sport = peer_port_, .seq = PEER_ISS + 1, .ack = sa.seq + 1,
                        .flags = TH_ACK, .wnd = 64240 };
    th_send_full(&a, NULL, 0);
    assert_int_equal(th_state(id), TCP_ESTABLISHED);
    *iss = sa.seq;
    return id;
}

/* A data segment from the peer with the given window. */
static void peer_data(uint8_t flags, uint32_t seq, uint32_t ack, uint16_t wnd, const void *d,
                      uint16_t len)
{
    static struct th_seg g;
    memset(&g, 0, sizeof g);
    g.sport = peer_port;
    g.seq = seq;
    g.ack = ack;
    g.flags = flags;
    g.wnd = wnd;
    g.len = len;
    if (len)
        memcpy(g.data, d, len);
    th_send_full(&g, NULL, 0);
}

static void peer_ack(uint32_t seq, uint32_t ack)
{
    peer_data(TH_ACK, seq, ack, 64240, NULL, 0);
}

/* Take every segment sent; they must continue our stream at iss + 1 +
 * *got. Their data goes to buf (if any). Returns their flags OR'd; the
 * last ack and window go to *ack / *wnd when given. */
static uint8_t drain(uint32_t iss, uint8_t *buf, uint32_t *got, uint32_t *ack, uint16_t *wnd)
{
    uint8_t flags = 0;
    while (th_pending()) {
        struct th_seg g = th_take();
        assert_int_equal(g.seq, iss + 1 + *got);
        assert_false(flags & TH_FIN); /* nothing after our FIN */
        if (buf)
            memcpy(buf + *got, g.data, g.len);
        *got += g.len;
        flags |= g.flags;
        if (ack)
            *ack = g.ack;
        if (wnd)
            *wnd = g.wnd;
    }
    return flags;
}

static void test_listeners(void **state)
{
    (void)state;
    int ports = 0;
    for (int i = 0; i < TCP_MAX_LISTENERS; i++)
        ports |= th_stack.lst[i].port == 7 ? 1 : th_stack.lst[i].port == 9 ? 2
                                                 : th_stack.lst[i].port == 19 ? 4 : 0;
    assert_int_equal(ports, 7);
    /* a second registration fails (ports taken) and says so */
    assert_int_equal(services_init(&th_stack), TCP_ERR_STATE);
}

/* ---- echo ---- */

static void test_echo(void **state)
{
    (void)state;
    uint32_t iss;
    /* the window offered is the free send space: nothing taken that cannot be echoed */
    int id = open_to(7, 40000, TCP_TXBUF, &iss);
    th_expect_none();
    peer_data(TH_PSH | TH_ACK, PEER_ISS + 1, iss + 1, 64240, "hello", 5);
    struct th_seg e = th_expect(TH_PSH | TH_ACK, iss + 1, PEER_ISS + 6, 5);
    assert_memory_equal(e.data, "hello", 5);
    assert_int_equal(e.wnd, TCP_TXBUF - 5);
    th_expect_none();
    /* ACK of the echo: space back, no segment needed (window stayed open) */
    peer_ack(PEER_ISS + 6, iss + 6);
    th_expect_none();
    assert_int_equal(th_state(id), TCP_ESTABLISHED);
    assert_int_equal(tcp_send_space(&th_stack, id), TCP_TXBUF);
}

/* The peer fills the window without reading: the window closes when the
 * send buffer is full, nothing past it is taken; once the peer reads, the
 * window opens again and all of it comes back. */
static void test_echo_full_window(void **state)
{
    (void)state;
    uint32_t iss, taken = 0, got = 0, ack = 0;
    uint16_t wnd = 1;
    enum { EXTRA = TCP_TXBUF / 2 < 100 ? TCP_TXBUF / 2 : 100 };
    static uint8_t big[TCP_TXBUF + EXTRA], echoed[TCP_TXBUF + EXTRA];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (uint8_t)(i * 7 + 3);
    int id = open_to(7, 40001, TCP_TXBUF, &iss);
    while (taken < TCP_TXBUF) {
        uint16_t n = (uint16_t)(sizeof big - taken < 1000 ? sizeof big - taken : 1000);
        peer_data(TH_ACK, PEER_ISS + 1 + taken, iss + 1, 64240, big + taken, n);
        uint32_t now_taken = th_stack.conn[id].rcv_nxt - (PEER_ISS + 1);
        assert_true(now_taken > taken);
        taken = now_taken;
        drain(iss, echoed, &got, NULL, NULL); /* ACKs may be delayed, Nagle may hold */
    }
    assert_int_equal(taken, TCP_TXBUF);
    assert_int_equal(tcp_send_space(&th_stack, id), 0);
    /* past the window: not taken, answered at once with a zero window */
    peer_data(TH_ACK, PEER_ISS + 1 + taken, iss + 1, 64240, big + taken, EXTRA);
    assert_int_equal(th_stack.conn[id].rcv_nxt, PEER_ISS + 1 + taken);
    assert_true(th_pending() > 0);
    drain(iss, echoed, &got, &ack, &wnd);
    assert_int_equal(ack, PEER_ISS + 1 + taken);
    assert_int_equal(wnd, 0);
    /* the peer reads what came: the rest comes, the window opens */
    for (int round = 0; round < 64 && got < TCP_TXBUF; round++) {
        peer_ack(PEER_ISS + 1 + taken, iss + 1 + got);
        drain(iss, echoed, &got, &ack, &wnd);
    }
    assert_int_equal(got, TCP_TXBUF);
    assert_memory_equal(echoed, big, TCP_TXBUF);
    peer_ack(PEER_ISS + 1 + taken, iss + 1 + got);
    drain(iss, echoed, &got, &ack, &wnd);
    assert_int_equal(tcp_send_space(&th_stack, id), TCP_TXBUF);
    assert_true(wnd > 0);
    /* and the rest comes through */
    peer_data(TH_PSH | TH_ACK, PEER_ISS + 1 + taken, iss + 1 + got, 64240, big + taken, EXTRA);
    for (int round = 0; round < 8 && got < TCP_TXBUF + EXTRA; round++) {
        drain(iss, echoed, &got, &ack, &wnd);
        peer_ack(PEER_ISS + 1 + taken + EXTRA, iss + 1 + got);
    }
    assert_int_equal(got, TCP_TXBUF + EXTRA);
    assert_memory_equal(echoed, big, TCP_TXBUF + EXTRA);
}

/* FIN from the peer right after data: the echo, then our FIN. */
static void test_echo_half_close(void **state)
{
    (void)state;
    uint32_t iss;
    int id = open_to(7, 40002, TCP_TXBUF, &iss);
    peer_data(TH_FIN | TH_PSH | TH_ACK, PEER_ISS + 1, iss + 1, 64240, "bye\n", 4);
    struct th_seg g = th_take();
    assert_int_equal(g.seq, iss + 1);
    assert_int_equal(g.ack, PEER_ISS + 6); /* data and FIN */
    assert_int_equal(g.len, 4);
    assert_memory_equal(g.data, "bye\n", 4);
    if (!(g.flags & TH_FIN)) { /* FIN may ride with the data or follow it */
        g = th_take();
        assert_int_equal(g.seq, iss + 5);
        assert_int_equal(g.len, 0);
    }
    assert_true(g.flags & TH_FIN);
    th_expect_none();
    assert_int_equal(th_state(id), TCP_LAST_ACK);
    peer_ack(PEER_ISS + 6, iss + 6);
    assert_int_equal(th_state(id), TCP_CLOSED);
    th_expect_none();
}

/* FIN while most of the echo still waits for the peer's window: the data
 * goes first, our FIN after its last byte (nc -N ends by itself). */
static void test_echo_half_close_pending_data(void **state)
{
    (void)state;
    /* D leaves the window open, so the FIN is in it */
    enum { D = TCP_TXBUF / 2 < 1000 ? TCP_TXBUF / 2 : 1000, W = D / 4 };
    uint32_t iss, got = 0, ack = 0;
    static uint8_t d[D], echoed[D];
    for (size_t i = 0; i < sizeof d; i++)
        d[i] = (uint8_t)('a' + i % 26);
    int id = open_to(7, 40003, TCP_TXBUF, &iss);
    peer_data(TH_ACK, PEER_ISS + 1, iss + 1, W, d, D);
    assert_false(drain(iss, echoed, &got, &ack, NULL) & TH_FIN);
    assert_int_equal(got, W); /* the peer's window */
    assert_int_equal(ack, PEER_ISS + 1 + D);
    peer_data(TH_FIN | TH_ACK, PEER_ISS + 1 + D, iss + 1, W, NULL, 0);
    th_expect(TH_ACK, iss + 1 + W, PEER_ISS + 2 + D, 0); /* FIN acked, ours not yet */
    assert_int_equal(th_state(id), TCP_LAST_ACK);
    /* the peer takes it all: the rest, then FIN after the last byte */
    uint8_t flags = 0;
    for (int round = 0; round < 64 && !(flags & TH_FIN); round++) {
        peer_data(TH_ACK, PEER_ISS + 2 + D, iss + 1 + got, 4000, NULL, 0);
        flags = drain(iss, echoed, &got, &ack, NULL);
        assert_int_equal(ack, PEER_ISS + 2 + D);
    }
    assert_true(flags & TH_FIN);
    assert_int_equal(got, D);
    assert_memory_equal(echoed, d, D);
    peer_ack(PEER_ISS + 2 + D, iss + 1 + D + 1);
    assert_int_equal(th_state(id), TCP_CLOSED);
}

/* ---- discard ---- */

static void test_discard(void **state)
{
    (void)state;
    /* two chunks that leave the window open (for the FIN) */
    enum { C = TCP_WND / 4 < 1000 ? TCP_WND / 4 : 1000 };
    if (C < 1)
        skip();
    uint32_t iss;
    static uint8_t d[C];
    memset(d, 'x', sizeof d);
    int id = open_to(9, 40010, TCP_WND, &iss);
    th_expect_none();
    peer_data(TH_ACK, PEER_ISS + 1, iss + 1, 64240, d, C);
    peer_data(TH_PSH | TH_ACK, PEER_ISS + 1 + C, iss + 1, 64240, d, C);
    th_advance(TCP_ACK_DELAY_MS + 10);
    /* only ACKs, never data */
    uint32_t last_ack = 0;
    assert_true(th_pending() > 0);
    while (th_pending()) {
        struct th_seg g = th_take();
        assert_int_equal(g.flags, TH_ACK);
        assert_int_equal(g.len, 0);
        assert_int_equal(g.seq, iss + 1);
        last_ack = g.ack;
    }
    assert_int_equal(last_ack, PEER_ISS + 1 + 2 * C);
    /* the peer closes: we close too */
    peer_data(TH_FIN | TH_ACK, PEER_ISS + 1 + 2 * C, iss + 1, 64240, NULL, 0);
    struct th_seg f = th_take();
    assert_true(f.flags & TH_FIN);
    assert_int_equal(f.seq, iss + 1);
    assert_int_equal(f.ack, PEER_ISS + 2 + 2 * C);
    assert_int_equal(f.len, 0);
    th_expect_none();
    peer_ack(PEER_ISS + 2 + 2 * C, iss + 2);
    assert_int_equal(th_state(id), TCP_CLOSED);
    th_expect_none();
}

/* ---- chargen ---- */

/* RFC 864: byte n of the stream (lines of 72 characters plus CR LF, line
 * k starting with character ' ' + k mod 95). */
static uint8_t chargen_byte(uint32_t n)
{
    uint32_t line = n / 74, col = n % 74;
    if (col == 72)
        return '\r';
    if (col == 73)
        return '\n';
    return (uint8_t)(' ' + (line + col) % 95);
}

/* Collect what the stack sent, check it against the stream from *off.
 * Returns the bytes taken; *fin set when a FIN came. */
static uint32_t take_stream(uint32_t iss, uint32_t *off, int *fin)
{
    uint32_t n = 0;
    while (th_pending()) {
        struct th_seg g = th_take();
        assert_int_equal(g.seq, iss + 1 + *off);
        for (uint16_t i = 0; i < g.len; i++)
            if (g.data[i] != chargen_byte(*off + i))
                fail_msg("chargen byte %u: got %02x want %02x", *off + i, g.data[i],
                         chargen_byte(*off + i));
        *off += g.len;
        n += g.len;
        if (g.flags & TH_FIN)
            *fin = 1;
    }
    return n;
}

static void test_chargen_lines(void **state)
{
    (void)state;
    /* the reference itself: RFC 864's first two lines */
    char l0[75], l1[75];
    for (int i = 0; i < 74; i++) {
        l0[i] = (char)chargen_byte((uint32_t)i);
        l1[i] = (char)chargen_byte(74u + (uint32_t)i);
    }
    assert_int_equal(l0[0], ' ');
    assert_memory_equal(l0 + 1, "!\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefg", 71);
    assert_memory_equal(l0 + 72, "\r\n", 2);
    assert_memory_equal(l1, "!\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefgh\r\n", 74);
    assert_int_equal(chargen_byte(94 * 74), '~');
    assert_int_equal(chargen_byte(94 * 74 + 1), ' ');
    assert_int_equal(chargen_byte(95 * 74), ' ');
}

static void test_chargen(void **state)
{
    (void)state;
    uint32_t iss, off = 0, acked = 0;
    int fin = 0;
    int id = open_to(19, 40020, TCP_WND, &iss);
    /* the stream starts right after the handshake */
    assert_true(take_stream(iss, &off, &fin) > 0);
    assert_int_equal(th_stack.conn[id].tx_len, TCP_TXBUF); /* the buffer is full */
    /* every ACK refills; run past three cycles of 95 lines (7030 bytes) */
    for (int round = 0; round < 3 * 7030 && off < 3 * 7030; round++) {
        peer_ack(PEER_ISS + 1, iss + 1 + off);
        acked = off;
        assert_true(take_stream(iss, &off, &fin) > 0);
        assert_int_equal(th_stack.conn[id].snd_una + th_stack.conn[id].tx_len,
                         iss + 1 + acked + TCP_TXBUF);
    }
    assert_true(off >= 3 * 7030);
    assert_false(fin);
    /* data from the peer is consumed and ignored (acked, not echoed) */
    enum { N = TCP_WND - 1 < 7 ? TCP_WND - 1 : 7 }; /* leaves the window open */
    peer_data(N ? TH_PSH | TH_ACK : TH_ACK, PEER_ISS + 1, iss + 1 + off, 64240, "ignored", N);
    acked = off;
    while (th_pending()) {
        struct th_seg g = th_take();
        assert_int_equal(g.ack, PEER_ISS + 1 + N);
        assert_int_equal(g.seq, iss + 1 + off);
        for (uint16_t i = 0; i < g.len; i++)
            assert_int_equal(g.data[i], chargen_byte(off + i));
        off += g.len;
    }
    assert_true(off > acked);
    assert_int_equal(th_stack.conn[id].rcv_nxt, PEER_ISS + 1 + N);
    /* the peer closes: the rest of the queue, then FIN */
    peer_data(TH_FIN | TH_ACK, PEER_ISS + 1 + N, iss + 1 + off, 64240, NULL, 0);
    /* its ACK refilled the buffer first; then we closed: no more data */
    assert_int_equal(tcp_send_space(&th_stack, id), 0);
    uint32_t end = th_stack.conn[id].snd_una + th_stack.conn[id].tx_len;
    for (int round = 0; round < 64 && !fin; round++) {
        take_stream(iss, &off, &fin);
        if (!fin)
            peer_ack(PEER_ISS + 2 + N, iss + 1 + off);
    }
    assert_true(fin);
    assert_int_equal(iss + 1 + off, end);
    assert_int_equal(th_state(id), TCP_LAST_ACK);
    peer_ack(PEER_ISS + 2 + N, iss + 2 + off);
    assert_int_equal(th_state(id), TCP_CLOSED);
}

/* Two chargen connections keep their own place in the stream. */
static void test_chargen_two(void **state)
{
    (void)state;
    if (TCP_MAX_CONNS < 2)
        skip();
    uint32_t iss1, iss2, off1 = 0, off2 = 0;
    int fin = 0;
    open_to(19, 41000, TCP_WND, &iss1);
    take_stream(iss1, &off1, &fin);
    open_to(19, 41001, TCP_WND, &iss2);
    take_stream(iss2, &off2, &fin);
    assert_true(off1 > 0);
    assert_int_equal(off1, off2);
    /* each continues where it was: the second first, then the first */
    for (int round = 0; round < 3; round++) {
        uint32_t before = off2;
        peer_port = 41001;
        peer_ack(PEER_ISS + 1, iss2 + 1 + off2);
        take_stream(iss2, &off2, &fin);
        assert_true(off2 > before);
    }
    {
        uint32_t before = off1;
        peer_port = 41000;
        peer_ack(PEER_ISS + 1, iss1 + 1 + off1);
        take_stream(iss1, &off1, &fin);
        assert_true(off1 > before);
    }
    assert_false(fin);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_listeners, setup),
        cmocka_unit_test_setup(test_echo, setup),
        cmocka_unit_test_setup(test_echo_full_window, setup),
        cmocka_unit_test_setup(test_echo_half_close, setup),
        cmocka_unit_test_setup(test_echo_half_close_pending_data, setup),
        cmocka_unit_test_setup(test_discard, setup),
        cmocka_unit_test_setup(test_chargen_lines, setup),
        cmocka_unit_test_setup(test_chargen, setup),
        cmocka_unit_test_setup(test_chargen_two, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
