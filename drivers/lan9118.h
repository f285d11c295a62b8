/* SMSC LAN9118 / LAN9220 Ethernet controller (PIO, 32-bit bus).
 *
 * The state of one controller is a struct lan9118 owned by the caller.
 * Frames go in and out through the chip's FIFOs, one at a time, with no
 * buffer of our own: lan9118_recv() copies one frame into the caller's
 * buffer, lan9118_send() copies one frame into the TX FIFO or drops it.
 *
 * Interrupts: only "RX status FIFO level" (RSFL). It is a level: the
 * handler masks it and sets rx_pending; the main loop drains the FIFO with
 * lan9118_recv() and calls lan9118_rx_done(), which unmasks it once the
 * FIFO is empty.
 *
 * Under QEMU: MAC CSRs other than MAC_CR, ADDRH, ADDRL, HASHH, HASHL,
 * MII_ACC, MII_DATA, FLOW and VLAN1 (write) stop the emulator (hw_error);
 * this driver touches only MAC_CR, ADDRH, ADDRL, MII_ACC and MII_DATA. */
#ifndef LAN9118_H
#define LAN9118_H

#include <stddef.h>
#include <stdint.h>

/* Counters, in the order a console prints them. */
#define LAN9118_STATS(X)                                                      \
    X(rx_frames)  /* handed to the caller */                                  \
    X(rx_errors)  /* status error (CRC, runt, too long...) */                 \
    X(rx_dropped) /* length < 14 or more than the caller's buffer */          \
    X(rx_overrun) /* dropped by the chip, RX FIFO full (RX_DROP) */           \
    X(tx_frames)  /* written to the TX FIFO */                                \
    X(tx_errors)  /* TX status error (collisions, carrier loss...) */         \
    X(tx_full)    /* dropped: no room in the TX FIFO */                       \
    X(tx_bad_len) /* dropped: shorter than 14 or longer than 1514 */

struct lan9118_stats {
#define LAN9118_STATS_FIELD(name) uint32_t name;
    LAN9118_STATS(LAN9118_STATS_FIELD)
#undef LAN9118_STATS_FIELD
};

struct lan9118 {
    uintptr_t base;
    uint32_t id_rev;   /* ID_REV: 0x0118xxxx QEMU, 0x9220xxxx MPS2 */
    uint8_t mac[6];    /* the address in use (programmed into the filter) */
    uint8_t mac_fallback; /* 1: the chip had none, mac is the caller's */
    uint8_t link_up;   /* as of the last lan9118_link_poll */
    volatile uint8_t rx_pending; /* set by the ISR, cleared by rx_done */
    struct lan9118_stats stats;
};

enum { LAN9118_OK = 0, LAN9118_ERR_ABSENT = -1, LAN9118_ERR_TIMEOUT = -2 };

/* Reset and configure the chip at base; take the MAC address from the chip
 * (EEPROM or QEMU's macaddr=) or, when it has none, fallback_mac. Enables
 * RX and TX and the RSFL interrupt in the chip; the caller routes its IRQ
 * to lan9118_isr() and enables it in the NVIC afterwards. On an error, mac
 * is fallback_mac (mac_fallback 0: the chip was not asked) and rx_pending
 * is 0, so a main loop can run on without touching the chip. */
int lan9118_init(struct lan9118 *e, uintptr_t base, const uint8_t fallback_mac[6]);
/* Queue one frame (Ethernet header on, no FCS). 0 sent, -1 dropped. */
int lan9118_send(struct lan9118 *e, const uint8_t *frame, size_t len);
/* Copy the next received frame (FCS stripped) into buf. Returns its length,
 * or 0 when none was taken: FIFO empty, or the frame was bad or too long
 * for cap (dropped and counted). Loop while rx_pending is set. */
size_t lan9118_recv(struct lan9118 *e, uint8_t *buf, size_t cap);
/* After draining: unmask RSFL if the RX FIFO is empty; otherwise leave
 * rx_pending set so the main loop drains again. */
void lan9118_rx_done(struct lan9118 *e);
/* Interrupt handler body. */
void lan9118_isr(struct lan9118 *e);
/* Read the PHY's link bit; on a transition to up, match MAC duplex to the
 * autonegotiation result. Returns link_up. */
int lan9118_link_poll(struct lan9118 *e);
/* The chip's free-running 25 MHz counter (entropy, timing). */
uint32_t lan9118_free_run(const struct lan9118 *e);

#endif
