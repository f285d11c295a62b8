/* The RFC "simple services" on TCP: echo (7), discard (9), chargen (19).
 *
 * Written only on the application API of tcp.h. No state of their own
 * outside the stack: chargen keeps its position in the stream in the
 * connection's user pointer (tcp_set_ctx). */
#ifndef SERVICES_H
#define SERVICES_H

#include "tcp.h"

#define SERVICE_ECHO_PORT 7     /* RFC 862 */
#define SERVICE_DISCARD_PORT 9  /* RFC 863 */
#define SERVICE_CHARGEN_PORT 19 /* RFC 864 */

/* Listen on the three ports. Call once after net_init. Returns 0, or the
 * first TCP_ERR_* from tcp_listen (listener or application table full). */
int services_init(struct net_stack *s);

#endif
