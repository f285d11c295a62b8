/* Serial console: a line editor and a few commands to drive and watch the
 * TCP stack (connect/send/close/abort, netstat, stats, live trace).
 *
 * Hardware-free: characters come in through console_input() and text goes
 * out through the write callback. All state is in struct console.
 * Every line it prints ends with CONSOLE_EOL ("\r\n", for a raw UART).
 *
 * Output formats (stable, parsed by the tests):
 *   netstat   L <ip>:<port> LISTEN                  one per listener, then
 *             <id> <lip>:<lport> <rip>:<rport> <STATE> una=<n> nxt=<n> rcv=<n> rtx=<n>
 *             one per connection not CLOSED; una/nxt relative to our ISN,
 *             rcv relative to the peer's, as seen in the trace (absolute
 *             when the console did not see the SYN)
 *   stats     <name> <value>                        one counter per line
 *   trace     tcp <id> <OLD> -> <NEW>
 *             tcp <id> in|out <flags> seq=<n> ack=<n> wnd=<n> len=<n>
 *             flags: F=FIN S=SYN R=RST P=PSH A=ACK U=URG E=ECE C=CWR, in
 *             that order (SA, FA, PA, FPA, RA...), "." for none; seq/ack
 *             relative to the ISNs (ack=0 without ACK); id -1 = no
 *             connection: absolute numbers
 *   events    conn <id> established|refused|reset|timed out|peer closed|closed
 *             conn <id> data "<text>"   (\r \n \t \\ \" \xNN escaped)
 *   errors    error: <reason>
 */
#ifndef CONSOLE_H
#define CONSOLE_H

#include <stddef.h>
#include <stdint.h>

#include "fmt.h"
#include "net.h"

#ifndef CONSOLE_LINE_MAX /* longest command line, characters */
#define CONSOLE_LINE_MAX 80
#endif
#if CONSOLE_LINE_MAX < 16 || CONSOLE_LINE_MAX > 250
#error "CONSOLE_LINE_MAX must be 16..250"
#endif
/* CONSOLE_EOL: in fmt.h, shared with the other users of the formatter. */

struct console;
typedef fmt_write_fn console_write_fn;
/* Called by `stats` after the stack's counters, to print more with
 * console_print(c, "%s %u\n", name, value) (e.g. driver counters). */
typedef void (*console_stats_fn)(struct console *c, void *ctx);

struct console {
    struct net_stack *s;
    console_write_fn out;
    void *out_ctx;
    console_stats_fn extra_stats; /* optional, set after console_init */
    void *extra_ctx;
    /* ISNs seen in the trace, per id; 0 when not seen (numbers relative
     * to 0 are the absolute ones, as the formats above say) */
    uint32_t iss[TCP_MAX_CONNS];
    uint32_t irs[TCP_MAX_CONNS];
    uint8_t trace_on;
    uint8_t too_long; /* the line being typed overflowed */
    uint8_t last_cr;  /* last character was CR (swallow the LF of CR LF) */
    uint8_t len;
    char line[CONSOLE_LINE_MAX + 2];
};

/* Set up c (all of it) and install the stack's trace hook (s->trace,
 * s->trace_ctx = c). Trace printing starts as NET_TRACE_DEFAULT. Leave the
 * hook installed: the console also finds itself through it for the
 * connections it opened (their events and data), and records the ISNs
 * from it for relative numbers. */
void console_init(struct console *c, struct net_stack *s, console_write_fn out, void *ctx);
/* One character from the UART: echoed; CR or LF runs the line. */
void console_input(struct console *c, char ch, uint32_t now_ms);
/* Call from the main loop. Nothing is pending in this version. */
void console_poll(struct console *c, uint32_t now_ms);
/* printf through fmt.h's formatter: %s %c %d %u %x %I %%, "%8x" pads;
 * '\n' goes out as CONSOLE_EOL. */
void console_print(struct console *c, const char *fmt, ...);
/* "<prefix><name> <value>\n" for each of the NUL-separated names (ended by
 * an empty one) and the uint32_t values in the same order: `stats` lines. */
void console_counters(struct console *c, const char *prefix, const char *names,
                      const uint32_t *values);

#endif
