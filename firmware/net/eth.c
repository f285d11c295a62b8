/* Ethernet II framing and the stack's entry points. */
#include <string.h>

#include "net_priv.h"

#define ETH_MIN 60 /* shortest frame without FCS (IEEE 802.3: 64 with it) */

void net_init(struct net_stack *s, const struct net_config *cfg, net_tx_fn tx, void *tx_ctx)
{
    memset(s, 0, sizeof *s);
    s->cfg = *cfg;
    s->tx = tx;
    s->tx_ctx = tx_ctx;
    tcp_init(s);
}

void net_input(struct net_stack *s, const uint8_t *frame, size_t len, uint32_t now_ms)
{
    const uint8_t *d = frame;
    uint16_t type;

    s->now = now_ms;
    NET_COUNT(s, rx_frames);
    if (len < ETH_HLEN || len > NET_FRAME_MAX) {
        NET_COUNT(s, eth_short);
        return;
    }
    /* Ours or broadcast; multicast (group bit) is not joined: dropped. */
    if (memcmp(d, s->cfg.mac, 6) != 0 &&
        (get_be32(d) != 0xFFFFFFFFu || get_be16(d + 4) != 0xFFFF)) {
        NET_COUNT(s, eth_not_us);
        return;
    }
    type = get_be16(d + 12);
    if (type == ETHTYPE_IPV4)
        ipv4_input(s, frame, len);
    else if (type == ETHTYPE_ARP)
        arp_input(s, frame, len);
    else
        NET_COUNT(s, eth_type); /* also 802.1Q tags and 802.3 length fields */
}

int net_timers_running(const struct net_stack *s)
{
    if (s->ack_pending)
        return 1;
    for (int i = 0; i < TCP_MAX_CONNS; i++)
        if (s->conn[i].timer)
            return 1;
    return 0;
}

void net_poll(struct net_stack *s, uint32_t now_ms)
{
    s->now = now_ms;
    arp_poll(s);
    tcp_poll(s);
}

/* dst_mac NULL means broadcast (ARP requests). Frames under 60 bytes are
 * zero-padded to 60 here rather than left to the MAC: the padding is then
 * the same on every NIC and visible to the tests, and never leaks stale
 * bytes of an earlier frame. */
void eth_output(struct net_stack *s, const uint8_t *dst_mac, uint16_t type, size_t len)
{
    uint8_t *f = s->frame;

    if (dst_mac)
        memcpy(f, dst_mac, 6);
    else
        memset(f, 0xFF, 6);
    memcpy(f + 6, s->cfg.mac, 6);
    put_be16(f + 12, type);
    if (len < ETH_MIN) {
        memset(f + len, 0, ETH_MIN - len);
        len = ETH_MIN;
    }
    NET_COUNT(s, tx_frames);
    s->tx(s->tx_ctx, f, len);
}
