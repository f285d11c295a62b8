# Arm MPS2 with the AN386 FPGA image: Cortex-M4 at 25 MHz (soft float).
BOARD_CPU := -mcpu=cortex-m4 -mfloat-abi=soft
# linker/mps2-an386.ld = board/mps2-an386/memory.ld + linker/cortex-m.ld
BOARD_LDSCRIPT := linker/mps2-an386.ld
BOARD_LDDEPS := board/mps2-an386/memory.ld linker/cortex-m.ld
BOARD_DEFS :=
QEMU_MACHINE := mps2-an386
