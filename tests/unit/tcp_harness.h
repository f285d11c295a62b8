/* Segment-by-segment driver for the TCP core (smoltcp style): the test is
 * the peer at 192.168.7.1; it sends segments with th_send() and checks what
 * the stack answered with th_expect(). Time is virtual: th_now. */
#ifndef TCP_HARNESS_H
#define TCP_HARNESS_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "net.h"
#include "tcp.h"

#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_RST 0x04
#define TH_PSH 0x08
#define TH_ACK 0x10
#define TH_URG 0x20

#define TH_PEER_IP 0xC0A80701u /* 192.168.7.1 */
#define TH_OUR_IP 0xC0A80702u  /* 192.168.7.2 */
#define TH_PEER_PORT 40000
#define TH_PORT 7

extern struct net_stack th_stack;
extern uint32_t th_now;
extern uint16_t th_our_port; /* our port of the connection under test */

/* A segment as seen on the wire (either direction). */
struct th_seg {
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint8_t flags;
    uint16_t wnd;
    uint16_t mss;       /* MSS option, 0 if absent */
    uint16_t len;       /* payload length */
    uint8_t data[1500];
    uint32_t dst_ip;
};

/* The application the tests register: records events and data. */
struct th_app_state {
    int events[64];
    int nevents;
    int last_id;
    uint8_t rx[8192];
    size_t rx_len;
    size_t take_max;    /* recv consumes at most this many bytes per call */
    uint16_t window;    /* window callback result */
    int echo;           /* send received data back */
    int close_on_peer_close;
};
extern struct th_app_state th_app;
extern const struct tcp_app th_tcp_app;

/* Fresh stack (ARP primed for the peer), listener on TH_PORT. */
void th_setup(void);
void th_setup_no_listen(void);
/* Send a segment from the peer (sport TH_PEER_PORT -> TH_PORT unless set). */
void th_send_full(const struct th_seg *g, const uint8_t *opts, size_t optlen);
void th_send(uint8_t flags, uint32_t seq, uint32_t ack, const void *data, uint16_t len);
void th_send_wnd(uint8_t flags, uint32_t seq, uint32_t ack, uint16_t wnd);
void th_send_syn_mss(uint32_t seq, uint16_t mss); /* mss 0: no option */
/* Raw IPv4 payload (a TCP segment, possibly broken) from the peer. */
void th_send_raw(const uint8_t *tcp, size_t len, int fix_csum);
/* Advance virtual time and run the timers. */
void th_advance(uint32_t ms);
/* Number of TCP segments the stack sent and not yet taken. */
int th_pending(void);
/* Take the next segment the stack sent (fails the test if none). */
struct th_seg th_take(void);
/* Take the next segment and check flags, seq, ack, payload length. */
#define th_expect(fl, sq, ak, ln) th_expect_at(__FILE__, __LINE__, fl, sq, ak, ln)
struct th_seg th_expect_at(const char *file, int line, uint8_t flags, uint32_t seq, uint32_t ack,
                           uint16_t len);
#define th_expect_none() assert_int_equal(th_pending(), 0)
int th_state(int id);
/* Passive open through the 3-way handshake; returns the connection id and
 * our ISS. peer_iss is the peer's. */
int th_open_passive(uint32_t peer_iss, uint32_t *iss);
/* Active open to the peer's TH_PEER_PORT. */
int th_open_active(uint32_t peer_iss, uint32_t *iss);
int th_has_event(int ev);
void th_clear_events(void);

#endif
