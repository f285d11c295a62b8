/* Time base and idle, on SysTick clocked by the CPU clock.
 *
 * SysTick interrupts every CLOCK_TICK_MS, not every millisecond: each
 * interrupt wakes the CPU (under QEMU a 1 kHz tick alone costs ~5% of a
 * host core). clock_ms() still counts single milliseconds, interpolating
 * from the SysTick counter. */
#ifndef CLOCK_H
#define CLOCK_H

#include <stdint.h>

/* Interrupt period = the longest sleep of board_idle(). The main loop
 * needs a wake-up at least every TCP_TICK_MS (8). At most 671 (24 bits at
 * 25 MHz). */
#ifndef CLOCK_TICK_MS
#define CLOCK_TICK_MS 8u
#endif

/* Start the tick. */
void clock_init(void);
/* Milliseconds since clock_init, to the millisecond (not only at ticks);
 * monotonic, wraps at 2^32 (49.7 days). Any context, interrupts on or off. */
uint32_t clock_ms(void);
/* CPU cycles since clock_init, wrapping at 2^32 (172 s at 25 MHz). For
 * entropy and jitter measurement. */
uint32_t clock_cycles(void);

/* Sleep until the next interrupt. The race-free pattern:
 *
 *     irq_disable();                  // cortexm.h: cpsid i
 *     if (nothing_to_do()) board_idle(); else irq_enable();
 *
 * With PRIMASK set an interrupt that arrives after the check stays pending
 * and makes WFI return at once, so no wake-up is lost. board_idle()
 * returns with interrupts enabled; the pending handlers run on return. */
void board_idle(void);

#endif
