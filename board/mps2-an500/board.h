/* Arm MPS2 with the AN500 FPGA image: Cortex-M7 at 25 MHz.
 *
 * Same UARTs, timers and IRQ numbers as the AN385, but the Ethernet
 * controller sits at 0xA0000000 (not 0x40200000), the 16 MB PSRAM at
 * 0x60000000 and there is no block RAM at 0x01000000. Checked against
 * QEMU's hw/arm/mps2.c (machine mps2-an500: ethernet_base 0xa0000000,
 * psram_base 0x60000000, has_block_ram false; the NIC's IRQ is 13 for
 * every image but the AN511) and, on QEMU 7.2, `info mtree`.
 *
 * The Cortex-M7's caches are off from reset and we leave them off, so the
 * NIC needs no cache maintenance. Built for soft float: the FPU stays off. */
#ifndef BOARD_H
#define BOARD_H

#define BOARD_NAME "mps2-an500"
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

/* SMSC LAN9220 (QEMU models a LAN9118), 32-bit bus: the AN500's one
 * difference that matters to us. */
#define BOARD_ETH_BASE 0xA0000000u
#define BOARD_ETH_IRQ 13

/* Handler names for these IRQs (board/common/startup.c: irq<n>_handler). */
#define BOARD_UART0_RX_HANDLER irq0_handler
#define BOARD_ETH_HANDLER irq13_handler

#endif
