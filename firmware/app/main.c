/* The firmware's main loop, uIP style: one thread, no allocation.
 *
 * Interrupts only note that work is waiting (a frame in the NIC, a byte in
 * the UART ring, a SysTick tick); everything else runs here: drain the NIC
 * into the stack, feed the console, run the stack's timers, then sleep in
 * WFI until the next interrupt. The tick comes every TCP_TICK_MS while the
 * stack has a timer running and every CLOCK_TICK_MAX_MS otherwise, so an
 * idle board (and QEMU) sleeps. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "board.h"
#include "clock.h"
#include "cmsdk_uart.h"
#include "console.h"
#include "cortexm.h"
#include "lan9118.h"
#include "net.h"
#include "services.h"

#ifndef FW_VERSION
#define FW_VERSION "dev"
#endif
#ifndef FW_BOARD
#define FW_BOARD BOARD_NAME
#endif
#define FW_NAME "tcp-endpoint"
#define LINK_POLL_MS 1000u

static struct uart uart0;
static struct lan9118 eth;
static struct net_stack stack;
static struct console con;
static uint8_t rxbuf[NET_FRAME_MAX] __attribute__((aligned(4)));

void BOARD_UART0_RX_HANDLER(void);
void BOARD_UART0_RX_HANDLER(void) { uart_rx_isr(&uart0); }
void BOARD_ETH_HANDLER(void);
void BOARD_ETH_HANDLER(void) { lan9118_isr(&eth); }

#if TCP_TICK_MS < 2 || TCP_TICK_MS > CLOCK_TICK_MAX_MS
#error "TCP_TICK_MS must be 2..CLOCK_TICK_MAX_MS (the SysTick period)"
#endif

static void eth_tx(void *ctx, const uint8_t *frame, size_t len)
{
    lan9118_send(ctx, frame, len);
}

static void no_tx(void *ctx, const uint8_t *frame, size_t len)
{
    (void)ctx, (void)frame, (void)len;
}

/* `stats` prints these after the stack's own counters. */
static void driver_stats(struct console *c, void *ctx)
{
    (void)ctx;
    static const char names[] =
#define LAN9118_STATS_NAME(name) #name "\0"
        LAN9118_STATS(LAN9118_STATS_NAME)
#undef LAN9118_STATS_NAME
        ;
    console_counters(c, "eth_", names, (const uint32_t *)&eth.stats);
    console_print(c, "eth_link %u\nuart_rx_overruns %u\nstack_unused %u\n",
                  (uint32_t)eth.link_up, uart0.rx_overruns, (uint32_t)board_stack_unused());
}

static const char *up_down(void)
{
    return eth.link_up ? "up" : "down";
}

static void banner(int eth_err)
{
    const uint8_t *m = eth.mac;
    console_print(&con,
                  "\n" FW_NAME " %s board %s\nmac %2x:%2x:%2x:%2x:%2x:%2x%s\n"
                  "ip %I netmask %I gateway %I\ntcp conns %u txbuf %u wnd %u msl %u ms\neth ",
                  FW_VERSION, FW_BOARD, m[0], m[1], m[2], m[3], m[4], m[5],
                  eth.mac_fallback ? " (fallback)" : "", stack.cfg.ip, stack.cfg.netmask,
                  stack.cfg.gateway, (uint32_t)TCP_MAX_CONNS, (uint32_t)TCP_TXBUF,
                  (uint32_t)TCP_WND, (uint32_t)TCP_MSL_MS);
    if (eth_err)
        console_print(&con, "error %d: no network\n", eth_err);
    else
        console_print(&con, "id %8x link %s\n", eth.id_rev, up_down());
}

int main(void)
{
    clock_init(TCP_TICK_MS);
    uart_init(&uart0, BOARD_UART0_BASE, BOARD_SYSCLK_HZ, BOARD_CONSOLE_BAUD);
    nvic_enable(BOARD_UART0_RX_IRQ);

    static const uint8_t fallback_mac[6] = { NET_MAC_FALLBACK };
    int eth_err = lan9118_init(&eth, BOARD_ETH_BASE, fallback_mac);
    if (!eth_err)
        lan9118_link_poll(&eth);

    struct net_config cfg; /* every field set: no memset of the whole */
    memcpy(cfg.mac, eth.mac, 6);
    cfg.ip = NET_IP_ADDR;
    cfg.netmask = NET_NETMASK;
    cfg.gateway = NET_GATEWAY;
    net_init(&stack, &cfg, eth_err ? no_tx : eth_tx, &eth);
    /* Entropy for the ISN key: RAM nobody wrote since power-up (random-ish
     * on SRAM, zero under QEMU), the NIC's free-running counter, and the
     * cycle counter here and at each frame until the key is in use. */
    extern uint32_t _ebss[], _ram_end[];
    if ((uintptr_t)_ram_end - (uintptr_t)_ebss >= 256)
        net_add_entropy(&stack, _ebss, 256);
    uint32_t t[2] = { clock_cycles(), eth_err ? 0 : lan9118_free_run(&eth) };
    net_add_entropy(&stack, t, sizeof t);

    console_init(&con, &stack, uart_write, &uart0);
    con.extra_stats = driver_stats;
    services_init(&stack);
    banner(eth_err);
    if (!eth_err)
        nvic_enable(BOARD_ETH_IRQ);

    uint32_t link_checked = clock_ms();
    for (;;) {
        if (eth.rx_pending) {
            /* A bounded batch, so timers and console still run in a flood. */
            for (int batch = 16; batch; batch--) {
                size_t n = lan9118_recv(&eth, rxbuf, sizeof rxbuf);
                if (!n)
                    break;
                uint32_t c = clock_cycles(); /* ignored once the key is in use */
                net_add_entropy(&stack, &c, sizeof c);
                net_input(&stack, rxbuf, n, clock_ms());
            }
            lan9118_rx_done(&eth);
        }
        for (int ch; (ch = uart_getc(&uart0)) >= 0;)
            console_input(&con, (char)ch, clock_ms());

        uint32_t now = clock_ms();
        net_poll(&stack, now);
        console_poll(&con, now);
        if (!eth_err && now - link_checked >= LINK_POLL_MS) {
            link_checked = now;
            uint8_t was = eth.link_up;
            if (lan9118_link_poll(&eth) != was)
                console_print(&con, "eth link %s\n", up_down());
        }

        /* Sleep unless something came in while we worked (see clock.h). */
        clock_set_tick(net_timers_running(&stack) ? TCP_TICK_MS : CLOCK_TICK_MAX_MS);
        irq_disable();
        if (!eth.rx_pending && !uart_rx_ready(&uart0) && clock_ms() == now)
            board_idle();
        else
            irq_enable();
    }
}
