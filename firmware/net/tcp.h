/* TCP application API.
 *
 * A connection is named by its id, an index into the connection table
 * (0 .. TCP_MAX_CONNS-1). Applications register a struct tcp_app (a set of
 * callbacks) with tcp_listen() or tcp_connect(); the stack calls them from
 * inside net_input()/net_poll(). Callbacks may call tcp_send(), tcp_close()
 * and tcp_abort() on the connection they are told about.
 *
 * Example, an echo service:
 *
 *   static size_t echo_recv(struct net_stack *s, int id, const uint8_t *d, size_t n)
 *   { return tcp_send(s, id, d, n); }            // keep what fits, ack that
 *   static uint16_t echo_window(struct net_stack *s, int id)
 *   { return (uint16_t)tcp_send_space(s, id); }  // never take more than fits
 *   static void echo_event(struct net_stack *s, int id, enum tcp_event ev)
 *   { if (ev == TCP_EV_PEER_CLOSED) tcp_close(s, id); }  // FIN after the data
 *   static const struct tcp_app echo = { echo_recv, echo_event, echo_window };
 *   ...
 *   tcp_listen(&stack, 7, &echo);
 */
#ifndef TCP_H
#define TCP_H

#include "net.h"

enum tcp_event {
    TCP_EV_CONNECTED,   /* reached ESTABLISHED (either open) */
    TCP_EV_SENT,        /* the peer acknowledged data: send space grew */
    TCP_EV_PEER_CLOSED, /* the peer's FIN arrived after all its data */
    TCP_EV_REFUSED,     /* active open answered by RST */
    TCP_EV_RESET,       /* the peer reset an open connection */
    TCP_EV_TIMEOUT,     /* retry limit reached: we sent RST and gave up */
    TCP_EV_CLOSED,      /* both sides closed; the id is free after this */
};

struct tcp_app {
    /* In-order data. Return how many bytes were consumed; bytes not
     * consumed are not acknowledged and the peer sends them again. */
    size_t (*recv)(struct net_stack *s, int id, const uint8_t *data, size_t len);
    void (*event)(struct net_stack *s, int id, enum tcp_event ev);
    /* Bytes the application can take now: the window we advertise.
     * NULL: TCP_WND (an application that consumes everything at once). */
    uint16_t (*window)(struct net_stack *s, int id);
};

/* Errors returned as negative ints. */
enum { TCP_ERR_FULL = -1, TCP_ERR_ARG = -2, TCP_ERR_STATE = -3 };

/* Accept connections on port. Returns 0 or TCP_ERR_*. */
int tcp_listen(struct net_stack *s, uint16_t port, const struct tcp_app *app);
/* Active open to ip:port (host byte order). Returns the id or TCP_ERR_*. */
int tcp_connect(struct net_stack *s, uint32_t ip, uint16_t port, const struct tcp_app *app);
/* Queue data; returns how many bytes were accepted (0 when not open for
 * sending or the buffer is full). Sent when window and Nagle allow. */
size_t tcp_send(struct net_stack *s, int id, const void *data, size_t len);
/* Free bytes in the send buffer (0 when the connection cannot send). */
size_t tcp_send_space(const struct net_stack *s, int id);
/* Close our side: FIN after the queued data. Returns 0 or TCP_ERR_*. */
int tcp_close(struct net_stack *s, int id);
/* Reset the connection now (RST) and free it. Returns 0 or TCP_ERR_*. */
int tcp_abort(struct net_stack *s, int id);
/* Window update after the application freed space (from window()). */
void tcp_window_changed(struct net_stack *s, int id);

enum tcp_state tcp_get_state(const struct net_stack *s, int id);
const char *tcp_state_name(enum tcp_state st);
/* Per-connection user pointer, set after tcp_connect or on CONNECTED. */
void tcp_set_ctx(struct net_stack *s, int id, void *ctx);
void *tcp_get_ctx(const struct net_stack *s, int id);

#endif
