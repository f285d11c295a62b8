/* TCP core, segment by segment: each test is the peer and asserts the exact
 * flags, sequence and acknowledgement numbers, and states. RFC 9293 section
 * numbers name the rule under test. */
#include <string.h>

#include "tcp_harness.h"
#include "tcp_seq.h"

#define A TH_ACK
#define S TH_SYN
#define F TH_FIN
#define R TH_RST
#define P TH_PSH
#define MSL2 (2 * TCP_MSL_MS)

static int setup(void **st)
{
    (void)st;
    th_setup();
    return 0;
}

/* --- sequence arithmetic (3.4) --- */
static void seq_compare_wraps(void **st)
{
    (void)st;
    assert_true(seq_lt(0xFFFFFFF0u, 0x10u));
    assert_true(seq_gt(0x10u, 0xFFFFFFF0u));
    assert_true(seq_le(5, 5) && seq_ge(5, 5));
    assert_true(seq_in(0, 0xFFFFFFFFu, 1));
    assert_false(seq_in(1, 0xFFFFFFFFu, 1));
}

/* --- opening --- */
static void passive_open(void **st)
{
    (void)st;
    th_send_syn_mss(1000, 1460);
    struct th_seg sa = th_take();
    assert_int_equal(sa.flags, S | A);
    assert_int_equal(sa.ack, 1001);
    assert_int_equal(sa.mss, TCP_MSS); /* our MSS on the SYN (3.7.1) */
    assert_int_equal(sa.wnd, 4096);
    assert_int_equal(th_state(0), TCP_SYN_RECEIVED);
    assert_false(th_has_event(TCP_EV_CONNECTED));
    th_send(A, 1001, sa.seq + 1, NULL, 0);
    assert_int_equal(th_state(0), TCP_ESTABLISHED);
    assert_true(th_has_event(TCP_EV_CONNECTED));
    th_expect_none();
}

static void active_open(void **st)
{
    (void)st;
    int id = tcp_connect(&th_stack, TH_PEER_IP, TH_PEER_PORT, &th_tcp_app);
    assert_true(id >= 0);
    assert_int_equal(th_state(id), TCP_SYN_SENT);
    struct th_seg syn = th_take();
    assert_int_equal(syn.flags, S);
    assert_int_equal(syn.ack, 0);
    assert_int_equal(syn.mss, TCP_MSS);
    assert_int_equal(syn.dport, TH_PEER_PORT);
    assert_true(syn.sport >= 49152);
    th_our_port = syn.sport;
    th_send(S | A, 5000, syn.seq + 1, NULL, 0);
    th_expect(A, syn.seq + 1, 5001, 0);
    assert_int_equal(th_state(id), TCP_ESTABLISHED);
    assert_true(th_has_event(TCP_EV_CONNECTED));
}

static void simultaneous_open(void **st)
{
    (void)st;
    int id = tcp_connect(&th_stack, TH_PEER_IP, TH_PEER_PORT, &th_tcp_app);
    struct th_seg syn = th_take();
    th_our_port = syn.sport;
    /* The peer's SYN crosses ours: SYN-SENT -> SYN-RECEIVED, SYN,ACK with
     * our same ISS (3.10.7.3). */
    th_send(S, 7000, 0, NULL, 0);
    th_expect(S | A, syn.seq, 7001, 0);
    assert_int_equal(th_state(id), TCP_SYN_RECEIVED);
    /* The peer's SYN,ACK for our SYN completes it. */
    th_send(S | A, 7000, syn.seq + 1, NULL, 0);
    /* A SYN in window in SYN-RECEIVED? It is the peer's SYN again with an
     * ACK: old SYN trimmed, the ACK takes us to ESTABLISHED. */
    assert_int_equal(th_state(id), TCP_ESTABLISHED);
    assert_true(th_has_event(TCP_EV_CONNECTED));
}

static void simultaneous_open_plain_ack(void **st)
{
    (void)st;
    int id = tcp_connect(&th_stack, TH_PEER_IP, TH_PEER_PORT, &th_tcp_app);
    struct th_seg syn = th_take();
    th_our_port = syn.sport;
    th_send(S, 7000, 0, NULL, 0);
    th_expect(S | A, syn.seq, 7001, 0);
    th_send(A, 7001, syn.seq + 1, NULL, 0);
    assert_int_equal(th_state(id), TCP_ESTABLISHED);
    th_expect_none();
}

static void syn_sent_bad_ack_gets_rst(void **st)
{
    (void)st;
    int id = tcp_connect(&th_stack, TH_PEER_IP, TH_PEER_PORT, &th_tcp_app);
    struct th_seg syn = th_take();
    th_our_port = syn.sport;
    th_send(S | A, 5000, syn.seq + 100, NULL, 0);
    th_expect(R, syn.seq + 100, 0, 0); /* <SEQ=SEG.ACK><CTL=RST> */
    assert_int_equal(th_state(id), TCP_SYN_SENT);
}

static void syn_sent_rst_refused(void **st)
{
    (void)st;
    int id = tcp_connect(&th_stack, TH_PEER_IP, TH_PEER_PORT, &th_tcp_app);
    struct th_seg syn = th_take();
    th_our_port = syn.sport;
    th_send(R, 0, syn.seq + 1, NULL, 0); /* RST without ACK: ignored */
    assert_int_equal(th_state(id), TCP_SYN_SENT);
    th_send(R | A, 0, syn.seq + 1, NULL, 0);
    assert_int_equal(th_state(id), TCP_CLOSED);
    assert_true(th_has_event(TCP_EV_REFUSED));
    th_expect_none();
}

static void syn_retransmitted_then_timeout(void **st)
{
    (void)st;
    int id = tcp_connect(&th_stack, TH_PEER_IP, TH_PEER_PORT, &th_tcp_app);
    struct th_seg syn = th_take();
    uint32_t rto = TCP_RTO_INIT_MS;
    for (int i = 0; i < TCP_SYN_RETRIES; i++) {
        th_advance(rto - 10);
        th_expect_none();
        th_advance(10);
        th_expect(S, syn.seq, 0, 0); /* same ISS: a retransmission */
        rto = rto * 2 > TCP_RTO_MAX_MS ? TCP_RTO_MAX_MS : rto * 2;
    }
    th_advance(rto);
    assert_int_equal(th_state(id), TCP_CLOSED);
    assert_true(th_has_event(TCP_EV_TIMEOUT));
    th_expect_none();
    assert_int_equal(th_stack.stats.tcp_retrans, TCP_SYN_RETRIES);
}

static void new_syn_in_syn_received_back_to_listen(void **st)
{
    (void)st;
    th_send_syn_mss(1000, 1460);
    th_take();
    th_send_syn_mss(1500, 1460); /* in window, not the same SYN: started over */
    th_expect_none();
    assert_int_equal(th_state(0), TCP_CLOSED);
}

static void syn_ack_retransmitted(void **st)
{
    (void)st;
    th_send_syn_mss(1000, 1460);
    struct th_seg sa = th_take();
    th_advance(TCP_RTO_INIT_MS);
    th_expect(S | A, sa.seq, 1001, 0);
    /* The peer's SYN again (it lost our SYN-ACK): SYN-ACK at once. */
    th_send_syn_mss(1000, 1460);
    th_expect(S | A, sa.seq, 1001, 0);
    th_send(A, 1001, sa.seq + 1, NULL, 0);
    assert_int_equal(th_state(0), TCP_ESTABLISHED);
}

static void syn_received_gives_up(void **st)
{
    (void)st;
    th_send_syn_mss(1000, 1460);
    struct th_seg sa = th_take();
    uint32_t rto = TCP_RTO_INIT_MS;
    for (int i = 0; i < TCP_SYNACK_RETRIES; i++) {
        th_advance(rto);
        th_expect(S | A, sa.seq, 1001, 0);
        rto *= 2;
    }
    th_advance(rto);
    th_expect(R, sa.seq + 1, 0, 0); /* ABORT in SYN-RECEIVED: <SEQ=SND.NXT><CTL=RST> */
    assert_int_equal(th_state(0), TCP_CLOSED);
    /* The listener is still there. */
    th_send_syn_mss(2000, 1460);
    assert_int_equal(th_take().flags, S | A);
}

static void rst_in_syn_received_back_to_listen(void **st)
{
    (void)st;
    th_send_syn_mss(1000, 1460);
    struct th_seg sa = th_take();
    th_send(R, 1001, 0, NULL, 0);
    assert_int_equal(th_state(0), TCP_CLOSED);
    assert_int_equal(th_app.nevents, 0); /* the application never knew it */
    th_send_syn_mss(3000, 1460);
    struct th_seg sa2 = th_take();
    assert_int_equal(sa2.flags, S | A);
    assert_int_equal(sa2.ack, 3001);
    (void)sa;
}

static void bad_ack_in_syn_received_gets_rst(void **st)
{
    (void)st;
    th_send_syn_mss(1000, 1460);
    struct th_seg sa = th_take();
    th_send(A, 1001, sa.seq + 5, NULL, 0);
    th_expect(R, sa.seq + 5, 0, 0);
    assert_int_equal(th_state(0), TCP_SYN_RECEIVED);
}

static void mss_absent_means_536(void **st)
{
    (void)st;
    th_send_syn_mss(1000, 0);
    struct th_seg sa = th_take();
    th_send(A, 1001, sa.seq + 1, NULL, 0);
    assert_int_equal(th_stack.conn[0].mss, 536);
}

static void mss_honoured(void **st)
{
    (void)st;
    th_send_syn_mss(1000, 100);
    struct th_seg sa = th_take();
    th_send(A, 1001, sa.seq + 1, NULL, 0);
    uint8_t buf[300];
    memset(buf, 'x', sizeof buf);
    assert_int_equal(tcp_send(&th_stack, 0, buf, sizeof buf), 300);
    th_expect(A, sa.seq + 1, 1001, 100); /* no segment above the peer's MSS */
}

/* --- reset generation (3.10.7.1) --- */
static void syn_to_closed_port(void **st)
{
    (void)st;
    struct th_seg g = {.dport = 9999, .seq = 100, .flags = S, .wnd = 1000};
    th_send_full(&g, NULL, 0);
    struct th_seg r = th_expect(R | A, 0, 101, 0); /* <SEQ=0><ACK=SEG.SEQ+SEG.LEN> */
    assert_int_equal(r.sport, 9999);
    assert_int_equal(r.dport, TH_PEER_PORT);
    assert_int_equal(th_stack.stats.tcp_rst_out, 1);
}

static void ack_to_closed_port(void **st)
{
    (void)st;
    struct th_seg g = {.dport = 9999, .seq = 100, .ack = 5555, .flags = A, .wnd = 1000};
    th_send_full(&g, NULL, 0);
    th_expect(R, 5555, 0, 0); /* <SEQ=SEG.ACK><CTL=RST>, no ACK bit */
}

static void data_fin_to_closed_port(void **st)
{
    (void)st;
    struct th_seg g = {.dport = 9999, .seq = 100, .flags = F | P, .len = 10};
    th_send_full(&g, NULL, 0);
    th_expect(R | A, 0, 111, 0); /* data and FIN both count */
}

static void rst_to_closed_port_ignored(void **st)
{
    (void)st;
    struct th_seg g = {.dport = 9999, .seq = 100, .flags = R};
    th_send_full(&g, NULL, 0);
    th_expect_none();
}

static void ack_to_listener_gets_rst(void **st)
{
    (void)st;
    th_send(A, 100, 777, NULL, 0);
    th_expect(R, 777, 0, 0);
    th_send(R, 100, 0, NULL, 0); /* RST to a listener: ignored */
    th_expect_none();
}

/* --- closing --- */
static void passive_close(void **st)
{
    (void)st;
    uint32_t iss;
    int id = th_open_passive(1000, &iss);
    th_send(F | A, 1001, iss + 1, NULL, 0);
    th_expect(A, iss + 1, 1002, 0); /* the FIN is ACKed at once */
    assert_int_equal(th_state(id), TCP_CLOSE_WAIT);
    assert_true(th_has_event(TCP_EV_PEER_CLOSED));
    assert_int_equal(tcp_close(&th_stack, id), 0);
    th_expect(F | A, iss + 1, 1002, 0);
    assert_int_equal(th_state(id), TCP_LAST_ACK);
    th_send(A, 1002, iss + 2, NULL, 0);
    assert_int_equal(th_state(id), TCP_CLOSED);
    assert_true(th_has_event(TCP_EV_CLOSED));
    th_expect_none();
}

static void active_close(void **st)
{
    (void)st;
    uint32_t iss;
    int id = th_open_passive(1000, &iss);
    assert_int_equal(tcp_close(&th_stack, id), 0);
    th_expect(F | A, iss + 1, 1001, 0);
    assert_int_equal(th_state(id), TCP_FIN_WAIT_1);
    th_send(A, 1001, iss + 2, NULL, 0);
    assert_int_equal(th_state(id), TCP_FIN_WAIT_2);
    th_expect_none();
    th_send(F | A, 1001, iss + 2, NULL, 0);
    th_expect(A, iss + 2, 1002, 0);
    assert_int_equal(th_state(id), TCP_TIME_WAIT);
    th_advance(MSL2 - 100);
    assert_int_equal(th_state(id), TCP_TIME_WAIT);
    th_advance(100 + TCP_TICK_MS);
    assert_int_equal(th_state(id), TCP_CLOSED);
    th_expect_none();
}

static void fin_ack_in_fin_wait_1_goes_to_time_wait(void **st)
{
    (void)st;
    uint32_t iss;
    int id = th_open_passive(1000, &iss);
    tcp_close(&th_stack, id);
    th_expect(F | A, iss + 1, 1001, 0);
    th_send(F | A | P, 1001, iss + 2, NULL, 0); /* flags tested by bit, not equality */
    th_expect(A, iss + 2, 1002, 0);
    assert_int_equal(th_state(id), TCP_TIME_WAIT);
}

static void simultaneous_close(void **st)
{
    (void)st;
    uint32_t iss;
    int id = th_open_passive(1000, &iss);
    tcp_close(&th_stack, id);
    th_expect(F | A, iss + 1, 1001, 0);
    /* The peer's FIN crosses ours and does not ACK it: CLOSING, not
     * CLOSE-WAIT. */
    th_send(F | A, 1001, iss + 1, NULL, 0);
    th_expect(A, iss + 2, 1002, 0);
    assert_int_equal(th_state(id), TCP_CLOSING);
    th_send(A, 1002, iss + 2, NULL, 0);
    assert_int_equal(th_state(id), TCP_TIME_WAIT);
}

static void time_wait_reacks_fin_and_restarts(void **st)
{
    (void)st;
    uint32_t iss;
    int id = th_open_passive(1000, &iss);
    tcp_close(&th_stack, id);
    th_take();
    th_send(F | A, 1001, iss + 2, NULL, 0);
    th_expect(A, iss + 2, 1002, 0);
    th_advance(MSL2 / 2);
    th_send(F | A, 1001, iss + 2, NULL, 0); /* our ACK was lost */
    th_expect(A, iss + 2, 1002, 0);
    th_advance(MSL2 - 100);
    assert_int_equal(th_state(id), TCP_TIME_WAIT); /* restarted */
    th_advance(200);
    assert_int_equal(th_state(id), TCP_CLOSED);
}

static void fin_wait_2_data_delivered(void **st)
{
    (void)st;
    uint32_t iss;
    int id = th_open_passive(1000, &iss);
    tcp_close(&th_stack, id);
    th_take();
    th_send(A, 1001, iss + 2, NULL, 0);
    th_send(A | P, 1001, iss + 2, "tail", 4); /* half-close: the peer still sends */
    assert_int_equal(th_app.rx_len, 4);
    th_send(F | A, 1005, iss + 2, NULL, 0);
    th_expect(A, iss + 2, 1006, 0); /* ACK covers data and FIN */
    assert_int_equal(th_state(id), TCP_TIME_WAIT);
}

static void close_with_data_queued_sends_fin_after(void **st)
{
    (void)st;
    uint32_t iss;
    int id = th_open_passive(1000, &iss);
    th_send_wnd(A, 1001, iss + 1, 0); /* zero window: data must wait */
    assert_int_equal(tcp_send(&th_stack, id, "abc", 3), 3);
    tcp_close(&th_stack, id);
    th_expect_none();
    th_send_wnd(A, 1001, iss + 1, 1000);
    th_expect(F | P | A, iss + 1, 1001, 3); /* data then FIN, in one segment */
    th_send(A, 1001, iss + 5, NULL, 0);
    assert_int_equal(th_state(id), TCP_FIN_WAIT_2);
}

static void echo_half_close(void **st)
{
    (void)st;
    /* The peer sends data and FIN together: the data is echoed, then our
     * FIN follows it (no FIN before the application's data). */
    th_app.echo = 1;
    th_app.close_on_peer_close = 1;
    uint32_t iss;
    int id = th_open_passive(1000, &iss);
    th_send(F | P | A, 1001, iss + 1, "hello", 5);
    th_expect(F | P | A, iss + 1, 1007, 5);
    assert_int_equal(th_state(id), TCP_LAST_ACK);
    th_send(A, 1007, iss + 7, NULL, 0);
    assert_int_equal(th_state(id), TCP_CLOSED);
}

/* --- RST processing (RFC 5961 3.2) --- */
static void rst_exact_resets(void **st)
{
    (void)st;
    uint32_t iss;
    int id = th_open_passive(1000, &iss);
    th_send(R, 1001, 0, NULL, 0);
    assert_int_equal(th_state(id), TCP_CLOSED);
    assert_true(th_has_event(TCP_EV_RESET));
    th_expect_none();
    assert_int_equal(th_stack.stats.tcp_rst_in, 1);
}

static void rst_in_window_challenged(void **st)
{
    (void)st;
    uint32_t iss;
    int id = th_open_passive(1000, &iss);
    th_send(R, 1500, 0, NULL, 0);
    th_expect(A, iss + 1, 1001, 0); /* from SND.NXT and RCV.NXT, not the RST */
    assert_int_equal(th_state(id), TCP_ESTABLISHED);
    assert_int_equal(th_stack.stats.tcp_challenge, 1);
}

static void rst_out_of_window_ignored(void **st)
{
    (void)st;
    uint32_t iss;
    int id = th_open_passive(1000, &iss);
    th_send(R, 1001 + 100000, 0, NULL, 0);
    th_expect_none();
    assert_int_equal(th_state(id), TCP_ESTABLISHED);
}

static void rst_in_closing_states(void **st)
{
    (void)st;
    uint32_t iss;
    int id = th_open_passive(1000, &iss);
    th_send(F | A, 1001, iss + 1, NULL, 0);
    th_take();
    tcp_close(&th_stack, id);
    th_take();
    assert_int_equal(th_state(id), TCP_LAST_ACK);
    th_send(R, 1002, 0, NULL, 0);
    assert_int_equal(th_state(id), TCP_CLOSED);
}

static void out_of_window_syn_challenged(void **st)
{
    (void)st;
    uint32_t iss;
    int id = th_open_passive(1000, &iss);
    th_send(S, 1001 + 100000, 0, NULL, 0);
    th_expect(A, iss + 1, 1001, 0);
    assert_int_equal(th_stack.stats.tcp_challenge, 1); /* counted and rate-limited */
    assert_int_equal(th_state(id), TCP_ESTABLISHED);
}

static void syn_in_established_challenged(void **st)
{
    (void)st;
    uint32_t iss;
    int id = th_open_passive(1000, &iss);
    th_send(S, 1050, 0, NULL, 0);
    th_expect(A, iss + 1, 1001, 0);
    assert_int_equal(th_state(id), TCP_ESTABLISHED);
}

/* --- sequence and ACK checks (3.10.7.4) --- */
static void unacceptable_seq_gets_ack(void **st)
{
    (void)st;
    uint32_t iss;
    int id = th_open_passive(1000, &iss);
    th_send(A | P, 1001 + 5000, iss + 1, "zz", 2); /* beyond the 4096 window */
    th_expect(A, iss + 1, 1001, 0);
    th_send(A | P, 900, iss + 1, "zz", 2); /* entirely old */
    th_expect(A, iss + 1, 1001, 0);
    assert_int_equal(th_app.rx_len, 0);
    assert_int_equal(th_stack.stats.tcp_bad_seq, 2);
    (void)id;
}

static void ack_at_right_window_edge_taken(void **st)
{
    (void)st;
    /* The peer's segment filling our window was lost; its ACKs then sit at
     * RCV.NXT + RCV.WND. They must still acknowledge our data. */
    uint32_t iss;
    th_app.window = 512;
    int id = th_open_passive(1000, &iss);
    tcp_send(&th_stack, id, "data", 4);
    th_take();
    th_send(A, 1001 + th_stack.conn[id].rcv_wnd, iss + 5, NULL, 0);
    th_expect_none();
    assert_int_equal(th_stack.conn[id].snd_una, iss + 5);
    assert_int_equal(th_stack.conn[id].tx_len, 0);
}

static void ack_in_probe_into_zero_window_taken(void **st)
{
    (void)st;
    /* Our window is zero; the peer's window probe (an old byte) carries an
     * ACK for our data: taken, then answered with our ACK. */
    uint32_t iss;
    th_app.window = 1024;
    int id = th_open_passive(1000, &iss);
    static uint8_t d[512];
    th_app.window = 0;
    th_send(A | P, 1001, iss + 1, d, 512);
    th_send(A | P, 1513, iss + 1, d, 512);
    th_take();
    tcp_send(&th_stack, id, "xy", 2);
    th_take();
    th_send(A, 2024, iss + 3, "z", 1); /* probe: SEG.SEQ = RCV.NXT - 1 */
    th_expect(A, iss + 3, 2025, 0);
    assert_int_equal(th_stack.conn[id].snd_una, iss + 3);
}

static void ack_of_unsent_data(void **st)
{
    (void)st;
    uint32_t iss;
    int id = th_open_passive(1000, &iss);
    th_send(A | P, 1001, iss + 50, "data", 4);
    th_expect(A, iss + 1, 1001, 0); /* ACK, and the data is not taken */
    assert_int_equal(th_app.rx_len, 0);
    assert_int_equal(th_stack.stats.tcp_bad_ack, 1);
    assert_int_equal(th_state(id), TCP_ESTABLISHED);
}

static void old_ack_ignored_data_taken(void **st)
{
    (void)st;
    uint32_t iss;
    th_open_passive(1000, &iss);
    th_send(A | P, 1001, iss, "data", 4); /* SEG.ACK < SND.UNA: duplicate */
    assert_int_equal(th_app.rx_len, 4);
}

static void overlapping_segment_trimmed(void **st)
{
    (void)st;
    uint32_t iss;
    th_open_passive(1000, &iss);
    th_send(A | P, 1001, iss + 1, "abcd", 4);
    th_send(A | P, 1003, iss + 1, "cdef", 4); /* first two bytes old */
    assert_int_equal(th_app.rx_len, 6);
    assert_memory_equal(th_app.rx, "abcdef", 6);
}

/* --- data and ACK timing --- */
static void lone_ack_delayed_200ms(void **st)
{
    (void)st;
    uint32_t iss;
    th_open_passive(1000, &iss);
    th_send(A | P, 1001, iss + 1, "hi", 2);
    assert_int_equal(th_app.rx_len, 2);
    th_expect_none();
    th_advance(TCP_ACK_DELAY_MS - 4);
    th_expect_none();
    th_advance(4);
    th_expect(A, iss + 1, 1003, 0);
}

static void every_second_full_segment_acked(void **st)
{
    (void)st;
    uint32_t iss;
    th_app.window = 8000;
    th_open_passive(1000, &iss);
    static uint8_t d[512];
    th_send(A, 1001, iss + 1, d, 512);
    th_expect_none();
    th_send(A, 1513, iss + 1, d, 512);
    th_expect(A, iss + 1, 2025, 0);
}

static void out_of_order_dup_ack(void **st)
{
    (void)st;
    uint32_t iss;
    th_open_passive(1000, &iss);
    th_send(A | P, 1011, iss + 1, "later", 5);
    th_expect(A, iss + 1, 1001, 0); /* immediate duplicate ACK */
    assert_int_equal(th_app.rx_len, 0);
    assert_int_equal(th_stack.stats.tcp_ooo, 1);
    th_send(A | P, 1001, iss + 1, "0123456789", 10); /* the hole */
    th_send(A | P, 1011, iss + 1, "later", 5);       /* repair */
    assert_int_equal(th_app.rx_len, 15);
    assert_memory_equal(th_app.rx, "0123456789later", 15);
}

static void window_from_application(void **st)
{
    (void)st;
    uint32_t iss;
    th_app.window = 1000;
    th_app.take_max = 600;
    th_open_passive(1000, &iss);
    static uint8_t d[800];
    th_send(A | P, 1001, iss + 1, d, 800);
    /* 600 taken: the rest is not acknowledged, an ACK goes at once. */
    th_expect(A, iss + 1, 1601, 0);
    assert_int_equal(th_app.rx_len, 600);
}

static void zero_window_then_update(void **st)
{
    (void)st;
    uint32_t iss;
    th_app.window = 1024;
    th_open_passive(1000, &iss);
    static uint8_t d[1024];
    th_app.window = 0; /* the application is full after this */
    th_send(A | P, 1001, iss + 1, d, 512);
    th_send(A | P, 1513, iss + 1, d, 512);
    struct th_seg a = th_expect(A, iss + 1, 2025, 0);
    assert_int_equal(a.wnd, 0);
    /* Data into a zero window: not acceptable, ACK with window 0. */
    th_send(A | P, 2025, iss + 1, "x", 1);
    a = th_expect(A, iss + 1, 2025, 0);
    assert_int_equal(a.wnd, 0);
    /* The application frees space: the window update is announced. */
    th_app.window = 1024;
    tcp_window_changed(&th_stack, 0);
    a = th_expect(A, iss + 1, 2025, 0);
    assert_int_equal(a.wnd, 1024);
}

static void fin_into_zero_window_taken(void **st)
{
    (void)st;
    uint32_t iss;
    th_app.window = 1024;
    int id = th_open_passive(1000, &iss);
    static uint8_t d[1024];
    th_app.window = 0;
    th_send(A | P, 1001, iss + 1, d, 512);
    th_send(A | P, 1513, iss + 1, d, 512);
    th_take();
    th_send(F | A, 2025, iss + 1, NULL, 0); /* needs no buffer: taken */
    struct th_seg a = th_expect(A, iss + 1, 2026, 0);
    assert_int_equal(a.wnd, 0);
    assert_int_equal(th_state(id), TCP_CLOSE_WAIT);
}

static void window_update_when_it_doubles(void **st)
{
    (void)st;
    /* echo's case: the peer's last segment (with its FIN) needs more than
     * the 512 bytes left; when the buffer drains the window must be
     * announced, not left to the peer's probe timer. */
    uint32_t iss;
    th_app.window = 1024;
    th_open_passive(1000, &iss);
    static uint8_t d[512];
    th_app.window = 512;
    th_send(A | P, 1001, iss + 1, d, 512);
    th_advance(TCP_ACK_DELAY_MS);
    struct th_seg a = th_expect(A, iss + 1, 1513, 0);
    assert_int_equal(a.wnd, 512);
    th_app.window = 1024;
    tcp_window_changed(&th_stack, 0);
    a = th_expect(A, iss + 1, 1513, 0);
    assert_int_equal(a.wnd, 1024);
}

static void small_window_increase_not_announced(void **st)
{
    (void)st;
    uint32_t iss;
    th_app.window = 1024;
    th_open_passive(1000, &iss);
    static uint8_t d[1024];
    th_app.window = 0;
    th_send(A | P, 1001, iss + 1, d, 512);
    th_send(A | P, 1513, iss + 1, d, 512);
    th_take();
    th_app.window = 10; /* silly window: no update (RFC 1122 4.2.3.3) */
    tcp_window_changed(&th_stack, 0);
    th_expect_none();
}

/* --- sending and retransmission --- */
static void send_and_ack(void **st)
{
    (void)st;
    uint32_t iss;
    int id = th_open_passive(1000, &iss);
    assert_int_equal(tcp_send(&th_stack, id, "hello", 5), 5);
    th_expect(A | P, iss + 1, 1001, 5);
    th_send(A, 1001, iss + 6, NULL, 0);
    assert_true(th_has_event(TCP_EV_SENT));
    assert_int_equal(th_stack.conn[id].tx_len, 0);
    assert_int_equal(th_stack.conn[id].timer, 0);
}

static void nagle_holds_small_segment(void **st)
{
    (void)st;
    uint32_t iss;
    int id = th_open_passive(1000, &iss);
    tcp_send(&th_stack, id, "a", 1);
    th_expect(A | P, iss + 1, 1001, 1);
    tcp_send(&th_stack, id, "b", 1); /* data in flight: wait */
    th_expect_none();
    th_send(A, 1001, iss + 2, NULL, 0);
    th_expect(A | P, iss + 2, 1001, 1);
}

static void send_buffer_limits(void **st)
{
    (void)st;
    uint32_t iss;
    int id = th_open_passive(1000, &iss);
    static uint8_t big[TCP_TXBUF + 100];
    assert_int_equal(tcp_send(&th_stack, id, big, sizeof big), TCP_TXBUF);
    assert_int_equal(tcp_send_space(&th_stack, id), 0);
    assert_int_equal(tcp_send(&th_stack, id, big, 1), 0);
}

static void retransmit_with_backoff_then_abort(void **st)
{
    (void)st;
    uint32_t iss;
    int id = th_open_passive(1000, &iss);
    tcp_send(&th_stack, id, "hello", 5);
    th_expect(A | P, iss + 1, 1001, 5);
    uint16_t prev = 0;
    for (int i = 0; i < TCP_MAX_RETRIES; i++) {
        uint16_t t = th_stack.conn[id].timer;
        assert_true(t > prev); /* exponential backoff */
        prev = t;
        th_advance((uint32_t)t * TCP_TICK_MS);
        th_expect(A | P, iss + 1, 1001, 5);
        assert_int_equal(th_stack.conn[id].nrtx, i + 1);
    }
    th_advance((uint32_t)th_stack.conn[id].timer * TCP_TICK_MS);
    th_expect(R, iss + 6, 0, 0);
    assert_int_equal(th_state(id), TCP_CLOSED);
    assert_true(th_has_event(TCP_EV_TIMEOUT));
    assert_int_equal(th_stack.stats.tcp_timeouts, 1);
}

static void rto_min_after_fast_rtt(void **st)
{
    (void)st;
    uint32_t iss;
    int id = th_open_passive(1000, &iss);
    /* The handshake took no time: RTO falls to its floor. */
    tcp_send(&th_stack, id, "x", 1);
    th_take();
    assert_int_equal(th_stack.conn[id].timer, (TCP_RTO_MIN_MS + TCP_TICK_MS - 1) / TCP_TICK_MS);
}

static void fin_retransmitted(void **st)
{
    (void)st;
    uint32_t iss;
    int id = th_open_passive(1000, &iss);
    tcp_close(&th_stack, id);
    th_expect(F | A, iss + 1, 1001, 0);
    th_advance(TCP_RTO_MIN_MS);
    th_expect(F | A, iss + 1, 1001, 0);
    th_send(A, 1001, iss + 2, NULL, 0);
    assert_int_equal(th_state(id), TCP_FIN_WAIT_2);
}

static void fast_retransmit_on_three_dupacks(void **st)
{
    (void)st;
    uint32_t iss;
    int id = th_open_passive(1000, &iss);
    static uint8_t d[TCP_TXBUF];
    memset(d, 'q', sizeof d);
    tcp_send(&th_stack, id, d, sizeof d);
    uint16_t seg = TCP_TXBUF / 2;
    th_expect(A, iss + 1, 1001, seg);
    th_expect(A | P, iss + 1 + seg, 1001, seg);
    for (int i = 0; i < 2; i++) {
        th_send(A, 1001, iss + 1, NULL, 0);
        th_expect_none();
    }
    th_send(A, 1001, iss + 1, NULL, 0);
    th_expect(A, iss + 1, 1001, seg); /* third duplicate: resend the first */
    assert_int_equal(th_stack.stats.tcp_retrans, 1);
    /* A partial ACK repairs the next hole at once. */
    th_stack.conn[id].nrtx = 1;
    th_send(A, 1001, iss + 1 + seg, NULL, 0);
    th_expect(A | P, iss + 1 + seg, 1001, seg);
}

static void zero_window_probe(void **st)
{
    (void)st;
    uint32_t iss;
    int id = th_open_passive(1000, &iss);
    th_send_wnd(A, 1001, iss + 1, 0);
    tcp_send(&th_stack, id, "abc", 3);
    th_expect_none();
    th_advance(TCP_RTO_MIN_MS);
    th_expect(A, iss + 1, 1001, 1); /* one-byte probe */
    /* The peer keeps its window closed but answers: no abort, ever. */
    for (int i = 0; i < TCP_MAX_RETRIES + 3; i++) {
        th_send_wnd(A, 1001, iss + 1, 0);
        th_advance((uint32_t)th_stack.conn[id].timer * TCP_TICK_MS);
        th_expect(A, iss + 1, 1001, 1);
    }
    assert_int_equal(th_state(id), TCP_ESTABLISHED);
    /* The window opens: the rest goes. */
    th_send_wnd(A, 1001, iss + 2, 1000);
    th_expect(A | P, iss + 2, 1001, 2);
}

static void congestion_window_grows(void **st)
{
    (void)st;
    uint32_t iss;
    int id = th_open_passive(1000, &iss);
    uint16_t cwnd0 = th_stack.conn[id].cwnd;
    assert_int_equal(cwnd0, 4380); /* RFC 5681 IW for MSS 1460 */
    tcp_send(&th_stack, id, "hello", 5);
    th_take();
    th_send(A, 1001, iss + 6, NULL, 0);
    assert_int_equal(th_stack.conn[id].cwnd, cwnd0 + 5); /* slow start */
    tcp_send(&th_stack, id, "x", 1);
    th_take();
    th_advance((uint32_t)th_stack.conn[id].timer * TCP_TICK_MS); /* loss */
    th_take();
    assert_int_equal(th_stack.conn[id].cwnd, 1460);
}

/* --- wraparound --- */
static void sequence_wraparound(void **st)
{
    (void)st;
    uint32_t iss;
    th_app.echo = 1;
    int id = th_open_passive(0xFFFFFFF0u, &iss);
    th_send(A | P, 0xFFFFFFF1u, iss + 1, "0123456789abcdefXYZ", 19); /* crosses 2^32 */
    th_expect(A | P, iss + 1, 0xFFFFFFF1u + 19, 19);
    assert_int_equal(th_stack.conn[id].rcv_nxt, 4);
    th_send(F | A, 4, iss + 20, NULL, 0);
    th_expect(A, iss + 20, 5, 0);
    assert_int_equal(th_state(id), TCP_CLOSE_WAIT);
}

static void our_sequence_wraps(void **st)
{
    (void)st;
    uint32_t iss;
    int id = th_open_passive(1000, &iss);
    /* Move our sequence space to just below 2^32. */
    struct tcp_conn *c = &th_stack.conn[id];
    c->snd_una = c->snd_nxt = 0xFFFFFFFEu;
    tcp_send(&th_stack, id, "wrap", 4);
    th_expect(A | P, 0xFFFFFFFEu, 1001, 4);
    th_send(A, 1001, 2, NULL, 0);
    assert_int_equal(c->snd_una, 2);
    assert_int_equal(c->tx_len, 0);
}

/* --- malformed segments --- */
static void bad_checksum_dropped(void **st)
{
    (void)st;
    uint8_t t[20] = {0x9c, 0x40, 0, 7, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, S, 0x10, 0, 0xde, 0xad, 0, 0};
    th_send_raw(t, sizeof t, 0);
    th_expect_none();
    assert_int_equal(th_stack.stats.tcp_bad_csum, 1);
}

static void short_header_dropped(void **st)
{
    (void)st;
    uint8_t t[12] = {0x9c, 0x40, 0, 7};
    th_send_raw(t, sizeof t, 0);
    th_expect_none();
    assert_int_equal(th_stack.stats.tcp_bad_hdr, 1);
}

static void data_offset_below_5_dropped(void **st)
{
    (void)st;
    uint8_t t[20] = {0x9c, 0x40, 0, 7, 0, 0, 0, 1, 0, 0, 0, 0, 0x40, S, 0x10, 0};
    th_send_raw(t, sizeof t, 1);
    th_expect_none();
    assert_int_equal(th_stack.stats.tcp_bad_hdr, 1);
}

static void data_offset_past_segment_dropped(void **st)
{
    (void)st;
    uint8_t t[20] = {0x9c, 0x40, 0, 7, 0, 0, 0, 1, 0, 0, 0, 0, 0xF0, S, 0x10, 0};
    th_send_raw(t, sizeof t, 1);
    th_expect_none();
    assert_int_equal(th_stack.stats.tcp_bad_hdr, 1);
}

static void bad_option_lengths_dropped(void **st)
{
    (void)st;
    static const uint8_t zero_len[4] = {8, 0, 1, 1};
    static const uint8_t one_len[4] = {8, 1, 1, 1};
    static const uint8_t past[4] = {8, 10, 1, 1};
    static const uint8_t mss_short[4] = {2, 3, 1, 0};
    static const uint8_t trailing_kind[4] = {1, 1, 1, 8};
    const uint8_t *bad[] = {zero_len, one_len, past, mss_short, trailing_kind};
    struct th_seg g = {.seq = 1000, .flags = S, .wnd = 1000};
    for (int i = 0; i < 5; i++)
        th_send_full(&g, bad[i], 4);
    th_expect_none();
    assert_int_equal(th_stack.stats.tcp_bad_opt, 5);
    assert_int_equal(th_state(0), TCP_CLOSED);
}

static void unknown_option_skipped(void **st)
{
    (void)st;
    static const uint8_t opts[12] = {1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0}; /* NOP NOP TS(10) */
    static const uint8_t opts2[8] = {4, 2, 3, 3, 7, 1, 1, 0}; /* SACK-perm, wscale, EOL */
    struct th_seg g = {.seq = 1000, .flags = S, .wnd = 1000};
    th_send_full(&g, opts, 12);
    struct th_seg sa = th_take();
    assert_int_equal(sa.flags, S | A);
    assert_int_equal(sa.ack, 1001);
    (void)opts2;
    g.seq = 5000;
    g.sport = 40001;
    th_send_full(&g, opts2, 8);
    assert_int_equal(th_take().flags, S | A);
}

static void invalid_flag_mixes_dropped(void **st)
{
    (void)st;
    th_send(S | F, 1000, 0, NULL, 0);
    th_send(S | R, 1000, 0, NULL, 0);
    th_send(0, 1000, 0, NULL, 0);
    th_expect_none();
    assert_int_equal(th_stack.stats.tcp_bad_flags, 3);
    assert_int_equal(th_state(0), TCP_CLOSED);
}

/* --- the connection table --- */
static void table_full_refuses_then_recycles_time_wait(void **st)
{
    (void)st;
    uint32_t iss[TCP_MAX_CONNS];
    for (int i = 0; i < TCP_MAX_CONNS; i++) {
        struct th_seg g = {.sport = (uint16_t)(41000 + i), .seq = 100, .flags = S, .wnd = 1000};
        th_send_full(&g, NULL, 0);
        struct th_seg sa = th_take();
        iss[i] = sa.seq;
        g.flags = A;
        g.seq = 101;
        g.ack = sa.seq + 1;
        th_send_full(&g, NULL, 0);
        assert_int_equal(th_state(i), TCP_ESTABLISHED);
    }
    struct th_seg g = {.sport = 42000, .seq = 100, .flags = S, .wnd = 1000};
    th_send_full(&g, NULL, 0);
    th_expect_none(); /* refused: established ones are never pushed out */
    assert_int_equal(th_stack.stats.tcp_no_conn, 1);
    /* Connection 3 closes actively and sits in TIME-WAIT. */
    tcp_close(&th_stack, 3);
    th_take();
    struct th_seg f = {.sport = 41003, .seq = 101, .ack = iss[3] + 2, .flags = F | A, .wnd = 1000};
    th_send_full(&f, NULL, 0);
    th_take();
    assert_int_equal(th_state(3), TCP_TIME_WAIT);
    th_send_full(&g, NULL, 0);
    struct th_seg sa = th_take();
    assert_int_equal(sa.flags, S | A);
    assert_int_equal(th_stack.conn[3].rport, 42000); /* TIME-WAIT slot reused */
}

/* SYN flood (issue: half-open connections never push out live ones, and a
 * flood cannot keep a new client out): past TCP_MAX_HALF_OPEN, SYNs get a
 * SYN cookie and cost no state; the ACK completes the connection. */
static int live_count(void)
{
    int n = 0;
    for (int i = 0; i < TCP_MAX_CONNS; i++)
        n += th_state(i) != TCP_CLOSED;
    return n;
}

static void syn_flood_answered_with_cookies(void **st)
{
    (void)st;
    for (int i = 0; i < TCP_MAX_HALF_OPEN; i++) {
        struct th_seg g = {.sport = (uint16_t)(41000 + i), .seq = 100, .flags = S, .wnd = 1000};
        th_send_full(&g, NULL, 0);
        th_take();
    }
    assert_int_equal(live_count(), TCP_MAX_HALF_OPEN);
    /* The flood goes on: answered, but nothing kept. */
    for (int i = 0; i < 50; i++) {
        struct th_seg g = {.sport = (uint16_t)(43000 + i), .seq = 7, .flags = S, .wnd = 1000};
        th_send_full(&g, NULL, 0);
        struct th_seg sa = th_take();
        assert_int_equal(sa.flags, S | A);
        assert_int_equal(sa.ack, 8);
    }
    assert_int_equal(live_count(), TCP_MAX_HALF_OPEN);
    assert_int_equal(th_stack.stats.tcp_cookies_out, 50);
    /* A real client completes its handshake through the cookie. */
    struct th_seg g = {.sport = 42000, .seq = 5000, .flags = S, .wnd = 2000};
    uint8_t mss[4] = {2, 4, 0x04, 0xC4}; /* 1220 */
    th_send_full(&g, mss, 4);
    struct th_seg sa = th_take();
    assert_int_equal(sa.flags, S | A);
    assert_int_equal(sa.mss, TCP_MSS);
    struct th_seg ack = {.sport = 42000, .seq = 5001, .ack = sa.seq + 1, .flags = A | P,
                         .wnd = 2000, .len = 3};
    memcpy(ack.data, "hey", 3);
    th_send_full(&ack, NULL, 0);
    int id = -1;
    for (int i = 0; i < TCP_MAX_CONNS; i++)
        if (th_stack.conn[i].rport == 42000 && th_state(i) == TCP_ESTABLISHED)
            id = i;
    assert_true(id >= 0);
    assert_int_equal(th_stack.conn[id].mss, 1220); /* kept in the cookie */
    assert_int_equal(th_stack.conn[id].snd_una, sa.seq + 1);
    assert_int_equal(th_stack.conn[id].rcv_nxt, 5004); /* its data taken too */
    assert_int_equal(th_app.rx_len, 3);
    assert_true(th_has_event(TCP_EV_CONNECTED));
    assert_int_equal(th_stack.stats.tcp_cookies_in, 1);
}

static void bad_or_stale_cookie_gets_rst(void **st)
{
    (void)st;
    for (int i = 0; i < TCP_MAX_HALF_OPEN; i++) {
        struct th_seg g = {.sport = (uint16_t)(41000 + i), .seq = 100, .flags = S, .wnd = 1000};
        th_send_full(&g, NULL, 0);
        th_take();
    }
    struct th_seg g = {.sport = 42000, .seq = 5000, .flags = S, .wnd = 2000};
    th_send_full(&g, NULL, 0);
    struct th_seg sa = th_take();
    struct th_seg ack = {.sport = 42000, .seq = 5001, .ack = sa.seq + 5, .flags = A, .wnd = 2000};
    th_send_full(&ack, NULL, 0); /* forged: wrong cookie */
    th_expect(R, sa.seq + 5, 0, 0);
    ack.ack = sa.seq + 1;
    ack.seq = 6001; /* right cookie, other IRS */
    th_send_full(&ack, NULL, 0);
    th_expect(R, sa.seq + 1, 0, 0);
    assert_int_equal(th_stack.stats.tcp_cookies_bad, 2);
    th_advance(3u << 16); /* two cookie periods later: expired */
    while (th_pending())
        th_take(); /* the half-open ones gave up meanwhile */
    ack.seq = 5001;
    th_send_full(&ack, NULL, 0);
    th_expect(R, sa.seq + 1, 0, 0);
    assert_int_equal(live_count(), 0);
}

static void challenge_acks_rate_limited(void **st)
{
    (void)st;
    uint32_t iss;
    th_open_passive(1000, &iss);
    int n = 2 * TCP_CHALLENGE_PER_S;
    for (int i = 0; i < n; i++)
        th_send(R, 1500, 0, NULL, 0);
    /* a budget drawn between 1/2 and 3/2 of the limit */
    assert_true(th_pending() >= TCP_CHALLENGE_PER_S / 2);
    assert_true(th_pending() <= TCP_CHALLENGE_PER_S / 2 + TCP_CHALLENGE_PER_S);
    assert_int_equal(th_stack.stats.tcp_challenge_limited, (uint32_t)(n - th_pending()));
    while (th_pending())
        th_take();
    th_advance(1000);
    th_send(R, 1500, 0, NULL, 0); /* a new second */
    th_expect(A, iss + 1, 1001, 0);
}

static void new_syn_reopens_time_wait(void **st)
{
    (void)st;
    uint32_t iss;
    int id = th_open_passive(1000, &iss);
    tcp_close(&th_stack, id);
    th_take();
    th_send(F | A, 1001, iss + 2, NULL, 0);
    th_take();
    assert_int_equal(th_state(id), TCP_TIME_WAIT);
    th_send_syn_mss(500, 1460); /* below the old sequence: challenge ACK */
    th_expect(A, iss + 2, 1002, 0);
    th_send_syn_mss(90000, 1460); /* above: accepted (RFC 1122 4.2.2.13) */
    struct th_seg sa = th_take();
    assert_int_equal(sa.flags, S | A);
    assert_int_equal(sa.ack, 90001);
    /* ... with our ISS above everything the old connection used */
    assert_true(seq_gt(sa.seq, iss + 2));
}

static void new_syn_without_listener_keeps_time_wait(void **st)
{
    (void)st;
    uint32_t iss;
    int id = th_open_active(1000, &iss); /* ephemeral port: no listener */
    tcp_close(&th_stack, id);
    th_take();
    th_send(F | A, 1001, iss + 2, NULL, 0);
    th_take();
    assert_int_equal(th_state(id), TCP_TIME_WAIT);
    th_send_syn_mss(90000, 1460);
    th_expect(A, iss + 2, 1002, 0); /* challenge ACK, TIME-WAIT kept */
    assert_int_equal(th_state(id), TCP_TIME_WAIT);
}

static void isn_depends_on_tuple_and_time(void **st)
{
    (void)st;
    struct th_seg g = {.sport = 41000, .seq = 1, .flags = S, .wnd = 1000};
    th_send_full(&g, NULL, 0);
    uint32_t a = th_take().seq;
    g.sport = 41001;
    th_send_full(&g, NULL, 0);
    uint32_t b = th_take().seq;
    assert_true(a != b && b - a != 1);
    th_now += 100; /* 100 ms later, same tuple as a: 25000 ticks of 4 us on */
    tcp_abort(&th_stack, 0);
    th_take();
    g.sport = 41000;
    th_send_full(&g, NULL, 0);
    assert_int_equal(th_take().seq, a + 25000u);
}

static void api_errors(void **st)
{
    (void)st;
    assert_int_equal(tcp_listen(&th_stack, TH_PORT, &th_tcp_app), TCP_ERR_STATE);
    assert_int_equal(tcp_listen(&th_stack, 0, &th_tcp_app), TCP_ERR_ARG);
    assert_int_equal(tcp_send(&th_stack, 3, "x", 1), 0);
    assert_int_equal(tcp_close(&th_stack, 3), TCP_ERR_ARG);
    assert_int_equal(tcp_abort(&th_stack, -1), TCP_ERR_ARG);
    assert_int_equal(tcp_connect(&th_stack, 0, 80, &th_tcp_app), TCP_ERR_ARG);
    assert_string_equal(tcp_state_name(TCP_SYN_RECEIVED), "SYN-RECEIVED");
    assert_string_equal(tcp_state_name(TCP_TIME_WAIT), "TIME-WAIT");
}

static void abort_sends_rst(void **st)
{
    (void)st;
    uint32_t iss;
    int id = th_open_passive(1000, &iss);
    tcp_abort(&th_stack, id);
    th_expect(R, iss + 1, 0, 0);
    assert_int_equal(th_state(id), TCP_CLOSED);
}

static void late_segment_after_close_gets_plain_rst(void **st)
{
    (void)st;
    uint32_t iss;
    int id = th_open_passive(1000, &iss);
    tcp_abort(&th_stack, id);
    th_take();
    th_send(A | P, 1001, iss + 1, "late", 4);
    th_expect(R, iss + 1, 0, 0); /* RST without the ACK bit */
}

#define T(f) cmocka_unit_test_setup(f, setup)
int main(void)
{
    const struct CMUnitTest tests[] = {
        T(seq_compare_wraps),
        T(passive_open),
        T(active_open),
        T(simultaneous_open),
        T(simultaneous_open_plain_ack),
        T(syn_sent_bad_ack_gets_rst),
        T(syn_sent_rst_refused),
        T(syn_retransmitted_then_timeout),
        T(new_syn_in_syn_received_back_to_listen),
        T(syn_ack_retransmitted),
        T(syn_received_gives_up),
        T(rst_in_syn_received_back_to_listen),
        T(bad_ack_in_syn_received_gets_rst),
        T(mss_absent_means_536),
        T(mss_honoured),
        T(syn_to_closed_port),
        T(ack_to_closed_port),
        T(data_fin_to_closed_port),
        T(rst_to_closed_port_ignored),
        T(ack_to_listener_gets_rst),
        T(passive_close),
        T(active_close),
        T(fin_ack_in_fin_wait_1_goes_to_time_wait),
        T(simultaneous_close),
        T(time_wait_reacks_fin_and_restarts),
        T(fin_wait_2_data_delivered),
        T(close_with_data_queued_sends_fin_after),
        T(echo_half_close),
        T(rst_exact_resets),
        T(rst_in_window_challenged),
        T(rst_out_of_window_ignored),
        T(rst_in_closing_states),
        T(syn_in_established_challenged),
        T(out_of_window_syn_challenged),
        T(unacceptable_seq_gets_ack),
        T(ack_at_right_window_edge_taken),
        T(ack_in_probe_into_zero_window_taken),
        T(ack_of_unsent_data),
        T(old_ack_ignored_data_taken),
        T(overlapping_segment_trimmed),
        T(lone_ack_delayed_200ms),
        T(every_second_full_segment_acked),
        T(out_of_order_dup_ack),
        T(window_from_application),
        T(zero_window_then_update),
        T(fin_into_zero_window_taken),
        T(window_update_when_it_doubles),
        T(small_window_increase_not_announced),
        T(send_and_ack),
        T(nagle_holds_small_segment),
        T(send_buffer_limits),
        T(retransmit_with_backoff_then_abort),
        T(rto_min_after_fast_rtt),
        T(fin_retransmitted),
        T(fast_retransmit_on_three_dupacks),
        T(zero_window_probe),
        T(congestion_window_grows),
        T(sequence_wraparound),
        T(our_sequence_wraps),
        T(bad_checksum_dropped),
        T(short_header_dropped),
        T(data_offset_below_5_dropped),
        T(data_offset_past_segment_dropped),
        T(bad_option_lengths_dropped),
        T(unknown_option_skipped),
        T(invalid_flag_mixes_dropped),
        T(table_full_refuses_then_recycles_time_wait),
        T(syn_flood_answered_with_cookies),
        T(bad_or_stale_cookie_gets_rst),
        T(challenge_acks_rate_limited),
        T(new_syn_reopens_time_wait),
        T(new_syn_without_listener_keeps_time_wait),
        T(isn_depends_on_tuple_and_time),
        T(api_errors),
        T(abort_sends_rst),
        T(late_segment_after_close_gets_plain_rst),
    };
    return cmocka_run_group_tests_name("tcp", tests, NULL, NULL);
}
