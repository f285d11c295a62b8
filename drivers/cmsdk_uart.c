/* Arm CMSDK APB UART driver: polled TX, interrupt-driven RX into a ring. */
#include "cmsdk_uart.h"

#define UART_DATA 0x00u
#define UART_STATE 0x04u /* bit 0 TX full, 1 RX full, 2 TX overrun, 3 RX overrun (W1C) */
#define UART_CTRL 0x08u  /* bit 0 TX en, 1 RX en, 3 RX int en */
#define UART_INT 0x0Cu   /* INTSTATUS read / INTCLEAR W1C: bit 1 RX, 3 RX overrun */
#define UART_BAUDDIV 0x10u

#define ST_TXFULL 1u
#define ST_RXFULL 2u
#define ST_RXOVR 8u
#define CTRL_TXEN 1u
#define CTRL_RXEN 2u
#define CTRL_RXIE 8u
#define INT_RX 2u
#define INT_RXO 8u

static inline volatile uint32_t *reg(const struct uart *u, uint32_t off)
{
    return (volatile uint32_t *)(u->base + off);
}

void uart_init(struct uart *u, uintptr_t base, uint32_t pclk_hz, uint32_t baud)
{
    u->base = base;
    u->rx_head = u->rx_tail = 0;
    u->rx_overruns = 0;
    *reg(u, UART_CTRL) = 0;
    *reg(u, UART_BAUDDIV) = pclk_hz / baud; /* 217 for 115200 at 25 MHz; must be >= 16 */
    *reg(u, UART_STATE) = ST_RXOVR | 4u;    /* clear stale overrun flags */
    *reg(u, UART_INT) = 0xFu;
    *reg(u, UART_CTRL) = CTRL_TXEN | CTRL_RXEN | CTRL_RXIE;
}

void uart_write(void *ctx, const char *s, size_t n)
{
    struct uart *u = ctx;
    while (n--) {
        while (*reg(u, UART_STATE) & ST_TXFULL) {
        }
        *reg(u, UART_DATA) = (uint8_t)*s++;
    }
}

int uart_getc(struct uart *u)
{
    if (u->rx_head == u->rx_tail)
        return -1;
    int c = u->rx[u->rx_tail];
    u->rx_tail = (uint8_t)((u->rx_tail + 1) & (UART_RX_RING - 1));
    return c;
}

void uart_rx_isr(struct uart *u)
{
    /* Acknowledge first: a byte arriving after this raises the IRQ again
     * rather than sitting unseen until the next one. */
    *reg(u, UART_INT) = INT_RX | INT_RXO;
    if (*reg(u, UART_STATE) & ST_RXOVR) {
        *reg(u, UART_STATE) = ST_RXOVR;
        u->rx_overruns++;
    }
    while (*reg(u, UART_STATE) & ST_RXFULL) {
        uint8_t c = (uint8_t)*reg(u, UART_DATA);
        uint8_t next = (uint8_t)((u->rx_head + 1) & (UART_RX_RING - 1));
        if (next == u->rx_tail) {
            u->rx_overruns++;
        } else {
            u->rx[u->rx_head] = c;
            u->rx_head = next;
        }
    }
}
