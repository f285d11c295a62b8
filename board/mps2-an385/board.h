/* Arm MPS2 with the AN385 FPGA image: Cortex-M3 at 25 MHz.
 *
 * Addresses and IRQ numbers from Arm AN385 and checked against QEMU's
 * hw/arm/mps2.c (machine mps2-an385): UART0 RX/TX on IRQ 0/1, LAN9118 on
 * IRQ 13, 32 external IRQs, SYSCLK 25 MHz. QEMU 7.2's SysTick counts the
 * CPU clock (SYSCLK, 25 MHz) when CSR.CLKSOURCE = 1 and a 1 MHz reference
 * clock when 0; real silicon's reference clock is board-defined, so we
 * always use the CPU clock. */
#ifndef BOARD_H
#define BOARD_H

#define BOARD_NAME "mps2-an385"
#define BOARD_ETH_BASE 0x40200000u /* LAN9220 */

#include "mps2.h"

#endif
