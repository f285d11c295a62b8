/* SMSC LAN9118/LAN9220 driver: PIO through the FIFOs, RSFL interrupt.
 * Register layout from the LAN9118 datasheet, checked against QEMU's
 * hw/net/lan9118.c (7.2). */
#include "lan9118.h"

#include <string.h>

/* System CSRs (byte offsets) */
#define RX_DATA 0x00u
#define TX_DATA 0x20u
#define RX_STATUS 0x40u
#define TX_STATUS 0x48u
#define ID_REV 0x50u
#define IRQ_CFG 0x54u
#define INT_STS 0x58u
#define INT_EN 0x5Cu
#define BYTE_TEST 0x64u
#define RX_CFG 0x6Cu
#define TX_CFG 0x70u
#define HW_CFG 0x74u
#define RX_FIFO_INF 0x7Cu /* 23:16 status entries used, 15:0 data bytes used */
#define TX_FIFO_INF 0x80u /* 23:16 status entries used, 15:0 data bytes free */
#define PMT_CTRL 0x84u
#define GPIO_CFG 0x88u
#define FREE_RUN 0x9Cu
#define RX_DROP 0xA0u
#define MAC_CSR_CMD 0xA4u
#define MAC_CSR_DATA 0xA8u

#define BYTE_TEST_MAGIC 0x87654321u
#define PMT_READY 1u
#define PMT_PHY_RST (1u << 10) /* self-clearing */
#define HW_CFG_SRST 1u
#define HW_CFG_INIT 0x00150000u /* TX FIFO 5 KB; bit 20 must be one (LAN9220) */
/* Push-pull (IRQ_TYPE), active high (IRQ_POL), enabled (IRQ_EN), 220 us
 * de-assertion interval. QEMU drives its line inverted unless both TYPE
 * and POL are set. */
#define IRQ_CFG_INIT 0x22000111u
#define INT_RSFL (1u << 3)
#define TX_CFG_TX_ON (1u << 1)
#define GPIO_CFG_LEDS 0x70070000u
#define TX_CMD_A_FS (1u << 13)
#define TX_CMD_A_LS (1u << 12)
#define TX_STS_ES (1u << 15)
#define RX_STS_ES (1u << 15)
#define RX_STS_FILTER_FAIL (1u << 30)
#define MAC_CSR_BUSY (1u << 31)
#define MAC_CSR_READ (1u << 30)

/* MAC CSRs: only ones QEMU implements (others kill the emulator). */
#define MAC_CR 1u
#define MAC_ADDRH 2u
#define MAC_ADDRL 3u
#define MAC_MII_ACC 6u
#define MAC_MII_DATA 7u
#define MAC_CR_RXEN (1u << 2)
#define MAC_CR_TXEN (1u << 3)
#define MAC_CR_FDPX (1u << 20)
#define MAC_CR_HBDIS (1u << 28)
#define MII_BUSY 1u
#define PHY_ADDR (1u << 11) /* the internal PHY is at address 1 */

/* PHY registers (IEEE 802.3 clause 22) */
#define PHY_BMSR 1
#define PHY_ANAR 4
#define PHY_ANLPAR 5
#define BMSR_LINK 0x0004u

#define SPIN 100000u /* bound for every busy-wait: milliseconds on real hardware */

/* Register access. Functions that touch many registers copy e->base into
 * a local first: a volatile store could alias *e, so GCC would otherwise
 * reload e->base for every access. */
#define REG(base, off) (*(volatile uint32_t *)((base) + (off)))
static inline uint32_t rd(const struct lan9118 *e, uint32_t off) { return REG(e->base, off); }
static inline void wr(const struct lan9118 *e, uint32_t off, uint32_t v) { REG(e->base, off) = v; }

/* Wait until (reg & mask) == want; 0 on success, -1 on timeout. */
static int wait_for(uintptr_t base, uint32_t off, uint32_t mask, uint32_t want)
{
    for (uint32_t n = SPIN; n; n--)
        if ((REG(base, off) & mask) == want)
            return 0;
    return -1;
}
#define wait_clear(base, off, mask) wait_for(base, off, mask, 0)

/* One MAC CSR command (MAC_CSR_READ | reg, or reg to write v); returns
 * MAC_CSR_DATA afterwards: the value read. Writing DATA before a read and
 * reading it after a write are harmless, and one function serves both. */
static uint32_t mac_csr(const struct lan9118 *e, uint32_t cmd, uint32_t v)
{
    uintptr_t base = e->base;
    wait_clear(base, MAC_CSR_CMD, MAC_CSR_BUSY);
    REG(base, MAC_CSR_DATA) = v;
    REG(base, MAC_CSR_CMD) = MAC_CSR_BUSY | cmd;
    wait_clear(base, MAC_CSR_CMD, MAC_CSR_BUSY);
    return REG(base, MAC_CSR_DATA);
}
#define mac_read(e, reg) mac_csr(e, MAC_CSR_READ | (reg), 0)
#define mac_write(e, reg, v) ((void)mac_csr(e, reg, v))

static void mii_wait(const struct lan9118 *e)
{
    for (uint32_t n = SPIN; n && (mac_read(e, MAC_MII_ACC) & MII_BUSY); n--) {
    }
}

static uint32_t phy_read(const struct lan9118 *e, uint32_t reg)
{
    mii_wait(e);
    mac_write(e, MAC_MII_ACC, PHY_ADDR | reg << 6 | MII_BUSY);
    mii_wait(e);
    return mac_read(e, MAC_MII_DATA) & 0xFFFFu;
}

static inline uint32_t load32(const uint8_t *p)
{
    uint32_t w;
    __builtin_memcpy(&w, p, 4); /* one unaligned-capable LDR on v7-M */
    return w;
}

int lan9118_init(struct lan9118 *e, uintptr_t base, const uint8_t fallback_mac[6])
{
    *e = (struct lan9118){ .base = base };
    __builtin_memcpy(e->mac, fallback_mac, 6); /* until the chip gives its own */
    /* BYTE_TEST is readable even before the chip is ready (and wakes it). */
    if (REG(base, BYTE_TEST) != BYTE_TEST_MAGIC)
        return LAN9118_ERR_ABSENT;
    e->id_rev = REG(base, ID_REV);
    if (wait_for(base, PMT_CTRL, PMT_READY, PMT_READY))
        return LAN9118_ERR_TIMEOUT;
    REG(base, HW_CFG) = HW_CFG_SRST;
    if (wait_clear(base, HW_CFG, HW_CFG_SRST) || wait_for(base, PMT_CTRL, PMT_READY, PMT_READY))
        return LAN9118_ERR_TIMEOUT;
    REG(base, HW_CFG) = HW_CFG_INIT;
    REG(base, GPIO_CFG) = GPIO_CFG_LEDS;

    /* Interrupts: RX status FIFO level only (FIFO_INT's threshold is 0 from
     * reset: at least one frame). */
    REG(base, INT_EN) = 0;
    REG(base, INT_STS) = 0xFFFFFFFFu;
    REG(base, IRQ_CFG) = IRQ_CFG_INIT;

    /* PHY reset: from its defaults it autonegotiates, advertising 10/100
     * half/full. */
    REG(base, PMT_CTRL) = PMT_PHY_RST;
    if (wait_clear(base, PMT_CTRL, PMT_PHY_RST))
        return LAN9118_ERR_TIMEOUT;

    /* MAC address: the chip's (EEPROM, or QEMU's macaddr=), else the
     * fallback. Written back either way so the address filter matches. */
    uint32_t lo = mac_read(e, MAC_ADDRL), hi = mac_read(e, MAC_ADDRH) & 0xFFFFu;
    if ((lo == 0 && hi == 0) || (lo & 1)) { /* none, all ones, or multicast */
        e->mac_fallback = 1;
        lo = load32(e->mac);
        hi = (uint32_t)e->mac[4] | (uint32_t)e->mac[5] << 8;
    } else { /* little-endian: the first byte is ADDRL's low one */
        __builtin_memcpy(e->mac, &lo, 4);
        __builtin_memcpy(e->mac + 4, &hi, 2);
    }
    mac_write(e, MAC_ADDRL, lo);
    mac_write(e, MAC_ADDRH, hi);

    /* Half duplex until lan9118_link_poll sees the autonegotiation result. */
    mac_write(e, MAC_CR, MAC_CR_HBDIS | MAC_CR_TXEN | MAC_CR_RXEN);
    REG(base, RX_CFG) = 0; /* no offset, no end alignment */
    REG(base, TX_CFG) = TX_CFG_TX_ON;
    REG(base, INT_EN) = INT_RSFL;
    e->rx_pending = 1; /* drain what arrived before the IRQ is enabled */
    return LAN9118_OK;
}

int lan9118_send(struct lan9118 *e, const uint8_t *frame, size_t len)
{
    uintptr_t base = e->base;
    if (len < 14 || len > 1514) {
        e->stats.tx_bad_len++;
        return -1;
    }
    /* Reap the TX status of earlier frames: the only place errors show. */
    uint32_t inf = REG(base, TX_FIFO_INF);
    for (uint32_t n = (inf >> 16) & 0xFFu; n; n--)
        if (REG(base, TX_STATUS) & TX_STS_ES)
            e->stats.tx_errors++;
    if ((inf & 0xFFFFu) < 8 + ((len + 3) & ~(size_t)3)) { /* command words + data */
        e->stats.tx_full++;
        return -1;
    }
    REG(base, TX_DATA) = TX_CMD_A_FS | TX_CMD_A_LS | (uint32_t)len;
    REG(base, TX_DATA) = (uint32_t)len << 16 | (uint32_t)len; /* tag: the length */
    size_t i = 0;
    for (; i + 4 <= len; i += 4)
        REG(base, TX_DATA) = load32(frame + i);
    if (i < len) { /* 1..3 bytes left: never read past the frame */
        uint32_t w = 0;
        memcpy(&w, frame + i, len - i);
        REG(base, TX_DATA) = w;
    }
    e->stats.tx_frames++;
    return 0;
}

size_t lan9118_recv(struct lan9118 *e, uint8_t *buf, size_t cap)
{
    uintptr_t base = e->base;
    if (!(REG(base, RX_FIFO_INF) & 0x00FF0000u))
        return 0;
    /* Pop the status (never the PEEK register: QEMU bug 1904954). */
    uint32_t st = REG(base, RX_STATUS);
    size_t len = (st >> 16) & 0x3FFFu; /* frame + 4-byte FCS */
    size_t words = (len + 3) / 4;      /* exactly these, or the FIFO desyncs */
    size_t n = len - 4;                /* what we keep */
    if (st & (RX_STS_ES | RX_STS_FILTER_FAIL)) {
        e->stats.rx_errors++;
        n = 0;
    } else if (len < 14 + 4 || n > cap) {
        e->stats.rx_dropped++;
        n = 0;
    }
    /* Read every word; store only the frame's bytes (none for a dropped
     * frame). QEMU's RX_DP_CTRL fast-forward does not update its FIFO
     * accounting, so discarding is done by reading too. */
    for (size_t i = 0; words--; i += 4) {
        uint32_t w = REG(base, RX_DATA);
        if (i + 4 <= n)
            __builtin_memcpy(buf + i, &w, 4);
        else if (i < n)
            memcpy(buf + i, &w, n - i);
    }
    if (n)
        e->stats.rx_frames++;
    return n;
}

void lan9118_rx_done(struct lan9118 *e)
{
    uintptr_t base = e->base;
    e->stats.rx_overrun += REG(base, RX_DROP); /* clears on read */
    /* Clear the latched status first, then look: a frame that lands after
     * the look sets RSFL again and interrupts as soon as it is unmasked. */
    REG(base, INT_STS) = INT_RSFL;
    if (REG(base, RX_FIFO_INF) & 0x00FF0000u)
        return; /* more arrived: rx_pending stays set */
    e->rx_pending = 0;
    REG(base, INT_EN) = INT_RSFL;
}

void lan9118_isr(struct lan9118 *e)
{
    /* RSFL stays asserted while frames wait: mask it until rx_done. */
    wr(e, INT_EN, 0);
    wr(e, INT_STS, INT_RSFL);
    e->rx_pending = 1;
}

int lan9118_link_poll(struct lan9118 *e)
{
    phy_read(e, PHY_BMSR); /* the link bit latches low: the second read is now */
    int up = (phy_read(e, PHY_BMSR) & BMSR_LINK) != 0;
    if (up && !e->link_up) {
        /* Resolve duplex as autonegotiation did: 100FD > 100HD > 10FD > 10HD. */
        uint32_t c = phy_read(e, PHY_ANAR) & phy_read(e, PHY_ANLPAR);
        int fd = (c & 0x100u) || ((c & 0x40u) && !(c & 0x80u));
        mac_write(e, MAC_CR, MAC_CR_HBDIS | MAC_CR_TXEN | MAC_CR_RXEN | (fd ? MAC_CR_FDPX : 0));
    }
    e->link_up = (uint8_t)up;
    return up;
}

uint32_t lan9118_free_run(const struct lan9118 *e) { return rd(e, FREE_RUN); }
