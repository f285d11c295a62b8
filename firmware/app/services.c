/* echo (RFC 862), discard (RFC 863) and chargen (RFC 864) over TCP. */
#include "services.h"

#include <stdint.h>

/* Echo: take only what can be echoed at once, so no receive buffer is
 * needed; the window we offer is the free send space. */
static size_t echo_recv(struct net_stack *s, int id, const uint8_t *d, size_t n)
{
    return tcp_send(s, id, d, n);
}

static uint16_t echo_window(struct net_stack *s, int id)
{
    return (uint16_t)tcp_send_space(s, id);
}

static void echo_event(struct net_stack *s, int id, enum tcp_event ev)
{
    if (ev == TCP_EV_SENT)
        tcp_window_changed(s, id); /* send space grew: so did our window */
    else if (ev == TCP_EV_PEER_CLOSED)
        tcp_close(s, id); /* FIN goes after the data still queued */
}

/* Discard and chargen take everything and keep nothing. */
static size_t sink_recv(struct net_stack *s, int id, const uint8_t *d, size_t n)
{
    (void)s; (void)id; (void)d;
    return n;
}

static void discard_event(struct net_stack *s, int id, enum tcp_event ev)
{
    if (ev == TCP_EV_PEER_CLOSED)
        tcp_close(s, id);
}

/* Chargen: line L (0..94) holds the 72 printable characters starting with
 * ' ' + L, wrapping over the 95 printable ones, then CR LF. The stream
 * repeats after 95 lines of 74 bytes; the offset in that cycle is the
 * connection's user pointer. */
#define CG_COLS 72
#define CG_LINE (CG_COLS + 2)
#define CG_CYCLE (95 * CG_LINE)

static void chargen_fill(struct net_stack *s, int id)
{
    uint32_t pos = (uint32_t)(uintptr_t)tcp_get_ctx(s, id);
    char buf[CG_LINE];
    size_t n, k;
    do {
        /* the rest of the current line; character c of the cycle is
         * ' ' + c % 95, line L starting with c = L */
        uint32_t col = pos % CG_LINE, c = pos / CG_LINE + col;
        for (n = 0; col < CG_LINE; col++, c++)
            buf[n++] = (char)(col < CG_COLS ? ' ' + c % 95 : (uint32_t)"\r\n"[col - CG_COLS]);
        k = tcp_send(s, id, buf, n);
        pos = (pos + (uint32_t)k) % CG_CYCLE;
    } while (k == n);
    tcp_set_ctx(s, id, (void *)(uintptr_t)pos);
}

static void chargen_event(struct net_stack *s, int id, enum tcp_event ev)
{
    if (ev == TCP_EV_CONNECTED)
        tcp_set_ctx(s, id, (void *)0);
    if (ev == TCP_EV_CONNECTED || ev == TCP_EV_SENT)
        chargen_fill(s, id);
    else
        discard_event(s, id, ev);
}

static const struct tcp_app echo_app = { echo_recv, echo_event, echo_window };
static const struct tcp_app discard_app = { sink_recv, discard_event, 0 };
static const struct tcp_app chargen_app = { sink_recv, chargen_event, 0 };

int services_init(struct net_stack *s)
{
    int e = tcp_listen(s, SERVICE_ECHO_PORT, &echo_app);
    if (!e)
        e = tcp_listen(s, SERVICE_DISCARD_PORT, &discard_app);
    if (!e)
        e = tcp_listen(s, SERVICE_CHARGEN_PORT, &chargen_app);
    return e;
}
