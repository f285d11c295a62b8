/* Internal interfaces between the layers of the stack. Not for applications. */
#ifndef NET_PRIV_H
#define NET_PRIV_H

#include "net.h"

#define ETH_HLEN 14
#define IP_HLEN 20 /* we send no IP options */
#define TCP_HLEN 20
#define ETHTYPE_IPV4 0x0800
#define ETHTYPE_ARP 0x0806
#define IP_PROTO_ICMP 1
#define IP_PROTO_TCP 6
/* Offset of the IPv4 payload in s->frame when we build a packet. */
#define NET_IP_PAYLOAD (ETH_HLEN + IP_HLEN)

#define NET_COUNT(s, name) ((s)->stats.name++)

/* Big-endian access at any alignment: one LDR/STR (unaligned access is
 * allowed on Cortex-M3 and x86) plus a REV, instead of four byte accesses. */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define NET_BE16(v) __builtin_bswap16(v)
#define NET_BE32(v) __builtin_bswap32(v)
#else
#define NET_BE16(v) (v)
#define NET_BE32(v) (v)
#endif
static inline uint16_t get_be16(const uint8_t *p)
{
    uint16_t v;
    __builtin_memcpy(&v, p, 2);
    return NET_BE16(v);
}
static inline uint32_t get_be32(const uint8_t *p)
{
    uint32_t v;
    __builtin_memcpy(&v, p, 4);
    return NET_BE32(v);
}
static inline void put_be16(uint8_t *p, uint16_t v)
{
    v = NET_BE16(v);
    __builtin_memcpy(p, &v, 2);
}
static inline void put_be32(uint8_t *p, uint32_t v)
{
    v = NET_BE32(v);
    __builtin_memcpy(p, &v, 4);
}

/* Internet checksum (RFC 1071): accumulate 16-bit big-endian words, then
 * fold. Accumulating an odd length is only valid as the last piece. */
uint32_t net_csum_add(uint32_t sum, const uint8_t *p, size_t len);
uint16_t net_csum_fold(uint32_t sum);
/* Sum of the TCP/UDP pseudo-header (addresses in host order). */
uint32_t net_csum_pseudo(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len);

/* Ethernet: send s->frame (len bytes, Ethernet header included) after
 * filling the header for dst_mac / type. */
void eth_output(struct net_stack *s, const uint8_t *dst_mac, uint16_t type, size_t len);

/* ARP (arp.c). */
void arp_input(struct net_stack *s, const uint8_t *frame, size_t len);
void arp_poll(struct net_stack *s);
/* RFC 826 merge of ip -> mac: refresh ip's entry, or with make create it
 * (ignored for a group or zero mac and per ipv4_bad_src). */
void arp_learn(struct net_stack *s, uint32_t ip, const uint8_t *mac, int make);
/* The MAC for next hop ip, or NULL when unknown: then a request is sent
 * (at most one per ARP_RETRY_MS), overwriting s->frame. */
const uint8_t *arp_lookup(struct net_stack *s, uint32_t ip);

/* IPv4 and ICMP (ipv4.c). */
void ipv4_input(struct net_stack *s, const uint8_t *frame, size_t len);
/* Send the IPv4 payload of payload_len bytes already at
 * s->frame + NET_IP_PAYLOAD. Returns 0 when handed to the tx callback,
 * -1 when dropped (no route, or next hop unresolved: then ARP asks). */
int ipv4_output(struct net_stack *s, uint32_t dst, uint8_t proto, size_t payload_len);
/* Nonzero when ip cannot be a neighbour's source address: 0, broadcast
 * (limited or our subnet's), multicast or class E, loopback, or our own. */
int ipv4_bad_src(const struct net_stack *s, uint32_t ip);

/* TCP (tcp.c). seg points at the TCP header, len covers header and data;
 * src/dst are the IPv4 addresses (dst is our unicast address). */
void tcp_input(struct net_stack *s, uint32_t src, uint32_t dst, const uint8_t *seg, size_t len);
void tcp_poll(struct net_stack *s);
void tcp_init(struct net_stack *s);
/* ARP has just resolved ip: send now what waited for it (e.g. a SYN). */
void tcp_arp_resolved(struct net_stack *s, uint32_t ip);

/* RFC 6528 ISN function (isn.c): HalfSipHash-2-4 of the 4-tuple under key
 * (its four words folded to HalfSipHash's 64 bits). */
uint32_t net_siphash_tuple(const uint32_t key[4], uint32_t lip, uint16_t lport, uint32_t rip,
                           uint16_t rport);

#endif
