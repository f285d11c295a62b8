/* Cortex-M3 core registers (ARMv7-M System Control Space) and the few
 * helpers the board code shares. Core-only: nothing board-specific here. */
#ifndef CORTEXM_H
#define CORTEXM_H

#include <stddef.h>
#include <stdint.h>

#define REG32(addr) (*(volatile uint32_t *)(uintptr_t)(addr))

/* SysTick */
#define SYST_CSR REG32(0xE000E010u)
#define SYST_RVR REG32(0xE000E014u)
#define SYST_CVR REG32(0xE000E018u)
#define SYST_CSR_ENABLE (1u << 0)
#define SYST_CSR_TICKINT (1u << 1)
#define SYST_CSR_CLKSOURCE (1u << 2) /* 1: the CPU clock */

/* NVIC: one bit per external IRQ, 32 per word. */
#define NVIC_ISER(n) REG32(0xE000E100u + 4u * (n))
#define NVIC_ICER(n) REG32(0xE000E180u + 4u * (n))
#define NVIC_ICPR(n) REG32(0xE000E280u + 4u * (n))

/* System Control Block */
#define SCB_ICSR REG32(0xE000ED04u)
#define SCB_VTOR REG32(0xE000ED08u)
#define SCB_CCR REG32(0xE000ED14u)
#define SCB_SHCSR REG32(0xE000ED24u)
#define SCB_CFSR REG32(0xE000ED28u)
#define SCB_HFSR REG32(0xE000ED2Cu)
#define SCB_MMFAR REG32(0xE000ED34u)
#define SCB_BFAR REG32(0xE000ED38u)
#define SCB_CCR_DIV_0_TRP (1u << 4)
#define SCB_SHCSR_FAULTS (7u << 16) /* MEMFAULTENA, BUSFAULTENA, USGFAULTENA */

static inline void irq_disable(void) { __asm volatile("cpsid i" ::: "memory"); }
static inline void irq_enable(void) { __asm volatile("cpsie i" ::: "memory"); }
/* Mask interrupts, returning the previous PRIMASK for irq_restore(). */
static inline uint32_t irq_save(void)
{
    uint32_t primask;
    __asm volatile("mrs %0, primask\n\tcpsid i" : "=r"(primask)::"memory");
    return primask;
}
static inline void irq_restore(uint32_t primask)
{
    __asm volatile("msr primask, %0" ::"r"(primask) : "memory");
}

/* Enable external IRQ n, dropping a stale pending state first (a device
 * may have driven its line before it was configured). */
static inline void nvic_enable(unsigned irq)
{
    NVIC_ICPR(irq / 32) = 1u << (irq % 32);
    NVIC_ISER(irq / 32) = 1u << (irq % 32);
}

/* startup.c: bytes of the main stack never written since reset (the stack
 * is painted at boot); a lower bound on the headroom left. */
size_t board_stack_unused(void);

#endif
