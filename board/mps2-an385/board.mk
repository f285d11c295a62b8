# Arm MPS2 with the AN385 FPGA image: Cortex-M3 at 25 MHz.
BOARD_CPU := -mcpu=cortex-m3
# linker/mps2-an385.ld = board/mps2-an385/memory.ld + linker/cortex-m.ld
BOARD_LDSCRIPT := linker/mps2-an385.ld
BOARD_LDDEPS := board/mps2-an385/memory.ld linker/cortex-m.ld
BOARD_DEFS :=
QEMU_MACHINE := mps2-an385
