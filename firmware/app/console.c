/* Serial console for the TCP stack. See console.h for the output formats. */
#include "console.h"

#include "tcp.h"

#define F_SYN 0x02
#define F_ACK 0x10

/* ---- output ---- */

void console_print(struct console *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fmt_vprint(c->out, c->out_ctx, fmt, ap);
    va_end(ap);
}

/* i-th string of a list of NUL-terminated strings ended by an empty one. */
static const char *nth(const char *list, int i)
{
    while (i-- > 0)
        while (*list++)
            ;
    return list;
}

void console_counters(struct console *c, const char *prefix, const char *names,
                      const uint32_t *values)
{
    for (; *names; names = nth(names, 1))
        console_print(c, "%s%s %u\n", prefix, names, *values++);
}

static void err(struct console *c, const char *why)
{
    console_print(c, "error: %s\n", why);
}

/* ---- trace ---- */

static void trace_hook(void *ctx, const struct net_trace *t)
{
    struct console *c = ctx;
    int id = t->id, out = t->kind == NET_TRACE_SEG_OUT;
    /* the ISNs of the segment's sender and receiver; none: 0 (absolute) */
    uint32_t none = 0, *snd = &none, *rcv = &none;
    if ((unsigned)id < TCP_MAX_CONNS) {
        snd = out ? &c->iss[id] : &c->irs[id];
        rcv = out ? &c->irs[id] : &c->iss[id];
        if (t->kind == NET_TRACE_STATE) {
            const struct tcp_conn *k = &c->s->conn[id];
            if (t->new_state == TCP_CLOSED) {
                *snd = *rcv = 0; /* the slot's next use is another connection */
            } else if (t->new_state == TCP_ESTABLISHED && t->old_state < TCP_ESTABLISHED) {
                /* The handshake just completed: the numbers are certain now. */
                c->iss[id] = k->snd_una - 1;
                c->irs[id] = k->rcv_nxt - 1;
            }
        } else if (t->flags & F_SYN) {
            /* Our SYN carries our ISN (a SYN-ACK also acks theirs); an
             * incoming SYN is taken only for display until the handshake
             * completes, and never changes our ISN: TCP may reject it. */
            if (out) {
                *snd = t->seq;
                *rcv = t->flags & F_ACK ? t->ack - 1 : 0;
            } else if (tcp_get_state(c->s, id) < TCP_ESTABLISHED && !*snd) {
                *snd = t->seq;
            }
        }
    }
    if (!c->trace_on)
        return;
    if (t->kind == NET_TRACE_STATE) {
        console_print(c, "tcp %d %s -> %s\n", id, tcp_state_name((enum tcp_state)t->old_state),
                      tcp_state_name((enum tcp_state)t->new_state));
        return;
    }
    char fl[9], *p = fl;
    for (int i = 0; i < 8; i++) /* in the order of the header's bits */
        if (t->flags >> i & 1)
            *p++ = "FSRPAUEC"[i];
    if (p == fl)
        *p++ = '.';
    *p = 0;
    console_print(c, "tcp %d %s %s seq=%u ack=%u wnd=%u len=%u\n", id, out ? "out" : "in", fl,
                  t->seq - *snd, t->flags & F_ACK ? t->ack - *rcv : 0, (uint32_t)t->wnd,
                  (uint32_t)t->len);
}

/* ---- connections opened from the console ---- */

/* The console of a stack is its trace context (console_init installs the
 * hook). Per-connection contexts cannot serve: the stack clears them before
 * it reports the end of a connection. */
static struct console *con_of(struct net_stack *s)
{
    return s->trace == trace_hook ? s->trace_ctx : NULL;
}

static size_t con_recv(struct net_stack *s, int id, const uint8_t *d, size_t n)
{
    struct console *c = con_of(s);
    if (!c)
        return n;
    console_print(c, "conn %d data \"", id);
    for (size_t i = 0; i < n; i++) {
        static const char esc[] = "\r\n\t\\\"rnt\\\"";
        int j = 0;
        while (j < 5 && (uint8_t)esc[j] != d[i])
            j++;
        if (j < 5)
            console_print(c, "\\%c", esc[j + 5]);
        else if (d[i] >= 0x20 && d[i] < 0x7f)
            console_print(c, "%c", d[i]);
        else
            console_print(c, "\\x%2x", (uint32_t)d[i]);
    }
    console_print(c, "\"\n");
    return n;
}

static void con_event(struct net_stack *s, int id, enum tcp_event ev)
{
    struct console *c = con_of(s);
    if (c && ev != TCP_EV_SENT && ev <= TCP_EV_CLOSED)
        console_print(c, "conn %d %s\n", id,
                      nth("established\0\0peer closed\0refused\0reset\0timed out\0closed\0", ev));
}

static const struct tcp_app con_app = { con_recv, con_event, 0 };

/* ---- commands ---- */

/* Usage lines; the first word of each is the command. Also the help text. */
static const char cmds[] = "connect <ip> <port>\0send <id> <text>\0close <id>\0abort <id>\0"
                           "netstat\0stats\0trace on|off\0help\0";
enum { C_CONNECT, C_SEND, C_CLOSE, C_ABORT, C_NETSTAT, C_STATS, C_TRACE, C_HELP };

static const char *skip(const char *p)
{
    while (*p == ' ')
        p++;
    return p;
}

static int at_end(const char *p)
{
    return *p == ' ' || !*p;
}

/* Decimal number 0..max at *p (*p moves past it); -1 when none or > max. */
static long num(const char **pp, uint32_t max)
{
    const char *p = *pp;
    uint32_t v = 0;
    if (*p < '0' || *p > '9')
        return -1;
    while (*p >= '0' && *p <= '9') {
        v = v * 10 + (uint32_t)(*p++ - '0');
        if (v > max)
            return -1;
    }
    *pp = p;
    return (long)v;
}

/* Index of the word at *pp in list (entries match up to their first space),
 * -1 if none; *pp moves past the word. */
static int lookup(const char **pp, const char *list)
{
    for (int i = 0; *list; i++) {
        const char *q = *pp;
        while (*list && *list != ' ' && *list == *q)
            list++, q++;
        if ((*list == ' ' || !*list) && at_end(q) && q != *pp) {
            *pp = q;
            return i;
        }
        while (*list++)
            ;
    }
    return -1;
}

static void netstat(struct console *c)
{
    const struct net_stack *s = c->s;
    for (int i = 0; i < TCP_MAX_LISTENERS; i++)
        if (s->lst[i].port)
            console_print(c, "L %I:%u LISTEN\n", s->cfg.ip, (uint32_t)s->lst[i].port);
    for (int i = 0; i < TCP_MAX_CONNS; i++) {
        const struct tcp_conn *k = &s->conn[i];
        enum tcp_state st = (enum tcp_state)k->state;
        if (st == TCP_CLOSED)
            continue;
        uint32_t iss = c->iss[i];
        console_print(c, "%d %I:%u %I:%u %s una=%u nxt=%u rcv=%u rtx=%u\n", i, s->cfg.ip,
                      (uint32_t)k->lport, k->rip, (uint32_t)k->rport, tcp_state_name(st),
                      k->snd_una - iss, k->snd_nxt - iss, k->rcv_nxt - c->irs[i],
                      (uint32_t)k->nrtx);
    }
}

static void stats(struct console *c)
{
    static const char names[] =
#define NET_STATS_NAME(name) #name "\0"
        NET_STATS(NET_STATS_NAME)
#undef NET_STATS_NAME
        ;
    console_counters(c, "", names, (const uint32_t *)&c->s->stats);
    if (c->extra_stats)
        c->extra_stats(c, c->extra_ctx);
}

/* Parse the arguments as the usage line of the command says (<ip>,
 * <port>, <id>, <text>: the rest of the line, on|off), then act. */
static void run(struct console *c, const char *p)
{
    struct net_stack *s = c->s;
    const char *why = "bad argument", *u;
    uint32_t v[2] = { 0, 0 };
    int cmd, n = 0, r;
    long x;

    p = skip(p);
    if (!*p)
        return;
    if ((cmd = lookup(&p, cmds)) < 0) {
        why = "unknown command (try help)";
        goto fail;
    }
    for (u = nth(cmds, cmd); *u; u++) {
        if (*u != ' ')
            continue;
        /* u: " <ip>", " <port>", " <id>", " <text>" or " on|off" */
        const char *q = skip(p);
        if (!*q)
            goto usage;
        if (u[2] == 't') { /* the text: after one space, as typed */
            p++;
            goto act;
        }
        p = q;
        if (u[1] == 'o') { /* on|off */
            if ((x = lookup(&p, "off\0on\0")) < 0)
                goto usage;
        } else if (u[3] == 'p') { /* <ip> */
            why = "bad ip";
            x = 0;
            for (int i = 0; i < 4; i++) {
                long o = num(&p, 255);
                if (o < 0 || (i < 3 && *p++ != '.'))
                    goto fail;
                x = x << 8 | o;
            }
        } else { /* <port> or <id> */
            int port = u[2] == 'p';
            why = port ? "bad port" : "bad id";
            if ((x = num(&p, port ? 65535 : TCP_MAX_CONNS - 1)) < port)
                goto fail;
        }
        if (!at_end(p))
            goto fail; /* why is still set: junk glued to the argument */
        v[n++] = (uint32_t)x;
    }
    if (*skip(p))
        goto usage;
act:;
    int id = (int)v[0];
    enum tcp_state st = tcp_get_state(s, id);
    if (cmd >= C_SEND && cmd <= C_ABORT && st == TCP_CLOSED) {
        why = "no such connection";
        goto fail;
    }
    switch (cmd) {
    case C_CONNECT:
        if ((r = tcp_connect(s, v[0], (uint16_t)v[1], &con_app)) < 0)
            goto tcp_error;
        console_print(c, "connect: id %d\n", r);
        break;
    case C_SEND: {
        /* the text is the rest of the line (inside c->line); add LF */
        char *t = c->line + (p - c->line);
        size_t len = 0, room = tcp_send_space(s, id);
        while (t[len])
            len++;
        t[len++] = '\n';
        if (st != TCP_ESTABLISHED && st != TCP_CLOSE_WAIT)
            console_print(c, "error: cannot send in %s\n", tcp_state_name(st));
        else if (room < len)
            console_print(c, "error: no room (%u bytes free)\n", (uint32_t)room);
        else
            console_print(c, "send: %u bytes\n", (uint32_t)tcp_send(s, id, t, len));
        break;
    }
    case C_CLOSE:
    case C_ABORT:
        if ((r = (cmd == C_CLOSE ? tcp_close : tcp_abort)(s, id)) < 0)
            goto tcp_error;
        console_print(c, "%s: id %d\n", cmd == C_CLOSE ? "close" : "abort", id);
        break;
    case C_NETSTAT:
        netstat(c);
        break;
    case C_STATS:
        stats(c);
        break;
    case C_TRACE:
        c->trace_on = (uint8_t)v[0];
        console_print(c, "trace: %s\n", nth("off\0on\0", c->trace_on));
        break;
    default: /* C_HELP */
        for (u = cmds; *u; u = nth(u, 1))
            console_print(c, "  %s\n", u);
        console_print(c, "flags: F=FIN S=SYN R=RST P=PSH A=ACK U=URG E=ECE C=CWR\n");
    }
    return;
usage:
    console_print(c, "error: usage: %s\n", nth(cmds, cmd));
    return;
tcp_error:
    why = nth("table full\0bad argument\0bad state\0", -1 - r);
fail:
    err(c, why);
}

/* ---- line editor ---- */

void console_init(struct console *c, struct net_stack *s, console_write_fn out, void *ctx)
{
    *c = (struct console){ .s = s, .out = out, .out_ctx = ctx,
                           .trace_on = NET_TRACE_DEFAULT != 0 };
    s->trace = trace_hook;
    s->trace_ctx = c;
}

void console_input(struct console *c, char ch, uint32_t now_ms)
{
    (void)now_ms;
    if (ch == '\n' && c->last_cr) { /* CR LF: one end of line */
        c->last_cr = 0;
        return;
    }
    c->last_cr = ch == '\r';
    if (ch == '\r' || ch == '\n') {
        console_print(c, "\n");
        c->line[c->len] = 0;
        if (c->too_long)
            err(c, "line too long");
        else
            run(c, c->line);
        c->len = 0;
        c->too_long = 0;
    } else if (ch == '\b' || ch == 0x7f) {
        if (c->len) {
            c->len--;
            console_print(c, "\b \b");
        }
    } else if (ch >= 0x20 && ch < 0x7f) {
        if (c->len < CONSOLE_LINE_MAX) {
            c->line[c->len++] = ch;
            console_print(c, "%c", ch);
        } else {
            c->too_long = 1;
        }
    }
}

void console_poll(struct console *c, uint32_t now_ms)
{
    (void)c;
    (void)now_ms;
}
