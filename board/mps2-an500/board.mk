# Arm MPS2 with the AN500 FPGA image: Cortex-M7 at 25 MHz (soft float).
BOARD_CPU := -mcpu=cortex-m7 -mfloat-abi=soft
# linker/mps2-an500.ld = board/mps2-an500/memory.ld + linker/cortex-m.ld
BOARD_LDSCRIPT := linker/mps2-an500.ld
BOARD_LDDEPS := board/mps2-an500/memory.ld linker/cortex-m.ld
BOARD_DEFS :=
QEMU_MACHINE := mps2-an500
