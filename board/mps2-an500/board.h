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
#define BOARD_ETH_BASE 0xA0000000u /* LAN9220 */

#include "mps2.h"

#endif
