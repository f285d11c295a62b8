/* Helpers for the unit tests: one stack instance under test, a tx callback
 * that keeps copies of the frames sent, builders for every kind of frame a
 * peer could send (with correct checksums unless told otherwise) and
 * parsers for what the stack sent.
 *
 * The stack: MAC 02:00:00:12:34:56, IP 192.168.7.2/24, no gateway. The
 * peer: 192.168.7.1 at 02:00:00:00:00:01. Time is tu_now (ms), given to
 * every net_input/net_poll the helpers make.
 *
 * Typical use:
 *     cmocka_unit_test_setup(test_x, tu_setup)       fresh stack, ARP empty
 *     cmocka_unit_test_setup(test_y, tu_setup_peer)  peer's MAC known and
 *                                                    kept fresh (TCP tests)
 *     n = tu_icmp_echo(f, TU_PEER_IP, TU_IP, 8, 1, 2, data, 56);
 *     tu_input(f, n);
 *     assert_int_equal(tu_ntx, 1);
 *     tu_expect_stats("rx_frames=1 tx_frames=1 icmp_echo=1");
 */
#ifndef TESTUTIL_H
#define TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "net_priv.h"
#include "tcp.h"

#define TU_IP 0xC0A80702u      /* 192.168.7.2, the stack */
#define TU_NETMASK 0xFFFFFF00u /* /24 */
#define TU_PEER_IP 0xC0A80701u /* 192.168.7.1, the test */
extern const uint8_t tu_mac[6];      /* 02:00:00:12:34:56 */
extern const uint8_t tu_peer_mac[6]; /* 02:00:00:00:00:01 */
extern const uint8_t tu_bcast[6];    /* ff:ff:ff:ff:ff:ff */
extern const uint8_t tu_zero_mac[6];

/* TCP flags for the builders and parsers. */
#define TU_FIN 0x01
#define TU_SYN 0x02
#define TU_RST 0x04
#define TU_PSH 0x08
#define TU_ACK 0x10
#define TU_URG 0x20

/* Big enough for any frame, with room to build oversized ones. */
#define TU_BUF 2048

extern struct net_stack tu_s; /* the stack under test */
extern uint32_t tu_now;       /* ms, passed on every call into the stack */
/* When set, the peer's ARP entry is renewed before every tu_poll and
 * tu_advance step, so tests spanning minutes never see it age out. */
extern int tu_keep_arp;

/* Frames the stack sent since the last tu_tx_clear(): tu_ntx counts all of
 * them, the first TU_MAX_TX are kept. Each must be 60..1514 bytes. */
#define TU_MAX_TX 32
struct tu_frame {
    size_t len;
    uint8_t d[NET_FRAME_MAX];
};
extern struct tu_frame tu_tx[TU_MAX_TX];
extern unsigned tu_ntx;

/* ---- Setup and driving ---- */
void tu_reset(void);             /* fresh stack at tu_now = 0, nothing captured */
int tu_setup(void **state);      /* cmocka setup: tu_reset() */
int tu_setup_peer(void **state); /* tu_reset, tu_prime_arp, tu_keep_arp = 1 */
void tu_tx_clear(void);
/* Make the peer's MAC known (resolved, stamped now) as a valid ARP reply
 * for us would: no frame sent, no counter changed. */
void tu_prime_arp(void);
/* The same for any on-link ip/mac. */
void tu_prime_arp_for(uint32_t ip, const uint8_t mac[6]);
void tu_input(const uint8_t *frame, size_t len); /* net_input at tu_now */
void tu_poll(void);                               /* net_poll at tu_now */
/* Move time forward by ms, polling every TCP_TICK_MS (and at the end). */
void tu_advance(uint32_t ms);

/* ---- Builders: write a frame into f (TU_BUF bytes), return its length ---- */
/* Ethernet header; returns 14. */
size_t tu_eth(uint8_t *f, const uint8_t dst[6], const uint8_t src[6], uint16_t type);
/* ARP packet (28 bytes, no padding): Ethernet dst broadcast for op 1, our
 * MAC otherwise; Ethernet src sha. Returns 42. */
size_t tu_arp(uint8_t *f, uint16_t op, const uint8_t sha[6], uint32_t spa, const uint8_t tha[6],
              uint32_t tpa);

/* An IPv4 datagram from the peer's MAC to ours. Zero fields are zero on the
 * wire except: ttl 0 -> 64, version_ihl 0 -> 0x45 plus the options
 * (optlen rounded up to 4, padded with zeros), total_len 0 -> computed. */
struct tu_ip {
    uint32_t src, dst;
    uint8_t proto, ttl, tos;
    uint8_t version_ihl; /* override the first byte */
    uint16_t id, frag;   /* frag: flags (0x4000 DF, 0x2000 MF) | offset */
    uint16_t total_len;  /* override the total length */
    const uint8_t *opt;
    size_t optlen;
    int bad_csum; /* store the header checksum plus one */
};
size_t tu_ipv4(uint8_t *f, const struct tu_ip *h, const void *payload, size_t plen);
/* Plain datagram: no options, DF clear, TTL 64. */
size_t tu_ipv4_simple(uint8_t *f, uint32_t src, uint32_t dst, uint8_t proto, const void *payload,
                      size_t plen);
/* Recompute the header checksum of the IPv4 datagram in frame f. */
void tu_ip_fix_csum(uint8_t *f);
/* ICMP message type/code 0, id, seq, data, valid checksum, in a plain
 * datagram. */
size_t tu_icmp(uint8_t *f, uint32_t src, uint32_t dst, uint8_t type, uint16_t id, uint16_t seq,
               const void *data, size_t len);

/* A TCP segment in a plain datagram. src/dst 0 mean peer/us. Options are
 * copied and padded with zeros (EOL) to a multiple of 4. */
struct tu_tcp {
    uint32_t src, dst;
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint8_t flags;
    uint16_t wnd, urg;
    const uint8_t *opt;
    size_t optlen;
    const void *data;
    size_t len;
    int bad_csum; /* store the TCP checksum plus one */
};
size_t tu_tcp(uint8_t *f, const struct tu_tcp *t);
/* Shorthand from the peer to us, no options. */
size_t tu_tcp_seg(uint8_t *f, uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack,
                  uint8_t flags, uint16_t wnd, const void *data, size_t len);
/* Build into an internal buffer and hand to the stack. */
void tu_send_tcp(const struct tu_tcp *t);

/* ---- Parsers of captured frames (fail the test when malformed) ---- */
const uint8_t *tu_txf(unsigned i); /* frame i: i < tu_ntx and i < TU_MAX_TX */

/* An IPv4 datagram as the stack must send it: from our MAC, EtherType
 * IPv4, version 4, IHL 5, DF, TTL 64, valid header checksum, total length
 * within the frame (frame padded to 60 with zeros). */
struct tu_ip_info {
    const uint8_t *eth_dst;
    uint32_t src, dst;
    uint8_t proto;
    uint16_t id;
    const uint8_t *payload;
    size_t plen;
};
void tu_get_ip(unsigned i, struct tu_ip_info *ip);

/* A TCP segment as above plus a valid TCP checksum. */
struct tu_tcp_info {
    struct tu_ip_info ip;
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint8_t flags;
    uint16_t wnd, urg;
    size_t hlen;   /* data offset in bytes */
    const uint8_t *opt;
    size_t optlen;
    uint16_t mss;  /* MSS option, 0 when absent */
    const uint8_t *data;
    size_t len;
};
void tu_get_tcp(unsigned i, struct tu_tcp_info *t);

/* Internet checksum helpers for tests (0 when a checksummed block is valid). */
uint16_t tu_csum(const void *p, size_t len);
uint16_t tu_tcp_csum(uint32_t src, uint32_t dst, const uint8_t *seg, size_t len);

/* Assert every counter: the ones named in spec ("rx_frames=1 eth_short=1",
 * blank-separated) have those values, all others are 0. Prints each
 * mismatch by name. */
#define tu_expect_stats(spec) tu_expect_stats_at(__FILE__, __LINE__, spec)
void tu_expect_stats_at(const char *file, int line, const char *spec);

#endif
