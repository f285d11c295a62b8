/* ARP (RFC 826) for IPv4 over Ethernet: answers requests for our address
 * and keeps a small cache of next hops.
 *
 * Learning follows RFC 826's merge: any valid ARP packet refreshes the
 * entry its sender already has; a new entry is made when the packet is for
 * our address (the sender is about to talk to us). IPv4 datagrams for us
 * from on-link hosts do the same with their Ethernet source (arp_learn from
 * ipv4_input), so a peer we talk with never ages out mid-connection and
 * whoever just talked to us can be answered at once. Addresses that cannot
 * be a neighbour (ipv4_bad_src) and group or zero MACs are never learned.
 *
 * No frame waits for resolution: arp_lookup() answers NULL, the caller drops
 * its frame (arp_unresolved), and when the answer comes tcp_arp_resolved()
 * lets TCP send again at once (its SYN or retransmission) instead of
 * waiting for its timer. That stands in for RFC 1122's one queued packet
 * per destination without holding a buffer. */
#include <string.h>

#include "net_priv.h"

enum { ARP_FREE, ARP_PENDING, ARP_RESOLVED };
#define ARP_LEN 28 /* Ethernet/IPv4 ARP packet */

/* htype 1 (Ethernet), ptype 0x0800, hlen 6, plen 4: all we speak. */
static const uint8_t arp_hdr[6] = { 0, 1, 8, 0, 6, 4 };

/* The entry for ip. If there is none: NULL, or with make, the first free
 * entry (else the oldest), cleared and given to ip. */
static struct arp_entry *arp_get(struct net_stack *s, uint32_t ip, int make)
{
    struct arp_entry *e, *old = s->arp;
    uint32_t age, oldest = 0;

    for (e = s->arp; e < s->arp + ARP_CACHE_SIZE; e++) {
        if (e->state == ARP_FREE) {
            age = 0xFFFFFFFFu;
        } else {
            if (e->ip == ip)
                return e;
            age = s->now - e->stamp;
        }
        if (age > oldest) {
            oldest = age;
            old = e;
        }
    }
    if (!make)
        return NULL;
    memset(old, 0, sizeof *old);
    old->ip = ip;
    return old;
}

/* Request (op 1: broadcast, target MAC zero, mac NULL) or reply (op 2 to
 * mac) about ip. */
static void arp_send(struct net_stack *s, uint8_t op, const uint8_t *mac, uint32_t ip)
{
    uint8_t *a = s->frame + ETH_HLEN;

    memcpy(a, arp_hdr, 6);
    put_be16(a + 6, op);
    memcpy(a + 8, s->cfg.mac, 6);
    put_be32(a + 14, s->cfg.ip);
    if (mac)
        memcpy(a + 18, mac, 6);
    else
        memset(a + 18, 0, 6);
    put_be32(a + 24, ip);
    eth_output(s, mac, ETHTYPE_ARP, ETH_HLEN + ARP_LEN);
}

static int mac_bad(const uint8_t *m) /* group (incl. broadcast) or zero */
{
    return (m[0] & 1) || (get_be32(m) | get_be16(m + 4)) == 0;
}

void arp_learn(struct net_stack *s, uint32_t ip, const uint8_t *mac, int make)
{
    struct arp_entry *e;
    uint8_t was;

    if (mac_bad(mac) || ipv4_bad_src(s, ip) || !(e = arp_get(s, ip, make)))
        return;
    was = e->state;
    memcpy(e->mac, mac, 6);
    e->state = ARP_RESOLVED;
    e->stamp = s->now;
    if (was == ARP_PENDING)
        tcp_arp_resolved(s, ip);
}

void arp_input(struct net_stack *s, const uint8_t *frame, size_t len)
{
    const uint8_t *a = frame + ETH_HLEN, *sha = a + 8;
    uint32_t spa, tpa;
    uint16_t op;

    /* Trailing bytes (Ethernet padding) are allowed. A sender MAC that is
     * multicast, broadcast or zero is malformed: nothing could answer it. */
    if (len < ETH_HLEN + ARP_LEN || memcmp(a, arp_hdr, 6) != 0 ||
        (op = get_be16(a + 6), op - 1u > 1u) || mac_bad(sha)) {
        NET_COUNT(s, arp_bad);
        return;
    }
    spa = get_be32(a + 14);
    tpa = get_be32(a + 24);
    /* A pending entry resolved here lets TCP send before our reply: both
     * are built in s->frame one after the other, so that is harmless. */
    arp_learn(s, spa, sha, tpa == s->cfg.ip);
    if (tpa != s->cfg.ip) {
        NET_COUNT(s, arp_other);
    } else if (op == 1) { /* a probe (sender IP 0, RFC 5227) is answered too */
        NET_COUNT(s, arp_replies);
        arp_send(s, 2, sha, spa);
    }
}

void arp_poll(struct net_stack *s)
{
    struct arp_entry *e;

    for (e = s->arp; e < s->arp + ARP_CACHE_SIZE; e++)
        if (s->now - e->stamp >= ARP_TIMEOUT_MS)
            e->state = ARP_FREE;
}

const uint8_t *arp_lookup(struct net_stack *s, uint32_t ip)
{
    struct arp_entry *e = arp_get(s, ip, 1);

    if (e->state == ARP_RESOLVED)
        return e->mac;
    if (e->state == ARP_PENDING && s->now - e->stamp < ARP_RETRY_MS)
        return NULL; /* asked recently */
    e->state = ARP_PENDING;
    e->stamp = s->now;
    NET_COUNT(s, arp_requests);
    arp_send(s, 1, NULL, ip);
    return NULL;
}
