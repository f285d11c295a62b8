/* Arm CMSDK APB UART (Cortex-M System Design Kit, DDI0479): 8N1, one-byte
 * TX and RX buffers, no FIFO.
 *
 * Output is polled and blocking (no interrupt needed, so it also works from
 * fault handlers). Input arrives through the RX interrupt into a small ring
 * that the main loop drains with uart_getc(). The state of one UART is a
 * struct uart owned by the caller. */
#ifndef CMSDK_UART_H
#define CMSDK_UART_H

#include <stddef.h>
#include <stdint.h>

#define UART_RX_RING 64 /* power of two */

struct uart {
    uintptr_t base;
    volatile uint8_t rx_head; /* written by the ISR */
    uint8_t rx_tail;          /* written by uart_getc */
    uint8_t rx[UART_RX_RING];
    volatile uint32_t rx_overruns; /* bytes lost: hardware overrun or ring full */
};

/* Set the baud rate, enable TX, RX and the RX interrupt. The caller
 * routes the RX IRQ to uart_rx_isr() and enables it in the NVIC. */
void uart_init(struct uart *u, uintptr_t base, uint32_t pclk_hz, uint32_t baud);
/* ctx is the struct uart: the signature of fmt.h's output callback, so
 * formatted text goes straight here (numbers are formatted by fmt.c, not
 * by the driver). */
void uart_write(void *ctx, const char *s, size_t n);
/* Next received byte, or -1 when none. */
int uart_getc(struct uart *u);
static inline int uart_rx_ready(const struct uart *u) { return u->rx_head != u->rx_tail; }
/* The RX interrupt handler's body. */
void uart_rx_isr(struct uart *u);

#endif
