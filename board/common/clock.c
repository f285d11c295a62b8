/* SysTick on the CPU clock (CSR.CLKSOURCE = 1) with a variable period.
 *
 * Time in cycles = tick_ms * CYCLES_PER_MS + tick_frac + (reload - VAL),
 * where the current period began at tick_ms ms + tick_frac cycles with the
 * counter loaded with `reload`. Every period ends on a whole millisecond:
 * a period started mid-millisecond by clock_set_tick() is shortened by
 * tick_frac cycles, so the handler just adds the period in ms. */
#include "clock.h"

#include "board.h"
#include "cortexm.h"

#define CYCLES_PER_MS (BOARD_SYSCLK_HZ / 1000u)
#if CLOCK_TICK_MAX_MS * CYCLES_PER_MS - 1 > 0xFFFFFFu
#error "CLOCK_TICK_MAX_MS: the SysTick reload must fit 24 bits"
#endif
#define ICSR_PENDSTSET (1u << 26)
#define ICSR_PENDSTCLR (1u << 25)

static volatile uint32_t tick_ms;   /* ms at the start of the period */
static volatile uint32_t tick_frac; /* + cycles (non-zero after a restart) */
static volatile uint32_t reload;    /* counter value the period started at */
static volatile uint32_t period_ms; /* length of every following period */

void SysTick_Handler(void);
void SysTick_Handler(void)
{
    tick_ms += period_ms;
    tick_frac = 0;
    reload = period_ms * CYCLES_PER_MS - 1;
}

/* Cycles since tick_ms of a consistent reading (< 2^32 / 25000 ms). A
 * reload whose interrupt has not run yet (interrupts masked) is counted. */
static uint32_t now(uint32_t *ms)
{
    uint32_t base, frac, cyc, val;
    do {
        base = *ms = tick_ms;
        frac = tick_frac;
        cyc = reload;
        val = SYST_CVR;
        if (SCB_ICSR & ICSR_PENDSTSET) { /* wrapped, not counted yet */
            val = SYST_CVR;              /* read again: surely after the wrap */
            *ms += period_ms;
            frac = 0;
            cyc = period_ms * CYCLES_PER_MS - 1;
        }
    } while (base != tick_ms); /* the handler ran meanwhile: read again */
    return frac + cyc - val;
}

/* Load the counter with first_reload now, then period_ms-long periods. */
static void restart(uint32_t first_reload)
{
    SYST_RVR = first_reload;
    SYST_CVR = 0; /* reloads from RVR on the next cycle */
    /* (Re)enable: once more changes nothing. Enabling with RVR = 0 would
     * stop QEMU's timer for good ("Timer with delta zero, disabling"). */
    SYST_CSR = SYST_CSR_CLKSOURCE | SYST_CSR_TICKINT | SYST_CSR_ENABLE;
    while (SYST_CVR == 0) {
    }
    SYST_RVR = period_ms * CYCLES_PER_MS - 1;
    SCB_ICSR = ICSR_PENDSTCLR; /* a wrap before the restart is in the reading */
    reload = first_reload;
}

void clock_init(uint32_t tick)
{
    uint32_t primask = irq_save();
    tick_ms = tick_frac = 0;
    period_ms = tick;
    restart(tick * CYCLES_PER_MS - 1);
    irq_restore(primask);
}

void clock_set_tick(uint32_t tick)
{
    if (tick == period_ms)
        return;
    uint32_t primask = irq_save(), ms;
    uint32_t c = now(&ms);
    ms += c / CYCLES_PER_MS;
    c %= CYCLES_PER_MS;
    period_ms = tick;
    tick_ms = ms;
    tick_frac = c;
    restart(tick * CYCLES_PER_MS - 1 - c); /* ends on a whole ms */
    irq_restore(primask);
}

uint32_t clock_ms(void)
{
    uint32_t ms, c = now(&ms);
    return ms + c / CYCLES_PER_MS;
}

uint32_t clock_cycles(void)
{
    uint32_t ms, c = now(&ms);
    return ms * CYCLES_PER_MS + c;
}

void board_idle(void)
{
    __asm volatile("dsb\n\twfi\n\tcpsie i\n\tisb" ::: "memory");
}
