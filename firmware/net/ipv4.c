/* IPv4 (RFC 791, RFC 1122 3.2) and ICMP echo (RFC 792).
 *
 * Accepted: unfragmented datagrams to our unicast address. Broadcasts are
 * not: we run no UDP, TCP never talks to a broadcast address, and echo
 * requests to broadcast are ignored (RFC 1122 3.2.2.6 allows it; it is
 * the usual smurf defence); they count as ip_not_us. IP options are
 * skipped, not obeyed. Every dropped datagram counts under one reason, in
 * the order of the checks below. An accepted datagram from an on-link host
 * refreshes (or makes) that host's ARP entry from the Ethernet source. */
#include <string.h>

#include "net_priv.h"

#define ICMP_ECHO_REPLY 0
#define ICMP_ECHO_REQUEST 8

int ipv4_bad_src(const struct net_stack *s, uint32_t ip)
{
    return ip == 0 || ip >= 0xE0000000u || (ip >> 24) == 127 ||
           (ip | s->cfg.netmask) == 0xFFFFFFFFu || ip == s->cfg.ip;
}

/* Echo request p (n bytes, ICMP header included) from src: answer with the
 * same identifier, sequence number and data. Other types are ignored. */
static void icmp_input(struct net_stack *s, uint32_t src, const uint8_t *p, size_t n)
{
    uint8_t *r = s->frame + NET_IP_PAYLOAD;

    if (n < 8 || net_csum_fold(net_csum_add(0, p, n)) != 0) {
        NET_COUNT(s, icmp_bad);
        return;
    }
    if (p[0] != ICMP_ECHO_REQUEST || p[1] != 0)
        return;
    memcpy(r, p, n); /* n <= 1480: fits behind our 20-byte header */
    r[0] = ICMP_ECHO_REPLY;
    r[2] = r[3] = 0;
    put_be16(r + 2, net_csum_fold(net_csum_add(0, r, n)));
    if (ipv4_output(s, src, IP_PROTO_ICMP, n) == 0)
        NET_COUNT(s, icmp_echo);
}

void ipv4_input(struct net_stack *s, const uint8_t *frame, size_t len)
{
    const uint8_t *ip = frame + ETH_HLEN;
    size_t n = len - ETH_HLEN, hl, tl;
    uint32_t src, dst;

    /* Bytes past the total length (Ethernet padding) are ignored. */
    if (n < IP_HLEN || (ip[0] >> 4) != 4 || (hl = (size_t)(ip[0] & 15) * 4) < IP_HLEN ||
        (tl = get_be16(ip + 2)) < hl || tl > n) {
        NET_COUNT(s, ip_bad_hdr);
        return;
    }
    if (net_csum_fold(net_csum_add(0, ip, hl)) != 0) {
        NET_COUNT(s, ip_bad_csum);
        return;
    }
    if (get_be16(ip + 6) & 0x3FFF) { /* MF or a fragment offset */
        NET_COUNT(s, ip_frag);
        return;
    }
    src = get_be32(ip + 12);
    dst = get_be32(ip + 16);
    if (dst != s->cfg.ip) {
        NET_COUNT(s, ip_not_us);
        return;
    }
    if (ipv4_bad_src(s, src)) {
        NET_COUNT(s, ip_bad_src);
        return;
    }
    if (((src ^ dst) & s->cfg.netmask) == 0)
        arp_learn(s, src, frame + 6, 1); /* an on-link host: its MAC is current */
    if (ip[9] == IP_PROTO_TCP)
        tcp_input(s, src, dst, ip + hl, tl - hl);
    else if (ip[9] == IP_PROTO_ICMP)
        icmp_input(s, src, ip + hl, tl - hl);
    else
        NET_COUNT(s, ip_proto);
}

int ipv4_output(struct net_stack *s, uint32_t dst, uint8_t proto, size_t payload_len)
{
    uint8_t *ip = s->frame + ETH_HLEN;
    uint32_t hop = dst;
    const uint8_t *mac;

    if ((dst ^ s->cfg.ip) & s->cfg.netmask) {
        hop = s->cfg.gateway;
        if (hop == 0) {
            NET_COUNT(s, ip_no_route);
            return -1;
        }
    }
    /* Resolve first: a request overwrites s->frame, and then the datagram
     * is dropped anyway. */
    mac = arp_lookup(s, hop);
    if (!mac) {
        NET_COUNT(s, arp_unresolved);
        return -1;
    }
    ip[0] = 0x45;
    ip[1] = 0;
    put_be16(ip + 2, (uint16_t)(IP_HLEN + payload_len));
    put_be16(ip + 4, s->ip_id++);
    put_be16(ip + 6, 0x4000); /* DF */
    ip[8] = 64;               /* TTL */
    ip[9] = proto;
    ip[10] = ip[11] = 0;
    put_be32(ip + 12, s->cfg.ip);
    put_be32(ip + 16, dst);
    put_be16(ip + 10, net_csum_fold(net_csum_add(0, ip, IP_HLEN)));
    eth_output(s, mac, ETHTYPE_IPV4, NET_IP_PAYLOAD + payload_len);
    return 0;
}
