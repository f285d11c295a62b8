/* What the MPS2 FPGA images we support (AN385, AN386, AN500) share: a
 * 25 MHz system clock, 32 external IRQs, the CMSDK APB peripherals and the
 * LAN9220's IRQ. Included by each board/<name>/board.h after it has named
 * the board and placed the Ethernet controller (BOARD_ETH_BASE), the one
 * difference among them. */
#ifndef MPS2_H
#define MPS2_H

#ifndef BOARD_ETH_BASE
#error "board.h must define BOARD_ETH_BASE before including mps2.h"
#endif

#define BOARD_SYSCLK_HZ 25000000u
#define BOARD_NUM_IRQS 32

/* CMSDK APB UARTs (RX IRQ; TX IRQ is RX + 1). UART0 is the console:
 * QEMU's first -serial, the board's USB serial port. */
#define BOARD_UART0_BASE 0x40004000u
#define BOARD_UART0_RX_IRQ 0
#define BOARD_UART0_TX_IRQ 1
#define BOARD_UART1_BASE 0x40005000u /* IRQ 2/3 */
#define BOARD_UART2_BASE 0x40006000u /* IRQ 4/5 */
#define BOARD_UART_OVF_IRQ 12        /* overrun of UART0..2, ORed */
#define BOARD_CONSOLE_BAUD 115200u

/* Other APB devices (unused; for the record). */
#define BOARD_TIMER0_BASE 0x40000000u /* IRQ 8 */
#define BOARD_TIMER1_BASE 0x40001000u /* IRQ 9 */
#define BOARD_DUALTIMER_BASE 0x40002000u /* IRQ 10 */
#define BOARD_SCC_BASE 0x4002F000u

/* SMSC LAN9220 (QEMU models a LAN9118: same registers, no checksum
 * offload), 32-bit bus, on IRQ 13 for every image but the AN511. */
#define BOARD_ETH_IRQ 13

/* Handler names for these IRQs: board/common/startup.c names external IRQ
 * n's vector irq<n>_handler (weak, to the default handler). */
#define BOARD_UART0_RX_HANDLER irq0_handler
#define BOARD_ETH_HANDLER irq13_handler

#endif
