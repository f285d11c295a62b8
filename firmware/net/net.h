/* The network stack: Ethernet II, ARP, IPv4, ICMP echo and TCP.
 *
 * Hardware-free. One instance is a struct net_stack that the caller owns;
 * nothing is global. Frames and the current time go in (net_input,
 * net_poll); frames come out through the tx callback and TCP events through
 * the application callbacks of tcp.h. The same code builds for the board
 * and for the host tests. */
#ifndef NET_H
#define NET_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

/* Every counter the stack keeps, in the order the console prints them.
 * Drops are counted by reason; a frame is counted under one reason only. */
#define NET_STATS(X)                                                          \
    X(rx_frames)      /* frames handed to net_input */                        \
    X(tx_frames)      /* frames handed to the tx callback */                  \
    X(eth_short)      /* shorter than an Ethernet header, or over the MTU */  \
    X(eth_not_us)     /* destination MAC neither ours nor broadcast */        \
    X(eth_type)       /* EtherType other than IPv4 or ARP */                  \
    X(arp_bad)        /* malformed ARP (length, hw/proto type, op) */         \
    X(arp_other)      /* ARP for another address: ignored */                  \
    X(arp_replies)    /* replies we sent to requests for our address */       \
    X(arp_requests)   /* requests we sent to resolve a next hop */            \
    X(arp_unresolved) /* outgoing frames dropped awaiting ARP */              \
    X(ip_bad_hdr)     /* version, IHL < 5, total length vs frame */           \
    X(ip_bad_csum)    /* IPv4 header checksum */                              \
    X(ip_frag)        /* fragments: not reassembled, dropped */               \
    X(ip_not_us)      /* destination not our unicast IP (broadcasts too) */   \
    X(ip_bad_src)     /* source broadcast, multicast, zero or loopback */     \
    X(ip_proto)       /* protocol other than ICMP/TCP */                      \
    X(ip_no_route)    /* outgoing: off-subnet and no gateway */               \
    X(icmp_bad)       /* short or bad checksum */                             \
    X(icmp_echo)      /* echo requests answered */                            \
    X(tcp_bad_csum)   /* TCP checksum */                                      \
    X(tcp_bad_hdr)    /* short, data offset < 5 or past the datagram */      \
    X(tcp_bad_opt)    /* option length 0, 1 or past the header */             \
    X(tcp_bad_flags)  /* SYN+FIN, SYN+RST, no flags and other invalid mixes */\
    X(tcp_bad_seq)    /* unacceptable sequence number (answered by ACK) */    \
    X(tcp_bad_ack)    /* ACK of unsent data or out of the RFC 5961 range */   \
    X(tcp_ooo)        /* out-of-order data dropped with a duplicate ACK */    \
    X(tcp_no_conn)    /* SYN refused: table full of live connections */      \
    X(tcp_rst_in)     /* resets accepted */                                   \
    X(tcp_rst_out)    /* resets sent */                                       \
    X(tcp_challenge)  /* challenge ACKs sent (RFC 5961) */                    \
    X(tcp_challenge_limited) /* challenge ACKs not sent: rate limit */         \
    X(tcp_cookies_out) /* SYN cookies sent: half-open budget spent */         \
    X(tcp_cookies_in) /* connections completed from a valid SYN cookie */     \
    X(tcp_cookies_bad) /* ACKs to a listener with no valid cookie */          \
    X(tcp_retrans)    /* segments retransmitted (timeout, fast, probe) */     \
    X(tcp_timeouts)   /* connections aborted after the retry limit */        \
    X(tcp_seg_in)     /* TCP segments accepted by the checks */              \
    X(tcp_seg_out)    /* TCP segments sent */

struct net_stats {
#define NET_STATS_FIELD(name) uint32_t name;
    NET_STATS(NET_STATS_FIELD)
#undef NET_STATS_FIELD
};

/* RFC 9293 states; the order is the one of the RFC's state diagram. */
enum tcp_state {
    TCP_CLOSED,
    TCP_LISTEN,
    TCP_SYN_SENT,
    TCP_SYN_RECEIVED,
    TCP_ESTABLISHED,
    TCP_FIN_WAIT_1,
    TCP_FIN_WAIT_2,
    TCP_CLOSE_WAIT,
    TCP_CLOSING,
    TCP_LAST_ACK,
    TCP_TIME_WAIT,
    TCP_NUM_STATES
};

/* One connection. Kept at 40 bytes (checked in tcp.c): buffers live in
 * struct net_stack. iss and irs are not kept once synchronized: during the
 * handshake snd_una == iss and rcv_nxt == irs + 1; observers that want
 * numbers relative to the ISNs record them from the trace. */
struct tcp_conn {
    uint32_t rip;       /* remote IPv4 address */
    uint32_t snd_una;   /* oldest unacknowledged sequence number */
    uint32_t snd_nxt;   /* next sequence number to send */
    uint32_t rcv_nxt;   /* next sequence number expected */
    uint16_t lport, rport;
    uint16_t snd_wnd;   /* peer's window (no scaling) */
    uint16_t cwnd;      /* congestion window, bytes (RFC 5681) */
    uint16_t mss;       /* effective send MSS */
    uint16_t tx_len;    /* bytes in txbuf from snd_una (sent or not) */
    uint16_t timer;     /* retransmit/persist/TIME-WAIT countdown, ticks; 0 = off */
    uint16_t srtt;      /* smoothed RTT, ticks << 3 (RFC 6298) */
    uint16_t rttvar;    /* RTT variance, ticks << 2 */
    uint16_t rcv_wnd;   /* window we advertised, from rcv_nxt (RCV.WND) */
    uint8_t state;      /* enum tcp_state */
    uint8_t flags;      /* TCP_F_* in tcp.c */
    uint8_t nrtx : 4;   /* retransmissions of the current segment */
    uint8_t dupacks : 4;/* duplicate ACKs seen (fast retransmit at 3) */
    uint8_t app : 4;    /* index into net_stack.apps */
    /* slow start threshold in MSS units (RFC 5681); 15 = none yet. Loss
     * sets it to FlightSize/2, at most TCP_TXBUF/2 = 11 MSS. */
    uint8_t ssthresh_mss : 4;
};

struct tcp_listener {
    uint16_t port; /* 0: free slot */
    uint8_t app;
};

struct arp_entry {
    uint32_t ip;      /* 0: free */
    uint8_t mac[6];
    uint8_t state;    /* ARP_FREE, ARP_PENDING, ARP_RESOLVED */
    uint8_t pad;
    uint32_t stamp;   /* resolved: when learned; pending: when requested */
};

/* Trace record: one per TCP segment in or out and per state change.
 * Sequence and acknowledgement numbers are absolute. */
enum net_trace_kind { NET_TRACE_SEG_IN, NET_TRACE_SEG_OUT, NET_TRACE_STATE };
struct net_trace {
    uint8_t kind;    /* enum net_trace_kind */
    int8_t id;       /* connection id, -1 when no connection matched */
    uint8_t flags;   /* TCP flags (segments) */
    uint8_t old_state, new_state; /* NET_TRACE_STATE */
    uint16_t wnd, len;
    uint32_t seq, ack;
};

struct net_stack;
typedef void (*net_tx_fn)(void *ctx, const uint8_t *frame, size_t len);
typedef void (*net_trace_fn)(void *ctx, const struct net_trace *t);
struct tcp_app;

struct net_config {
    uint8_t mac[6];
    uint32_t ip, netmask, gateway; /* host byte order; gateway 0 = none */
};

struct net_stack {
    struct net_config cfg;
    net_tx_fn tx;
    void *tx_ctx;
    net_trace_fn trace; /* optional */
    void *trace_ctx;
    uint32_t now;       /* ms, the time given to the current call */
    struct net_stats stats;
    struct arp_entry arp[ARP_CACHE_SIZE];
    uint16_t ip_id;
    /* TCP */
    uint32_t isn_key[4];       /* key pool for RFC 6528 ISNs (isn.c) */
    uint8_t isn_key_frozen;    /* set once the first connection used it */
    uint32_t tcp_last_tick;    /* time of the last whole tick processed */
    uint32_t ack_deadline;     /* when delayed ACKs are due */
    uint8_t ack_pending;       /* some connection holds a delayed ACK */
    /* The connection tcp_input works on: sends wait for the end of the
     * input, and the slot is not handed out again by a callback. */
    struct tcp_conn *tcp_busy;
    uint16_t challenges;       /* challenge ACKs left in this second */
    uint32_t challenge_start;  /* start of the current one-second window */
    struct tcp_conn conn[TCP_MAX_CONNS];
    struct tcp_listener lst[TCP_MAX_LISTENERS];
    const struct tcp_app *apps[TCP_MAX_APPS];
    void *app_ctx[TCP_MAX_CONNS]; /* per-connection user pointer */
    /* Big buffers last, frame first: fields below 4 KB offsets are reached
     * with one Thumb-2 load or store. */
    uint8_t frame[NET_FRAME_MAX] __attribute__((aligned(4))); /* outgoing frame */
    uint8_t txbuf[TCP_MAX_CONNS][TCP_TXBUF];
};

/* Set up an instance: zeroes it, copies cfg, sets the tx callback. */
void net_init(struct net_stack *s, const struct net_config *cfg, net_tx_fn tx, void *tx_ctx);
/* Mix entropy (boot RAM, timer jitter) into the ISN key; ignored once the
 * first connection has drawn an ISN, so ISNs of one boot stay monotonic. */
void net_add_entropy(struct net_stack *s, const void *data, size_t len);
/* One received Ethernet frame (no FCS), at time now_ms. The stack may call
 * the tx callback from inside. The frame buffer is not kept. */
void net_input(struct net_stack *s, const uint8_t *frame, size_t len, uint32_t now_ms);
/* Run timers (ARP ageing, TCP retransmission, delayed ACK, TIME-WAIT).
 * Call at least every TCP_TICK_MS while net_timers_running() says so;
 * otherwise nothing is due (ARP ageing does not mind a late poll), so an
 * idle board may sleep long. Calling more often is harmless. */
void net_poll(struct net_stack *s, uint32_t now_ms);
int net_timers_running(const struct net_stack *s);

#endif
