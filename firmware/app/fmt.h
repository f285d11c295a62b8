/* The one text formatter of the firmware: console output, the boot banner
 * and the fault reports all go through fmt_vprint, so there is a single
 * decimal/hex printer. Hardware-free (the output goes to a callback). */
#ifndef FMT_H
#define FMT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#ifndef CONSOLE_EOL /* what '\n' in a format becomes ("\r\n": a raw UART) */
#define CONSOLE_EOL "\r\n"
#endif

typedef void (*fmt_write_fn)(void *ctx, const char *s, size_t n);

/* Minimal printf: %s, %c, %d (int), %u and %x (uint32_t: cast narrower
 * values), %I (IPv4 address, host order uint32_t), %%. One digit between
 * '%' and u/x is a zero-padded minimum width ("%8x", "%2x"). '\n' goes out
 * as CONSOLE_EOL; any other conversion letter is printed as itself. */
void fmt_vprint(fmt_write_fn out, void *ctx, const char *fmt, va_list ap);

#endif
