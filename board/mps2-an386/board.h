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
#define BOARD_ETH_BASE 0x40200000u /* LAN9220 */

#include "mps2.h"

#endif
