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

static void test_echo_full_window(void **state)
{
    (void)state;
    uint32_t iss;
    static uint8_t big[TCP_TXBUF + 200];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (uint8_t)(i * 7 + 3);
    int id = open_to(7, 40001, TCP_TXBUF, &iss);
    /* more than the window: the part past it is trimmed, the rest echoed */
    peer_data(TH_ACK, PEER_ISS + 1, iss + 1, 64240, big, (uint16_t)sizeof big);
    uint32_t got = 0;
    uint8_t echoed[TCP_TXBUF];
    while (th_pending()) {
        struct th_seg g = th_take();
        assert_int_equal(g.seq, iss + 1 + got);
        memcpy(echoed + got, g.data, g.len);
        got += g.len;
        if (got == TCP_TXBUF) {
            assert_int_equal(g.ack, PEER_ISS + 1 + TCP_TXBUF);
            assert_int_equal(g.wnd, 0); /* send buffer full: window closed */
        }
    }
    assert_int_equal(got, TCP_TXBUF);
    assert_memory_equal(echoed, big, TCP_TXBUF);
    assert_int_equal(tcp_send_space(&th_stack, id), 0);
    /* the peer acknowledges: the window opens again (window update) */
    peer_ack(PEER_ISS + 1 + TCP_TXBUF, iss + 1 + TCP_TXBUF);
    struct th_seg u = th_expect(TH_ACK, iss + 1 + TCP_TXBUF, PEER_ISS + 1 + TCP_TXBUF, 0);
    assert_int_equal(u.wnd, TCP_TXBUF);
    /* and the rest comes through */
    peer_data(TH_PSH | TH_ACK, PEER_ISS + 1 + TCP_TXBUF, iss + 1 + TCP_TXBUF, 64240,
              big + TCP_TXBUF, 200);
    struct th_seg g = th_expect(TH_PSH | TH_ACK, iss + 1 + TCP_TXBUF, PEER_ISS + 1 + TCP_TXBUF + 200, 200);
    assert_memory_equal(g.data, big + TCP_TXBUF, 200);
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
    uint32_t iss;
    static uint8_t d[1000];
    for (size_t i = 0; i < sizeof d; i++)
        d[i] = (uint8_t)('a' + i % 26);
    int id = open_to(7, 40003, TCP_TXBUF, &iss);
    peer_data(TH_ACK, PEER_ISS + 1, iss + 1, 200, d, sizeof d);
    struct th_seg g = th_expect(TH_ACK, iss + 1, PEER_ISS + 1001, 200); /* the peer's window */
    assert_memory_equal(g.data, d, 200);
    th_expect_none();
    peer_data(TH_FIN | TH_ACK, PEER_ISS + 1001, iss + 1, 200, NULL, 0);
    th_expect(TH_ACK, iss + 201, PEER_ISS + 1002, 0); /* FIN acked, ours not yet */
    assert_int_equal(th_state(id), TCP_LAST_ACK);
    /* the peer takes it all: the rest, then FIN on the last segment */
    uint32_t sent = 200, acked = 200;
    uint8_t flags = 0;
    for (int round = 0; round < 10 && !(flags & TH_FIN); round++) {
        peer_data(TH_ACK, PEER_ISS + 1002, iss + 1 + acked, 4000, NULL, 0);
        while (th_pending()) {
            g = th_take();
            assert_int_equal(g.seq, iss + 1 + sent);
            assert_int_equal(g.ack, PEER_ISS + 1002);
            assert_false(flags & TH_FIN);
            assert_memory_equal(g.data, d + sent, g.len);
            sent += g.len;
            flags = g.flags;
            if (g.flags & TH_FIN)
                assert_int_equal(sent, sizeof d);
        }
        acked = sent;
    }
    assert_true(flags & TH_FIN);
    assert_int_equal(sent, sizeof d);
    peer_ack(PEER_ISS + 1002, iss + 1 + sizeof d + 1);
    assert_int_equal(th_state(id), TCP_CLOSED);
}

/* ---- discard ---- */

static void test_discard(void **state)
{
    (void)state;
    uint32_t iss;
    static uint8_t d[3000];
    memset(d, 'x', sizeof d);
    int id = open_to(9, 40010, TCP_WND, &iss);
    th_expect_none();
    peer_data(TH_ACK, PEER_ISS + 1, iss + 1, 64240, d, 1460);
    peer_data(TH_PSH | TH_ACK, PEER_ISS + 1461, iss + 1, 64240, d, 1000);
    th_advance(TCP_ACK_DELAY_MS + 10);
    /* only ACKs, never data */
    uint32_t last_ack = 0;
    while (th_pending()) {
        struct th_seg g = th_take();
        assert_int_equal(g.flags, TH_ACK);
        assert_int_equal(g.len, 0);
        assert_int_equal(g.seq, iss + 1);
        last_ack = g.ack;
    }
    assert_int_equal(last_ack, PEER_ISS + 2461);
    /* the peer closes: we close too */
    peer_data(TH_FIN | TH_ACK, PEER_ISS + 2461, iss + 1, 64240, NULL, 0);
    struct th_seg f = th_take();
    assert_true(f.flags & TH_FIN);
    assert_int_equal(f.seq, iss + 1);
    assert_int_equal(f.ack, PEER_ISS + 2462);
    assert_int_equal(f.len, 0);
    peer_ack(PEER_ISS + 2462, iss + 2);
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
    /* the stream starts right after the handshake and fills the buffer */
    assert_int_equal(take_stream(iss, &off, &fin), TCP_TXBUF);
    /* every ACK refills; run past one whole cycle of 95 lines (7030 bytes) */
    for (int round = 0; round < 40 && off < 3 * 7030; round++) {
        peer_ack(PEER_ISS + 1, iss + 1 + off);
        acked = off;
        take_stream(iss, &off, &fin);
        assert_int_equal(off - acked, TCP_TXBUF);
    }
    assert_true(off >= 3 * 7030);
    /* data from the peer is consumed and ignored (acked, not echoed) */
    peer_data(TH_PSH | TH_ACK, PEER_ISS + 1, iss + 1 + off, 64240, "ignored", 7);
    acked = off;
    while (th_pending()) {
        struct th_seg g = th_take();
        assert_int_equal(g.ack, PEER_ISS + 8);
        assert_int_equal(g.seq, iss + 1 + off);
        for (uint16_t i = 0; i < g.len; i++)
            assert_int_equal(g.data[i], chargen_byte(off + i));
        off += g.len;
    }
    assert_int_equal(off - acked, TCP_TXBUF);
    assert_int_equal(th_stack.conn[id].rcv_nxt, PEER_ISS + 8);
    /* the peer closes: the rest of the queue, then FIN */
    peer_data(TH_FIN | TH_ACK, PEER_ISS + 8, iss + 1 + off, 64240, NULL, 0);
    take_stream(iss, &off, &fin);
    assert_true(fin);
    assert_int_equal(th_state(id), TCP_LAST_ACK);
    peer_ack(PEER_ISS + 9, iss + 2 + off);
    assert_int_equal(th_state(id), TCP_CLOSED);
}

/* Two chargen connections keep their own place in the stream. */
static void test_chargen_two(void **state)
{
    (void)state;
    uint32_t iss1, iss2, off1 = 0, off2 = 0;
    int fin = 0;
    open_to(19, 41000, TCP_WND, &iss1);
    th_our_port = 19;
    take_stream(iss1, &off1, &fin);
    open_to(19, 41001, TCP_WND, &iss2);
    take_stream(iss2, &off2, &fin);
    assert_int_equal(off1, TCP_TXBUF);
    assert_int_equal(off2, TCP_TXBUF);
    /* each continues where it was: the second first, then the first */
    struct th_seg a = { .sport = 41001, .seq = PEER_ISS + 1, .ack = iss2 + 1 + TCP_TXBUF,
                        .flags = TH_ACK, .wnd = 64240 };
    th_send_full(&a, NULL, 0);
    take_stream(iss2, &off2, &fin);
    assert_int_equal(off2, 2 * TCP_TXBUF);
    a.sport = 41000;
    a.ack = iss1 + 1 + TCP_TXBUF;
    th_send_full(&a, NULL, 0);
    take_stream(iss1, &off1, &fin);
    assert_int_equal(off1, 2 * TCP_TXBUF);
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
