/* The firmware's only number formatter; see fmt.h. */
#include "fmt.h"

/* v in base 10 or 16, at least width digits, ending at e; returns where it
 * starts. Not inlined: one copy serves %d, %u, %x and %I. */
__attribute__((noinline)) static char *digits(char *e, uint32_t v, uint32_t base, int width)
{
    do {
        *--e = "0123456789abcdef"[v % base];
        v /= base;
    } while (--width > 0 || v);
    return e;
}

void fmt_vprint(fmt_write_fn out, void *ctx, const char *fmt, va_list ap)
{
    char b[16], *e = b + sizeof b;
    for (; *fmt; fmt++) {
        const char *p = fmt;
        char *q = e;
        size_t n = 1;
        int width = 1;
        uint32_t v, base = 16;
        if (*fmt == '\n') {
            p = CONSOLE_EOL;
            n = sizeof CONSOLE_EOL - 1;
        } else if (*fmt == '%') {
            if (fmt[1] >= '1' && fmt[1] <= '9')
                width = *++fmt - '0';
            switch (*++fmt) {
            case 0: /* a '%' ending the format */
                return;
            case 's':
                p = va_arg(ap, const char *);
                for (n = 0; p[n]; n++)
                    ;
                goto put;
            case 'c':
                *--q = (char)va_arg(ap, int);
                break;
            case 'I':
                v = va_arg(ap, uint32_t);
                for (int i = 0; i < 4; i++, v >>= 8) {
                    if (i)
                        *--q = '.';
                    q = digits(q, v & 255, 10, 1);
                }
                break;
            case 'd':
                v = (uint32_t)va_arg(ap, int);
                if ((int32_t)v < 0) {
                    out(ctx, "-", 1);
                    v = 0u - v;
                }
                q = digits(q, v, 10, 1);
                break;
            case 'u':
                base = 10;
                /* fall through */
            case 'x':
                q = digits(q, va_arg(ap, uint32_t), base, width);
                break;
            default: /* "%%" */
                *--q = *fmt;
            }
            p = q;
            n = (size_t)(e - q);
        }
    put:
        if (n)
            out(ctx, p, n);
    }
}
