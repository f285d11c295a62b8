/* Time base and idle, on SysTick clocked by the CPU clock.
 *
 * Tickless-style: SysTick interrupts only every clock_set_tick() ms (8 ms
 * while the network stack has timers running, 500 ms when it has none),
 * because under QEMU every wake-up costs host CPU (a 1 kHz tick alone
 * costs ~5% of a host core). clock_ms() still counts single milliseconds:
 * between interrupts it reads the SysTick down-counter. */
#ifndef CLOCK_H
#define CLOCK_H

#include <stdint.h>

/* Longest interrupt period: SysTick's 24 bits at 25 MHz hold 671 ms. */
#define CLOCK_TICK_MAX_MS 500u

/* Start the time base, interrupting every tick_ms (2..CLOCK_TICK_MAX_MS). */
void clock_init(uint32_t tick_ms);
/* Change the interrupt period, starting now (the next interrupt comes
 * tick_ms from now). The clock neither jumps nor drifts. */
void clock_set_tick(uint32_t tick_ms);
/* Milliseconds since clock_init, to the millisecond (not only at ticks);
 * monotonic, wraps at 2^32 (49.7 days). Any context, interrupts on or off
 * (masked for less than a tick). */
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
