/* Arm MPS2 with the AN386 FPGA image: Cortex-M4 at 25 MHz.
 *
 * The AN386 is the AN385 system with a Cortex-M4 in place of the M3: the
 * same memory map, UARTs, IRQ numbers and LAN9220. Checked against QEMU's
 * hw/arm/mps2.c (machine mps2-an386, 7.2: `info mtree` shows UART0 at
 * 0x40004000 and the LAN9118 at 0x40200000; the NIC is on IRQ 13 for
 * every image but the AN511). Built for soft float: the FPU stays off. */
#ifndef BOARD_H
#define BOARD_H

#define BOARD_NAME "mps2-an386"
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

/* SMSC LAN9220 (QEMU models a LAN9118), 32-bit bus. */
#define BOARD_ETH_BASE 0x40200000u
#define BOARD_ETH_IRQ 13

/* Handler names for these IRQs (board/common/startup.c: irq<n>_handler). */
#define BOARD_UART0_RX_HANDLER irq0_handler
#define BOARD_ETH_HANDLER irq13_handler

#endif
