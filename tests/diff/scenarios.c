/* The scenario catalogue, written once and run through both stacks.
 *
 * A scenario is a list of steps. The peer's segments give seq relative to
 * the peer's ISN (1000 unless set) and ack relative to the stack's ISN as
 * the stack's own SYN showed it (ACK_ALL: all the stack has sent). Each
 * step may name the state our stack must then be in (EXP); what the two
 * stacks emit is compared by the runner, not written here. Step numbers
 * (from 1) are what docs/lwip-differences.md refers to. */
#include "diff.h"

#define S DF_SYN
#define A DF_ACK
#define F DF_FIN
#define R DF_RST
#define P DF_PSH

#define EXP(st) .expect = DS_##st + 1
#define IN(fl, sq, ak, ln, ...) \
    {.op = OP_IN, .flags = (fl), .seq = (sq), .ack = (ak), .n = (ln), __VA_ARGS__}
#define LISTEN {.op = OP_LISTEN, EXP(LISTEN)}
#define CONNECT(...) {.op = OP_CONNECT, __VA_ARGS__}
#define SEND(k, ...) {.op = OP_SEND, .n = (k), __VA_ARGS__}
#define CLOSE(...) {.op = OP_CLOSE, __VA_ARGS__}
#define ABORT(...) {.op = OP_ABORT, __VA_ARGS__}
#define READ(k, ...) {.op = OP_READ, .n = (k), __VA_ARGS__}
#define WAIT(ms, ...) {.op = OP_WAIT, .n = (ms), __VA_ARGS__}
#define WAIT_SEG(ms, ...) {.op = OP_WAIT_SEG, .n = (ms), __VA_ARGS__}
#define END {.op = OP_END}

/* Openings most scenarios start from (3 and 2 steps). */
#define PASSIVE_OPEN LISTEN, IN(S, 0, 0, 0, EXP(SYN_RECEIVED)), IN(A, 1, 1, 0, EXP(ESTABLISHED))
#define ACTIVE_OPEN CONNECT(EXP(SYN_SENT)), IN(S | A, 0, 1, 0, EXP(ESTABLISHED))
/* After PASSIVE_OPEN: our close, acknowledged (FIN-WAIT-2), then the
 * peer's FIN (TIME-WAIT): 3 steps. */
#define TO_TIME_WAIT CLOSE(EXP(FIN_WAIT_1)), IN(A, 1, 2, 0, EXP(FIN_WAIT_2)), \
    IN(F | A, 1, 2, 0, EXP(TIME_WAIT))

#define SC(id, desc, ...) {.name = #id, .what = desc, __VA_ARGS__, .steps = steps_##id}
#define STEPS(id) static const struct diff_step steps_##id[]

/* ---------------- opening ---------------- */

STEPS(passive_open) = {PASSIVE_OPEN, END};

STEPS(passive_open_no_mss) = {
    LISTEN, IN(S, 0, 0, 0, .mss = NO_MSS, EXP(SYN_RECEIVED)), IN(A, 1, 1, 0, EXP(ESTABLISHED)),
    SEND(600), IN(A, 1, ACK_ALL, 0), IN(A, 1, ACK_ALL, 0, EXP(ESTABLISHED)), END};

STEPS(passive_open_small_mss) = {
    LISTEN, IN(S, 0, 0, 0, .mss = 200, EXP(SYN_RECEIVED)), IN(A, 1, 1, 0, EXP(ESTABLISHED)),
    SEND(500), IN(A, 1, ACK_ALL, 0), IN(A, 1, ACK_ALL, 0, EXP(ESTABLISHED)), END};

STEPS(passive_open_mss_1460_send_1000) = {
    PASSIVE_OPEN, SEND(1000), IN(A, 1, ACK_ALL, 0), IN(A, 1, ACK_ALL, 0, EXP(ESTABLISHED)), END};

STEPS(passive_synack_lost) = {
    LISTEN, IN(S, 0, 0, 0, EXP(SYN_RECEIVED)), WAIT_SEG(10000, EXP(SYN_RECEIVED)),
    IN(A, 1, 1, 0, EXP(ESTABLISHED)), END};

STEPS(passive_duplicate_syn) = {
    LISTEN, IN(S, 0, 0, 0, EXP(SYN_RECEIVED)), IN(S, 0, 0, 0, EXP(SYN_RECEIVED)),
    IN(A, 1, 1, 0, EXP(ESTABLISHED)), END};

STEPS(passive_syn_received_gives_up) = {
    LISTEN, IN(S, 0, 0, 0, EXP(SYN_RECEIVED)), WAIT(200000, EXP(LISTEN)), END};

STEPS(passive_bad_ack_in_syn_received) = {
    LISTEN, IN(S, 0, 0, 0, EXP(SYN_RECEIVED)), IN(A, 1, 100, 0, EXP(SYN_RECEIVED)),
    IN(A, 1, 1, 0, EXP(ESTABLISHED)), END};

STEPS(passive_rst_in_syn_received) = {
    LISTEN, IN(S, 0, 0, 0, EXP(SYN_RECEIVED)), IN(R, 1, 0, 0, EXP(LISTEN)),
    IN(S, 5000, 0, 0, EXP(SYN_RECEIVED)), IN(A, 5001, 1, 0, EXP(ESTABLISHED)), END};

STEPS(passive_data_on_handshake_ack) = {
    LISTEN, IN(S, 0, 0, 0, EXP(SYN_RECEIVED)), IN(A | P, 1, 1, 50, EXP(ESTABLISHED)),
    WAIT(300, EXP(ESTABLISHED)), END};

STEPS(passive_syn_with_data) = {
    LISTEN, IN(S, 0, 0, 20, EXP(SYN_RECEIVED)), IN(A, 1, 1, 0, EXP(ESTABLISHED)),
    IN(A | P, 1, 1, 20), WAIT(300, EXP(ESTABLISHED)), END};

STEPS(active_open) = {
    ACTIVE_OPEN, SEND(10), IN(A, 1, ACK_ALL, 0, EXP(ESTABLISHED)), END};

STEPS(active_open_no_mss) = {
    CONNECT(EXP(SYN_SENT)), IN(S | A, 0, 1, 0, .mss = NO_MSS, EXP(ESTABLISHED)), SEND(600),
    IN(A, 1, ACK_ALL, 0), IN(A, 1, ACK_ALL, 0, EXP(ESTABLISHED)), END};

STEPS(active_refused) = {CONNECT(EXP(SYN_SENT)), IN(R | A, 0, 1, 0, EXP(CLOSED)), END};

STEPS(active_rst_without_ack_bit) = {
    CONNECT(EXP(SYN_SENT)), IN(R, 0, 1, 0, EXP(SYN_SENT)), IN(S | A, 0, 1, 0, EXP(ESTABLISHED)),
    END};

STEPS(active_rst_bad_ack) = {
    CONNECT(EXP(SYN_SENT)), IN(R | A, 0, 5, 0, EXP(SYN_SENT)), IN(S | A, 0, 1, 0, EXP(ESTABLISHED)),
    END};

STEPS(active_synack_bad_ack) = {
    CONNECT(EXP(SYN_SENT)), IN(S | A, 0, 100, 0, EXP(SYN_SENT)),
    IN(S | A, 0, 1, 0, EXP(ESTABLISHED)), END};

STEPS(active_syn_lost) = {
    CONNECT(EXP(SYN_SENT)), WAIT_SEG(10000, EXP(SYN_SENT)), IN(S | A, 0, 1, 0, EXP(ESTABLISHED)),
    END};

STEPS(active_gives_up) = {CONNECT(EXP(SYN_SENT)), WAIT(180000, EXP(SYN_SENT)), WAIT(300000, EXP(CLOSED)), END};

STEPS(simultaneous_open) = {
    CONNECT(EXP(SYN_SENT)), IN(S, 0, 0, 0, EXP(SYN_RECEIVED)), IN(S | A, 0, 1, 0, EXP(ESTABLISHED)),
    SEND(10), IN(A, 1, ACK_ALL, 0, EXP(ESTABLISHED)), END};

/* ---------------- no connection ---------------- */

STEPS(syn_to_closed_port) = {IN(S, 0, 0, 0, EXP(CLOSED)), END};
STEPS(syn_to_closed_port_ack_field_set) = {IN(S, 0, 12345, 0, EXP(CLOSED)), END};
STEPS(ack_to_closed_port) = {IN(A, 1, 100, 0, EXP(CLOSED)), END};
STEPS(data_to_closed_port) = {IN(A | P, 1, 100, 10, EXP(CLOSED)), END};
STEPS(fin_to_closed_port) = {IN(F, 1, 0, 0, EXP(CLOSED)), END};
STEPS(rst_to_closed_port) = {IN(R | A, 1, 100, 0, EXP(CLOSED)), END};
STEPS(ack_to_listener) = {LISTEN, IN(A, 1, 100, 0, EXP(LISTEN)), END};
STEPS(fin_to_listener) = {LISTEN, IN(F, 1, 0, 0, EXP(LISTEN)), END};
STEPS(rst_to_listener) = {LISTEN, IN(R, 1, 0, 0, EXP(LISTEN)), END};

/* ---------------- data ---------------- */

STEPS(data_both_ways) = {
    PASSIVE_OPEN, IN(A | P, 1, 1, 100), WAIT(300), SEND(100), IN(A, 101, ACK_ALL, 0, EXP(ESTABLISHED)),
    END};

/* The lifecycle diff_harness --bench counts instructions for. */
STEPS(lifecycle_echo) = {
    LISTEN, IN(S, 0, 0, 0, EXP(SYN_RECEIVED)), IN(A, 1, 1, 0, EXP(ESTABLISHED)),
    IN(A | P, 1, 1, 100, EXP(ESTABLISHED)), IN(A, 101, 101, 0, EXP(ESTABLISHED)),
    IN(F | A, 101, 101, 0, EXP(LAST_ACK)), IN(A, 102, 102, 0, EXP(CLOSED)), END};

STEPS(echo_100) = {PASSIVE_OPEN, IN(A | P, 1, 1, 100), IN(A, 101, 101, 0, EXP(ESTABLISHED)), END};

STEPS(delayed_ack_timing) = {
    PASSIVE_OPEN, IN(A | P, 1, 1, 10), WAIT(199), WAIT(1), WAIT(50), END};

STEPS(ack_every_second_segment) = {
    PASSIVE_OPEN, IN(A, 1, 1, 536), IN(A, 537, 1, 536), IN(A, 1073, 1, 100), IN(A, 1173, 1, 100),
    WAIT(300, EXP(ESTABLISHED)), END};

STEPS(out_of_order_segment) = {
    PASSIVE_OPEN, IN(A, 101, 1, 100), IN(A, 1, 1, 100), WAIT(300), IN(A, 101, 1, 100), WAIT(300),
    END};

STEPS(out_of_window_data) = {PASSIVE_OPEN, IN(A, 100000, 1, 10, EXP(ESTABLISHED)), WAIT(300), END};

STEPS(old_duplicate_data) = {
    PASSIVE_OPEN, IN(A | P, 1, 1, 10), WAIT(300), IN(A | P, 1, 1, 10, EXP(ESTABLISHED)), END};

STEPS(overlapping_data) = {
    PASSIVE_OPEN, IN(A | P, 1, 1, 10), WAIT(300), IN(A | P, 6, 1, 10, EXP(ESTABLISHED)), WAIT(300),
    END};

STEPS(ack_of_unsent_data) = {PASSIVE_OPEN, IN(A, 1, 50, 0, EXP(ESTABLISHED)), END};

STEPS(keepalive_probe) = {PASSIVE_OPEN, IN(A, 0, 1, 0, EXP(ESTABLISHED)), END};

STEPS(syn_in_window_established) = {PASSIVE_OPEN, IN(S, 50, 0, 0, EXP(ESTABLISHED)), END};

STEPS(duplicate_syn_established) = {PASSIVE_OPEN, IN(S, 0, 0, 0, EXP(ESTABLISHED)), END};

STEPS(sequence_wrap_peer) = {
    PASSIVE_OPEN, IN(A | P, 1, 1, 300), IN(A, 301, 301, 0), IN(F | A, 301, 301, 0, EXP(LAST_ACK)),
    IN(A, 302, 302, 0, EXP(CLOSED)), END};

STEPS(sequence_wrap_stack) = {
    PASSIVE_OPEN, SEND(300), IN(A, 1, ACK_ALL, 0), SEND(100), IN(A, 1, ACK_ALL, 0),
    CLOSE(EXP(FIN_WAIT_1)), IN(A, 1, ACK_ALL, 0, EXP(FIN_WAIT_2)), END};

/* ---------------- windows ---------------- */

STEPS(zero_window_from_peer) = {
    LISTEN, IN(S, 0, 0, 0), IN(A, 1, 1, 0, .wnd = W_ZERO, EXP(ESTABLISHED)), SEND(100),
    WAIT_SEG(10000), IN(A, 1, ACK_ALL, 0, .wnd = W_ZERO), WAIT_SEG(20000),
    IN(A, 1, ACK_ALL, 0), IN(A, 1, ACK_ALL, 0, EXP(ESTABLISHED)), END};

STEPS(zero_window_ours) = {
    PASSIVE_OPEN, IN(A, 1, 1, 1460), IN(A, 1461, 1, 1460), IN(A, 2921, 1, 1176), WAIT(300),
    IN(A, 4097, 1, 1), READ(4096), WAIT(300, EXP(ESTABLISHED)), END};

STEPS(window_update_after_read) = {
    PASSIVE_OPEN, IN(A, 1, 1, 1000), WAIT(300), READ(1000), WAIT(300, EXP(ESTABLISHED)), END};

/* ---------------- closing ---------------- */

STEPS(passive_close) = {
    PASSIVE_OPEN, IN(F | A, 1, 1, 0, EXP(CLOSE_WAIT)), CLOSE(EXP(LAST_ACK)),
    IN(A, 2, 2, 0, EXP(CLOSED)), END};

STEPS(passive_close_by_app_on_fin) = {
    PASSIVE_OPEN, IN(F | A, 1, 1, 0, EXP(LAST_ACK)), IN(A, 2, 2, 0, EXP(CLOSED)), END};

STEPS(active_close) = {PASSIVE_OPEN, TO_TIME_WAIT, END};

STEPS(active_close_fin_acked_with_fin) = {
    PASSIVE_OPEN, CLOSE(EXP(FIN_WAIT_1)), IN(F | A, 1, 2, 0, EXP(TIME_WAIT)), END};

STEPS(active_close_from_active_open) = {
    ACTIVE_OPEN, CLOSE(EXP(FIN_WAIT_1)), IN(A, 1, 2, 0, EXP(FIN_WAIT_2)),
    IN(F | A, 1, 2, 0, EXP(TIME_WAIT)), END};

STEPS(simultaneous_close) = {
    PASSIVE_OPEN, CLOSE(EXP(FIN_WAIT_1)), IN(F | A, 1, 1, 0, EXP(CLOSING)),
    IN(A, 2, 2, 0, EXP(TIME_WAIT)), END};

STEPS(close_with_unsent_data) = {
    PASSIVE_OPEN, SEND(100), SEND(100), CLOSE(EXP(FIN_WAIT_1)), IN(A, 1, 101, 0),
    IN(A, 1, ACK_ALL, 0, EXP(FIN_WAIT_2)), END};

STEPS(fin_wait_2_receives_data) = {
    PASSIVE_OPEN, CLOSE(EXP(FIN_WAIT_1)), IN(A, 1, 2, 0, EXP(FIN_WAIT_2)),
    IN(A | P, 1, 2, 50, EXP(FIN_WAIT_2)), WAIT(300), IN(F | A, 51, 2, 0, EXP(TIME_WAIT)), END};

STEPS(fin_wait_2_timeout) = {
    PASSIVE_OPEN, CLOSE(EXP(FIN_WAIT_1)), IN(A, 1, 2, 0, EXP(FIN_WAIT_2)), WAIT(250000), END};

STEPS(close_wait_send_then_close) = {
    PASSIVE_OPEN, IN(F | A, 1, 1, 0, EXP(CLOSE_WAIT)), SEND(50), CLOSE(EXP(LAST_ACK)),
    IN(A, 2, ACK_ALL, 0, EXP(CLOSED)), END};

STEPS(fin_with_data) = {
    PASSIVE_OPEN, IN(F | A | P, 1, 1, 30, EXP(CLOSE_WAIT)), CLOSE(EXP(LAST_ACK)),
    IN(A, 32, 2, 0, EXP(CLOSED)), END};

STEPS(data_after_fin) = {
    PASSIVE_OPEN, IN(F | A, 1, 1, 0, EXP(CLOSE_WAIT)), IN(A | P, 2, 1, 10, EXP(CLOSE_WAIT)),
    WAIT(300), END};

STEPS(duplicate_fin_close_wait) = {
    PASSIVE_OPEN, IN(F | A, 1, 1, 0, EXP(CLOSE_WAIT)), IN(F | A, 1, 1, 0, EXP(CLOSE_WAIT)), END};

STEPS(duplicate_fin_last_ack) = {
    PASSIVE_OPEN, IN(F | A, 1, 1, 0, EXP(CLOSE_WAIT)), CLOSE(EXP(LAST_ACK)),
    IN(F | A, 1, 1, 0, EXP(LAST_ACK)), IN(A, 2, 2, 0, EXP(CLOSED)), END};

STEPS(last_ack_fin_lost) = {
    PASSIVE_OPEN, IN(F | A, 1, 1, 0, EXP(CLOSE_WAIT)), CLOSE(EXP(LAST_ACK)),
    WAIT_SEG(10000, EXP(LAST_ACK)), IN(A, 2, 2, 0, EXP(CLOSED)), END};

STEPS(fin_wait_1_fin_lost) = {
    PASSIVE_OPEN, CLOSE(EXP(FIN_WAIT_1)), WAIT_SEG(10000, EXP(FIN_WAIT_1)),
    IN(A, 1, 2, 0, EXP(FIN_WAIT_2)), END};

/* ---------------- TIME-WAIT ---------------- */

STEPS(time_wait_duration) = {
    PASSIVE_OPEN, TO_TIME_WAIT, WAIT(119000, EXP(TIME_WAIT)), WAIT(2000, EXP(TIME_WAIT)),
    WAIT(120000, EXP(CLOSED)), END};

STEPS(time_wait_fin_again) = {
    PASSIVE_OPEN, TO_TIME_WAIT, WAIT(1000), IN(F | A, 1, 2, 0, EXP(TIME_WAIT)), END};

STEPS(time_wait_rst) = {PASSIVE_OPEN, TO_TIME_WAIT, IN(R, 2, 0, 0, EXP(CLOSED)), END};

STEPS(time_wait_new_syn) = {
    PASSIVE_OPEN, TO_TIME_WAIT, IN(S, 1000, 0, 0, EXP(SYN_RECEIVED)), END};

STEPS(time_wait_data) = {PASSIVE_OPEN, TO_TIME_WAIT, IN(A | P, 2, 2, 10, EXP(TIME_WAIT)), END};

/* ---------------- resets ---------------- */

STEPS(rst_established) = {PASSIVE_OPEN, IN(R, 1, 0, 0, EXP(CLOSED)), END};
STEPS(rst_ack_established) = {PASSIVE_OPEN, IN(R | A, 1, 1, 0, EXP(CLOSED)), END};
STEPS(rst_in_window_challenged) = {PASSIVE_OPEN, IN(R, 50, 0, 0, EXP(ESTABLISHED)), END};
STEPS(rst_out_of_window_ignored) = {PASSIVE_OPEN, IN(R, 100000, 0, 0, EXP(ESTABLISHED)), END};
STEPS(rst_in_fin_wait_1) = {
    PASSIVE_OPEN, CLOSE(EXP(FIN_WAIT_1)), IN(R, 1, 0, 0, EXP(CLOSED)), END};
STEPS(rst_in_fin_wait_2) = {
    PASSIVE_OPEN, CLOSE(EXP(FIN_WAIT_1)), IN(A, 1, 2, 0, EXP(FIN_WAIT_2)),
    IN(R, 1, 0, 0, EXP(CLOSED)), END};
STEPS(rst_in_close_wait) = {
    PASSIVE_OPEN, IN(F | A, 1, 1, 0, EXP(CLOSE_WAIT)), IN(R, 2, 0, 0, EXP(CLOSED)), END};
STEPS(rst_in_closing) = {
    PASSIVE_OPEN, CLOSE(EXP(FIN_WAIT_1)), IN(F | A, 1, 1, 0, EXP(CLOSING)),
    IN(R, 2, 0, 0, EXP(CLOSED)), END};
STEPS(rst_in_last_ack) = {
    PASSIVE_OPEN, IN(F | A, 1, 1, 0, EXP(CLOSE_WAIT)), CLOSE(EXP(LAST_ACK)),
    IN(R, 2, 0, 0, EXP(CLOSED)), END};
STEPS(abort_established) = {PASSIVE_OPEN, ABORT(EXP(CLOSED)), IN(A, 1, 1, 0, EXP(CLOSED)), END};

/* ---------------- loss and timers ---------------- */

STEPS(data_segment_lost) = {
    PASSIVE_OPEN, SEND(100), WAIT_SEG(10000), IN(A, 1, ACK_ALL, 0, EXP(ESTABLISHED)), END};

STEPS(rto_first_timeout) = {PASSIVE_OPEN, SEND(100), WAIT(250), WAIT(2750), END};

STEPS(retransmit_gives_up) = {PASSIVE_OPEN, SEND(100), WAIT(200000, EXP(CLOSED)), WAIT(2000000), END};

STEPS(fast_retransmit) = {
    PASSIVE_OPEN, SEND(400), IN(A, 1, 1, 0), IN(A, 1, 1, 0), IN(A, 1, 1, 0),
    IN(A, 1, ACK_ALL, 0, EXP(ESTABLISHED)), END};

STEPS(peer_segment_lost_then_retransmitted) = {
    PASSIVE_OPEN, IN(A | P, 1, 1, 100), IN(A | P, 201, 1, 100), IN(A | P, 101, 1, 100), WAIT(300),
    IN(A | P, 201, 1, 100), WAIT(300, EXP(ESTABLISHED)), END};

STEPS(two_connections) = {
    LISTEN, IN(S, 0, 0, 0, .port = 40001), IN(S, 0, 0, 0, .port = 40002),
    IN(A, 1, 1, 0, .port = 40001, EXP(ESTABLISHED)), IN(A, 1, 1, 0, .port = 40002, EXP(ESTABLISHED)),
    IN(A | P, 1, 1, 10, .port = 40002), IN(A | P, 1, 1, 10, .port = 40001),
    IN(F | A, 11, 11, 0, .port = 40001, EXP(LAST_ACK)), IN(A, 12, 12, 0, .port = 40001, EXP(CLOSED)),
    IN(A, 11, 11, 0, .port = 40002, EXP(ESTABLISHED)), END};

/* ---------------- more edge cases ---------------- */

STEPS(passive_fin_on_handshake_ack) = {
    LISTEN, IN(S, 0, 0, 0, EXP(SYN_RECEIVED)), IN(F | A, 1, 1, 0, EXP(CLOSE_WAIT)),
    CLOSE(EXP(LAST_ACK)), IN(A, 2, 2, 0, EXP(CLOSED)), END};

STEPS(fin_without_ack_established) = {
    PASSIVE_OPEN, IN(F, 1, 0, 0, EXP(ESTABLISHED)), WAIT(300), END};

STEPS(data_without_ack_established) = {
    PASSIVE_OPEN, IN(P, 1, 0, 10, EXP(ESTABLISHED)), WAIT(300), END};

STEPS(old_ack_with_data) = {
    PASSIVE_OPEN, SEND(10), IN(A, 1, ACK_ALL, 0), IN(A | P, 1, 0, 10, EXP(ESTABLISHED)), WAIT(300),
    END};

STEPS(ack_far_below_window_with_data) = {
    PASSIVE_OPEN, IN(A | P, 1, -100000, 10, EXP(ESTABLISHED)), WAIT(300), END};

STEPS(active_synack_with_data) = {
    CONNECT(EXP(SYN_SENT)), IN(S | A, 0, 1, 20, EXP(ESTABLISHED)), WAIT(300),
    IN(A | P, 1, 1, 20), WAIT(300, EXP(ESTABLISHED)), END};

STEPS(partial_ack_after_timeout) = {
    PASSIVE_OPEN, SEND(400), WAIT_SEG(10000), IN(A, 1, 201, 0), WAIT_SEG(10000),
    IN(A, 1, ACK_ALL, 0, EXP(ESTABLISHED)), END};

STEPS(small_peer_window) = {
    LISTEN, IN(S, 0, 0, 0), IN(A, 1, 1, 0, .wnd = 100, EXP(ESTABLISHED)), SEND(300),
    WAIT_SEG(10000), IN(A, 1, ACK_ALL, 0), WAIT_SEG(10000), IN(A, 1, ACK_ALL, 0), WAIT(300),
    END};

/* RFC 1122 4.2.2.13: a SYN may reopen a connection in TIME-WAIT if the
 * new ISN is above every sequence number of the old incarnation, and the
 * connection must go back to TIME-WAIT if the SYN was an old duplicate. */
STEPS(time_wait_reopen_isn) = {
    PASSIVE_OPEN, SEND(1000), IN(A, 1, ACK_ALL, 0), IN(A, 1, ACK_ALL, 0), CLOSE(EXP(FIN_WAIT_1)),
    IN(A, 1, ACK_ALL, 0, EXP(FIN_WAIT_2)), IN(F | A, 1, ACK_ALL, 0, EXP(TIME_WAIT)), WAIT(1),
    IN(S, 1000, 0, 0), END};

STEPS(time_wait_reopen_old_duplicate) = {
    PASSIVE_OPEN, TO_TIME_WAIT, WAIT(1000), IN(S, 1000, 0, 0), IN(R, 1001, 0, 0),
    IN(F | A, 1, 2, 0), END};

STEPS(closing_fin_lost) = {
    PASSIVE_OPEN, CLOSE(EXP(FIN_WAIT_1)), IN(F | A, 1, 1, 0, EXP(CLOSING)),
    WAIT_SEG(10000, EXP(CLOSING)), IN(A, 2, 2, 0, EXP(TIME_WAIT)), END};

STEPS(keepalive_probe_with_byte) = {PASSIVE_OPEN, IN(A, 0, 1, 1, EXP(ESTABLISHED)), END};

STEPS(data_filling_window_exactly) = {
    PASSIVE_OPEN, IN(A, 1, 1, 1460), IN(A, 1461, 1, 1460), IN(A, 2921, 1, 1176), WAIT(300),
    IN(A, 4097, 1, 100), WAIT(300, EXP(ESTABLISHED)), END};

STEPS(syn_received_new_syn_in_window) = {
    LISTEN, IN(S, 0, 0, 0, EXP(SYN_RECEIVED)), IN(S, 100, 0, 0), IN(A, 1, 1, 0), END};

STEPS(rst_in_window_syn_received) = {
    LISTEN, IN(S, 0, 0, 0, EXP(SYN_RECEIVED)), IN(R, 50, 0, 0, EXP(SYN_RECEIVED)),
    IN(A, 1, 1, 0, EXP(ESTABLISHED)), END};

STEPS(syn_fin_to_listener) = {LISTEN, IN(S | F, 0, 0, 0, EXP(LISTEN)), END};

const struct diff_scenario diff_scenarios[] = {
    SC(passive_open, "LISTEN, SYN (MSS 1460), ACK: 3-way handshake", .app = {0}),
    SC(passive_open_no_mss, "SYN without MSS: 536 assumed; 600 bytes sent", .app = {0}),
    SC(passive_open_small_mss, "SYN with MSS 200: 500 bytes in 200-byte segments", .app = {0}),
    SC(passive_open_mss_1460_send_1000, "MSS 1460, the application sends 1000 bytes", .app = {0}),
    SC(passive_synack_lost, "our SYN,ACK lost: retransmitted, then the ACK", .app = {0}),
    SC(passive_duplicate_syn, "the peer's SYN twice in SYN-RECEIVED", .app = {0}),
    SC(passive_syn_received_gives_up, "no ACK ever comes to our SYN,ACK", .app = {0}),
    SC(passive_bad_ack_in_syn_received, "unacceptable ACK in SYN-RECEIVED, then a good one", .app = {0}),
    SC(passive_rst_in_syn_received, "RST in SYN-RECEIVED: back to LISTEN, a new SYN", .app = {0}),
    SC(passive_data_on_handshake_ack, "the handshake's ACK carries 50 bytes", .app = {0}),
    SC(passive_syn_with_data, "a SYN carrying 20 bytes", .app = {0}),
    SC(active_open, "connect, SYN,ACK (MSS 1460), 10 bytes sent", .app = {0}),
    SC(active_open_no_mss, "connect, SYN,ACK without MSS, 600 bytes sent", .app = {0}),
    SC(active_refused, "connect answered by RST,ACK", .app = {0}),
    SC(active_rst_without_ack_bit, "SYN-SENT: RST without the ACK bit (ack field right)", .app = {0}),
    SC(active_rst_bad_ack, "SYN-SENT: RST,ACK acknowledging something else", .app = {0}),
    SC(active_synack_bad_ack, "SYN-SENT: SYN,ACK with a wrong ACK, then a right one", .app = {0}),
    SC(active_syn_lost, "our SYN lost: retransmitted", .app = {0}),
    SC(active_gives_up, "connect to a silent peer: SYN retries, then give up", .app = {0}),
    SC(simultaneous_open, "the peer's SYN crosses ours", .app = {0}),
    SC(syn_to_closed_port, "SYN to a port nobody listens on", .app = {0}),
    SC(syn_to_closed_port_ack_field_set, "SYN (no ACK bit) with a nonzero ack field, closed port",
       .app = {0}),
    SC(ack_to_closed_port, "ACK to a closed port", .app = {0}),
    SC(data_to_closed_port, "data to a closed port", .app = {0}),
    SC(fin_to_closed_port, "FIN without ACK to a closed port", .app = {0}),
    SC(rst_to_closed_port, "RST to a closed port", .app = {0}),
    SC(ack_to_listener, "ACK to a listening port", .app = {0}),
    SC(fin_to_listener, "FIN to a listening port", .app = {0}),
    SC(rst_to_listener, "RST to a listening port", .app = {0}),
    SC(data_both_ways, "100 bytes in, delayed ACK, 100 bytes out", .app = {0}),
    SC(echo_100, "echo: 100 bytes back with the ACK", .app = {.echo = 1}),
    SC(lifecycle_echo, "the counted lifecycle: open, 100 bytes echoed, FIN/ACK both ways",
       .app = {.echo = 1, .auto_close = 1}),
    SC(delayed_ack_timing, "when a lone ACK goes out", .app = {0}),
    SC(ack_every_second_segment, "2 x 536 bytes, then 2 x 100 bytes", .app = {0}),
    SC(out_of_order_segment, "bytes 101-200 before 1-100", .app = {0}),
    SC(out_of_window_data, "data far right of the window", .app = {0}),
    SC(old_duplicate_data, "the same 10 bytes twice", .app = {0}),
    SC(overlapping_data, "10 bytes, then 10 overlapping by 5", .app = {0}),
    SC(ack_of_unsent_data, "an ACK of bytes never sent", .app = {0}),
    SC(keepalive_probe, "seq = RCV.NXT - 1, no data (a keepalive)", .app = {0}),
    SC(syn_in_window_established, "SYN inside the window in ESTABLISHED", .app = {0}),
    SC(duplicate_syn_established, "the original SYN again in ESTABLISHED", .app = {0}),
    SC(sequence_wrap_peer, "peer ISN 2^32 - 256: 300 echoed bytes cross 2^32, close",
       .peer_isn = 0xFFFFFF00u, .app = {.echo = 1, .auto_close = 1}),
    SC(sequence_wrap_stack, "stack ISN ~2^32 - 300: 400 bytes sent across 2^32, close",
       .stack_isn = 0xFFFFFED4u, .app = {0}),
    SC(zero_window_from_peer, "the peer's window is 0: persist probes, then it opens",
       .app = {0}),
    SC(zero_window_ours, "the application holds 4096 bytes: window 0, probe, read",
       .app = {.hold = 1}),
    SC(window_update_after_read, "the application holds 1000 bytes, then reads them",
       .app = {.hold = 1}),
    SC(passive_close, "FIN from the peer, our close later", .app = {0}),
    SC(passive_close_by_app_on_fin, "the application closes as the FIN arrives",
       .app = {.auto_close = 1}),
    SC(active_close, "our close: FIN-WAIT-1, FIN-WAIT-2, TIME-WAIT", .app = {0}),
    SC(active_close_fin_acked_with_fin, "the peer's FIN acknowledges ours", .app = {0}),
    SC(active_close_from_active_open, "connect, then our close", .app = {0}),
    SC(simultaneous_close, "FINs cross: CLOSING", .app = {0}),
    SC(close_with_unsent_data, "close while Nagle holds 100 bytes", .app = {0}),
    SC(fin_wait_2_receives_data, "half-closed: data arrives in FIN-WAIT-2", .app = {0}),
    SC(fin_wait_2_timeout, "the peer never sends its FIN", .app = {0}),
    SC(close_wait_send_then_close, "CLOSE-WAIT: 50 bytes, then close", .app = {0}),
    SC(fin_with_data, "30 bytes and FIN in one segment", .app = {0}),
    SC(data_after_fin, "data after the peer's FIN", .app = {0}),
    SC(duplicate_fin_close_wait, "the peer's FIN twice", .app = {0}),
    SC(duplicate_fin_last_ack, "the peer's FIN again in LAST-ACK", .app = {0}),
    SC(last_ack_fin_lost, "our FIN lost in LAST-ACK", .app = {0}),
    SC(fin_wait_1_fin_lost, "our FIN lost in FIN-WAIT-1", .app = {0}),
    SC(time_wait_duration, "TIME-WAIT at 119 s, 121 s, 241 s", .app = {0}),
    SC(time_wait_fin_again, "the peer's FIN again in TIME-WAIT", .app = {0}),
    SC(time_wait_rst, "RST in TIME-WAIT", .app = {0}),
    SC(time_wait_new_syn, "a new SYN (higher seq) in TIME-WAIT", .app = {0}),
    SC(time_wait_data, "data in TIME-WAIT", .app = {0}),
    SC(rst_established, "RST, exact seq, in ESTABLISHED", .app = {0}),
    SC(rst_ack_established, "RST,ACK, exact seq, in ESTABLISHED", .app = {0}),
    SC(rst_in_window_challenged, "RST inside the window, not exact", .app = {0}),
    SC(rst_out_of_window_ignored, "RST outside the window", .app = {0}),
    SC(rst_in_fin_wait_1, "RST in FIN-WAIT-1", .app = {0}),
    SC(rst_in_fin_wait_2, "RST in FIN-WAIT-2", .app = {0}),
    SC(rst_in_close_wait, "RST in CLOSE-WAIT", .app = {0}),
    SC(rst_in_closing, "RST in CLOSING", .app = {0}),
    SC(rst_in_last_ack, "RST in LAST-ACK", .app = {0}),
    SC(abort_established, "the application aborts; the peer's next ACK", .app = {0}),
    SC(data_segment_lost, "our 100 bytes lost: the retransmission", .app = {0}),
    SC(rto_first_timeout, "when the first retransmission goes out", .app = {0}),
    SC(retransmit_gives_up, "the peer never acknowledges: retries, then give up", .app = {0}),
    SC(fast_retransmit, "three duplicate ACKs", .app = {0}),
    SC(peer_segment_lost_then_retransmitted, "the peer's 2nd segment lost, 3rd arrives, 2nd again",
       .app = {0}),
    SC(two_connections, "two connections at once from ports 40001 and 40002",
       .app = {.echo = 1, .auto_close = 1}),
    SC(passive_fin_on_handshake_ack, "the handshake's ACK carries the peer's FIN", .app = {0}),
    SC(fin_without_ack_established, "FIN without the ACK bit in ESTABLISHED", .app = {0}),
    SC(data_without_ack_established, "data without the ACK bit in ESTABLISHED", .app = {0}),
    SC(old_ack_with_data, "data whose ACK field is old (below SND.UNA)", .app = {0}),
    SC(ack_far_below_window_with_data, "data whose ACK is 100000 below SND.UNA (RFC 5961 5.2)",
       .app = {0}),
    SC(active_synack_with_data, "the SYN,ACK carries 20 bytes", .app = {0}),
    SC(partial_ack_after_timeout, "400 bytes lost, retransmitted, half acknowledged", .app = {0}),
    SC(small_peer_window, "the peer offers 100 bytes of window, 300 to send", .app = {0}),
    SC(time_wait_reopen_isn, "1000 bytes sent, TIME-WAIT, a new SYN 1 ms later", .app = {0}),
    SC(time_wait_reopen_old_duplicate, "SYN in TIME-WAIT that was an old duplicate (peer RSTs)",
       .app = {0}),
    SC(closing_fin_lost, "our FIN lost in CLOSING", .app = {0}),
    SC(keepalive_probe_with_byte, "seq = RCV.NXT - 1 with one byte (a keepalive)", .app = {0}),
    SC(data_filling_window_exactly, "4096 bytes (our whole window), then 100 more",
       .app = {.hold = 1}),
    SC(syn_received_new_syn_in_window, "SYN-RECEIVED: a different SYN inside the window",
       .app = {0}),
    SC(rst_in_window_syn_received, "SYN-RECEIVED: RST inside the window, not exact", .app = {0}),
    SC(syn_fin_to_listener, "SYN+FIN to a listening port", .app = {0}),
};
const size_t diff_nscenarios = sizeof diff_scenarios / sizeof diff_scenarios[0];
