/* Differential tests of our TCP core against lwIP (issue 5).
 *
 * The runner (diff_main.c) plays the peer 192.168.7.1 against a stack at
 * 192.168.7.2 and drives two backends with the same IPv4 packets and the
 * same application actions: ours (ours_drv.c, our core built with every
 * global symbol renamed ours_*) and lwIP (lwip_drv.c, Debian's liblwip).
 * This header is shared by the three and includes neither stack's headers:
 * the two stacks export the same names (tcp_input, tcp_listen, ...).
 *
 * Sequence numbers in the scenario catalogue (scenarios.c) are relative:
 * what the peer sends is relative to the peer's ISN (seq) and to the
 * stack's ISN as learnt from the stack's SYN (ack); what the stacks send
 * is recorded relative to the same two ISNs. */
#ifndef DIFF_H
#define DIFF_H

#include <stddef.h>
#include <stdint.h>

#define DIFF_PEER_IP 0xC0A80701u  /* 192.168.7.1, the test */
#define DIFF_STACK_IP 0xC0A80702u /* 192.168.7.2, the stack under test */
#define DIFF_PEER_PORT 40000      /* the peer's port (our connect target) */
#define DIFF_LISTEN_PORT 7        /* where the stacks listen */

/* TCP flags */
#define DF_FIN 0x01
#define DF_SYN 0x02
#define DF_RST 0x04
#define DF_PSH 0x08
#define DF_ACK 0x10
#define DF_URG 0x20

/* RFC 9293 states, in the order of both stacks' enums (ours: enum
 * tcp_state in net.h; lwIP: enum tcp_state in tcpbase.h). */
enum diff_state {
    DS_CLOSED, DS_LISTEN, DS_SYN_SENT, DS_SYN_RECEIVED, DS_ESTABLISHED, DS_FIN_WAIT_1,
    DS_FIN_WAIT_2, DS_CLOSE_WAIT, DS_CLOSING, DS_LAST_ACK, DS_TIME_WAIT, DS_NSTATES
};

/* What the application does; the same behaviour is coded against each
 * stack's API. */
struct diff_app {
    int echo;        /* send back what arrives */
    int auto_close;  /* close when the peer's FIN arrives */
    int hold;        /* keep received data until a READ step (else read at once) */
};

/* One backend. Every call happens at the backend's current virtual time;
 * tick() moves it one millisecond on and runs what timers are due. */
struct diff_backend {
    const char *name;
    /* Fresh stack. stack_isn: the ISN to aim at for the first connection
     * (0: the stack's own choice). */
    void (*init)(const struct diff_app *app, uint32_t stack_isn);
    void (*input)(const uint8_t *ip, size_t len); /* one IPv4 packet from the peer */
    void (*tick)(void);
    void (*listen)(uint16_t port);
    void (*connect)(uint16_t peer_port);
    void (*send)(uint16_t peer_port, size_t n); /* queue n bytes (the app keeps what does not fit) */
    void (*close)(uint16_t peer_port);          /* our side: FIN after the queued data */
    void (*abort)(uint16_t peer_port);
    void (*read)(uint16_t peer_port, size_t n); /* the application reads n held bytes */
    /* State of the connection with the peer's port, -1 when there is none. */
    int (*state)(uint16_t peer_port);
    int (*listening)(void);
};

/* Backends call this with every IPv4 packet their stack emits. */
void diff_emit(const uint8_t *ip, size_t len);
/* Backends report anything that makes the run invalid (a dropped frame,
 * an unexpected ISN, an allocation failure). */
void diff_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Application data: byte k of either direction's stream. */
static inline uint8_t diff_byte(uint32_t k) { return (uint8_t)(k * 7u + 3u); }

extern const struct diff_backend diff_ours, diff_lwip;

/* Instruction counting (--bench, under callgrind --collect-atstart=no):
 * backends bracket each call into their stack with diff_count_on/off, and
 * their transmit and application callbacks (harness work, not the
 * stack's) with diff_count_pause/resume. No-ops unless counting. Inline,
 * with the state changed before the toggle that starts collection and
 * after the one that stops it, so the brackets themselves cost almost
 * nothing in the count. */
#if defined(__has_include)
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#define DIFF_HAVE_CALLGRIND 1
#endif
#endif
#ifndef DIFF_HAVE_CALLGRIND
#define CALLGRIND_TOGGLE_COLLECT
#define CALLGRIND_ZERO_STATS
#define CALLGRIND_DUMP_STATS_AT(s) ((void)(s))
#endif
extern int diff_counting_enabled, diff_counting;
extern unsigned long diff_count_brackets; /* on/off pairs: their cost is calibrated out */
static inline void diff_count_on(void)
{
    if (diff_counting_enabled && !diff_counting) {
        diff_counting = 1;
        diff_count_brackets++;
        CALLGRIND_TOGGLE_COLLECT;
    }
}
static inline void diff_count_off(void)
{
    if (diff_counting) {
        CALLGRIND_TOGGLE_COLLECT;
        diff_counting = 0;
    }
}
static inline int diff_count_pause(void)
{
    int was = diff_counting;
    diff_count_off();
    return was;
}
static inline void diff_count_resume(int was)
{
    if (was)
        diff_count_on();
}

/* --- the scenario catalogue --- */

enum diff_op {
    OP_END,
    OP_IN,        /* inject a segment from the peer */
    OP_LISTEN,    /* app: listen on DIFF_LISTEN_PORT */
    OP_CONNECT,   /* app: active open to the peer's port */
    OP_SEND,      /* app: send n bytes */
    OP_CLOSE,     /* app: close */
    OP_ABORT,     /* app: abort */
    OP_READ,      /* app: read n held bytes */
    OP_WAIT,      /* advance the virtual clock n ms */
    OP_WAIT_SEG,  /* advance until the stack emits something (at most n ms) */
};

/* Window and option values in OP_IN. */
#define W_ZERO (-1)  /* .wnd: advertise a zero window (0 means the default) */
#define NO_MSS (-1)  /* .mss: no MSS option on a SYN (0 means 1460 on a SYN) */
#define ACK_ALL INT32_MIN /* .ack: everything the stack has sent on this connection */

struct diff_step {
    enum diff_op op;
    uint8_t flags;     /* OP_IN */
    int32_t seq, ack;  /* OP_IN: relative to the peer's / the stack's ISN */
    uint32_t n;        /* OP_IN: payload bytes; SEND/READ bytes; WAIT ms */
    int32_t wnd;       /* OP_IN: 0 default (64240), W_ZERO or a value */
    int32_t mss;       /* OP_IN: 0 default, NO_MSS or a value */
    uint16_t port;     /* peer port of the connection (0: DIFF_PEER_PORT) */
    int expect;        /* 1 + the state ours must be in after the step; 0: unchecked */
};

struct diff_scenario {
    const char *name;
    const char *what;      /* one line for the report */
    uint32_t peer_isn;     /* 0: 1000 */
    uint32_t stack_isn;    /* 0: each stack's own choice */
    struct diff_app app;
    const struct diff_step *steps;
};

extern const struct diff_scenario diff_scenarios[];
extern const size_t diff_nscenarios;

#endif
