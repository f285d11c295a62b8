/* Our stack's API under its renamed symbols.
 *
 * The diff harness links our core and liblwip into one executable; both
 * define tcp_input, tcp_init, tcp_listen, tcp_connect, tcp_close, ... and
 * lwIP calls its own through the PLT, so an unrenamed copy of ours would
 * capture lwIP's internal calls. The Makefile therefore builds our
 * objects into build/diff/libours.a with every defined global symbol
 * prefixed ours_ (objcopy --redefine-syms) and generates ours_syms.h, one
 * `#define name ours_name` per symbol, from the same list. Including our
 * headers after it makes every prototype, and every call in this
 * translation unit, name the renamed symbol. */
#ifndef OURS_API_H
#define OURS_API_H

#include "ours_syms.h" /* generated: build/diff/ours_syms.h */

#include "net.h"
#include "net_priv.h"
#include "tcp.h"

#endif
