/* Cortex-M3 start-up: vector table, reset, fault and default handlers.
 *
 * Reset_Handler copies .data from its load address, zeroes .bss, paints
 * the stack (for board_stack_unused) and calls main(). Faults print the
 * fault status registers and the stacked PC/LR on UART0 with polled
 * output, then halt; so does any interrupt nobody claimed. */
#include <stdarg.h>
#include <string.h>

#include "board.h"
#include "cmsdk_uart.h"
#include "cortexm.h"
#include "fmt.h"

extern uint32_t _sidata[], _sdata[], _edata[], _sbss[], _ebss[];
extern uint32_t _stack_bottom[], _stack_top[];

#define STACK_PAINT 0xA5A5A5A5u

int main(void);
void Reset_Handler(void);
void Fault_Handler(void);
void Default_Handler(void);
void board_fault_report(uint32_t sp, uint32_t exc_return, uint32_t pc, uint32_t lr);

#define WEAK_DEFAULT __attribute__((weak, alias("Default_Handler")))
void NMI_Handler(void) WEAK_DEFAULT;
void SVC_Handler(void) WEAK_DEFAULT;
void DebugMon_Handler(void) WEAK_DEFAULT;
void PendSV_Handler(void) WEAK_DEFAULT;
void SysTick_Handler(void) WEAK_DEFAULT;

/* External IRQ n is irq<n>_handler; board.h names the ones in use. */
#define IRQ_DECL(n) void irq##n##_handler(void) WEAK_DEFAULT;
#define IRQ_LIST(X)                                                            \
    X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11) X(12)       \
    X(13) X(14) X(15) X(16) X(17) X(18) X(19) X(20) X(21) X(22) X(23)        \
    X(24) X(25) X(26) X(27) X(28) X(29) X(30) X(31)
IRQ_LIST(IRQ_DECL)
#if BOARD_NUM_IRQS != 32
#error "startup.c lists 32 external IRQs: extend IRQ_LIST for this board"
#endif

#define IRQ_ENTRY(n) irq##n##_handler,
__attribute__((section(".vectors"), used))
static void (*const vectors[16 + BOARD_NUM_IRQS])(void) = {
    (void (*)(void))(uintptr_t)_stack_top,
    Reset_Handler,
    NMI_Handler,
    Fault_Handler, /* HardFault */
    Fault_Handler, /* MemManage */
    Fault_Handler, /* BusFault */
    Fault_Handler, /* UsageFault */
    0, 0, 0, 0,
    SVC_Handler,
    DebugMon_Handler,
    0,
    PendSV_Handler,
    SysTick_Handler,
    IRQ_LIST(IRQ_ENTRY)
};

void Reset_Handler(void)
{
    memcpy(_sdata, _sidata, (size_t)((uintptr_t)_edata - (uintptr_t)_sdata));
    memset(_sbss, 0, (size_t)((uintptr_t)_ebss - (uintptr_t)_sbss));
    /* Paint the unused stack, up to 64 bytes below our own frame (memset's
     * frame lives there while it runs). */
    const char *sp;
    __asm volatile("mov %0, sp" : "=r"(sp));
    memset(_stack_bottom, (int)(STACK_PAINT & 0xFF), (size_t)((uintptr_t)sp - 64 - (uintptr_t)_stack_bottom));

    SCB_VTOR = (uint32_t)(uintptr_t)vectors;
    SCB_SHCSR |= SCB_SHCSR_FAULTS;  /* MemManage/Bus/Usage faults, not all HardFault */
    SCB_CCR |= SCB_CCR_DIV_0_TRP;   /* integer divide by zero faults */
    main();
    for (;;)
        __asm volatile("wfi");
}

size_t board_stack_unused(void)
{
    const uint32_t *p = _stack_bottom;
    while ((uintptr_t)p < (uintptr_t)_stack_top && *p == STACK_PAINT)
        p++;
    return (size_t)((const char *)p - (const char *)_stack_bottom);
}

/* Gather the exception frame (on MSP or PSP, per EXC_RETURN bit 2) before
 * moving SP back to the top of the stack: a fault may come from a stack
 * overflow, and the report needs a stack of its own. A frame below the
 * stack (an overflow: nothing is mapped there on real hardware) is not
 * read, or the handler would fault in turn and lock up. */
__attribute__((naked)) void Fault_Handler(void)
{
    __asm volatile(
        "tst lr, #4\n\t"
        "ite eq\n\t"
        "mrseq r0, msp\n\t"
        "mrsne r0, psp\n\t"
        "mov r1, lr\n\t"
        "movs r2, #0\n\t"
        "movs r3, #0\n\t"
        "ldr r12, =_stack_bottom\n\t"
        "cmp r0, r12\n\t"
        "itt hs\n\t"
        "ldrhs r2, [r0, #24]\n\t" /* stacked PC */
        "ldrhs r3, [r0, #20]\n\t" /* stacked LR */
        "ldr r12, =_stack_top\n\t"
        "mov sp, r12\n\t"
        "b board_fault_report\n\t");
}

/* Print on UART0 with polled output, whatever state the driver left it
 * in, through the firmware's one formatter; then halt. */
__attribute__((noreturn)) static void panic(const char *fmt, ...)
{
    struct uart u; /* the polled output uses base only */
    u.base = BOARD_UART0_BASE;
    REG32(BOARD_UART0_BASE + 0x10u) = BOARD_SYSCLK_HZ / BOARD_CONSOLE_BAUD; /* BAUDDIV */
    REG32(BOARD_UART0_BASE + 0x08u) |= 1u;                                  /* CTRL: TX on */
    va_list ap;
    va_start(ap, fmt);
    fmt_vprint(uart_write, &u, fmt, ap);
    va_end(ap);
    SYST_CSR = 0; /* nothing left to wake us: QEMU idles */
    for (;;)
        __asm volatile("wfi");
}

static uint32_t exception_number(void)
{
    uint32_t ipsr;
    __asm volatile("mrs %0, ipsr" : "=r"(ipsr));
    return ipsr & 0x1FFu;
}

void board_fault_report(uint32_t sp, uint32_t exc_return, uint32_t pc, uint32_t lr)
{
    panic("\n*** FAULT exc %8x CFSR %8x HFSR %8x MMFAR %8x BFAR %8x"
          "\n*** PC %8x LR %8x SP %8x EXC_RETURN %8x%s\n*** halted\n",
          exception_number(), SCB_CFSR, SCB_HFSR, SCB_MMFAR, SCB_BFAR, pc, lr, sp, exc_return,
          sp < (uint32_t)(uintptr_t)_stack_bottom ? " stack overflow" : "");
}

void Default_Handler(void)
{
    uint32_t n = exception_number();
    panic("\n*** unexpected %s %u, halted\n", n >= 16 ? "IRQ" : "exception", n >= 16 ? n - 16 : n);
}
