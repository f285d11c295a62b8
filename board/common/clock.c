/* SysTick on the CPU clock (CSR.CLKSOURCE = 1), interrupting every
 * CLOCK_TICK_MS; the time in between is read from the down-counter. */
#include "clock.h"

#include "board.h"
#include "cortexm.h"

#define CYCLES_PER_MS (BOARD_SYSCLK_HZ / 1000u)
#define RELOAD (CLOCK_TICK_MS * CYCLES_PER_MS - 1u)
#if CLOCK_TICK_MS < 1 || RELOAD > 0xFFFFFFu
#error "CLOCK_TICK_MS: the SysTick reload must fit 24 bits"
#endif
#define ICSR_PENDSTSET (1u << 26)

static volatile uint32_t tick_ms; /* ms at the last reload */

void SysTick_Handler(void);
void SysTick_Handler(void) { tick_ms += CLOCK_TICK_MS; }

void clock_init(void)
{
    SYST_CSR = 0;
    SYST_RVR = RELOAD;
    SYST_CVR = 0;
    SYST_CSR = SYST_CSR_CLKSOURCE | SYST_CSR_TICKINT | SYST_CSR_ENABLE;
    /* The counter reads 0 until its first reload: that would read as a
     * whole period elapsed, and the clock would step back. */
    while (SYST_CVR == 0) {
    }
}

/* tick_ms and the cycles elapsed since, as one consistent reading: a
 * reload whose interrupt has not run yet (interrupts masked, or about to
 * be taken) is counted here. */
static uint32_t now(uint32_t *cycles)
{
    uint32_t base, ms, val;
    do {
        base = ms = tick_ms;
        val = SYST_CVR;
        if (SCB_ICSR & ICSR_PENDSTSET) { /* wrapped, not counted yet */
            val = SYST_CVR;              /* read again: surely after the wrap */
            ms += CLOCK_TICK_MS;
        }
    } while (base != tick_ms); /* the handler ran meanwhile: read again */
    *cycles = RELOAD - val;
    return ms;
}

uint32_t clock_ms(void)
{
    uint32_t c, ms = now(&c);
    return ms + c / CYCLES_PER_MS;
}

uint32_t clock_cycles(void)
{
    uint32_t c, ms = now(&c);
    return ms * CYCLES_PER_MS + c;
}

void board_idle(void)
{
    __asm volatile("dsb\n\twfi\n\tcpsie i\n\tisb" ::: "memory");
}
