/* Differential test runner: every scenario of scenarios.c through our core
 * and through lwIP, step by step, and the two compared.
 *
 *   diff_harness [--diffs FILE] [--only NAME] [--no-fork] [-v] [--table]
 *   diff_harness --bench      instruction counting, under callgrind
 *
 * Per step and per stack it records the state of the connection (RFC 9293
 * names) and every segment the stack emitted: flags, sequence and
 * acknowledgement numbers relative to the stack's and the peer's ISNs,
 * payload length, whether the window is nonzero, options. Where the two
 * records differ, the step must be listed, with exactly those two records,
 * in the one table of FILE (docs/lwip-differences.md): every other
 * difference fails the scenario, and so does a row of the table that no
 * longer matches a difference (a stale row).
 *
 * Each scenario runs in a child process (fresh lwIP globals, a crash is a
 * FAIL); --no-fork runs them in this process. --table prints the table
 * rows of every difference found, to start a row of the document from. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "diff.h"

static const char *state_names[DS_NSTATES] = {
    "CLOSED",      "LISTEN",     "SYN-SENT",   "SYN-RECEIVED", "ESTABLISHED", "FIN-WAIT-1",
    "FIN-WAIT-2",  "CLOSE-WAIT", "CLOSING",    "LAST-ACK",     "TIME-WAIT"};

static const char *state_name(int st)
{
    return st >= 0 && st < DS_NSTATES ? state_names[st] : "?";
}

static uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}
static void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)(v >> 16));
    put16(p + 2, (uint16_t)v);
}

static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        sum += be16(p + i);
    if (n & 1)
        sum += (uint32_t)p[n - 1] << 8;
    return sum;
}
static uint16_t csum_fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xFFFF) + (sum >> 16);
    return (uint16_t)~sum;
}
static uint32_t csum_pseudo(uint32_t src, uint32_t dst, uint16_t len)
{
    return (src >> 16) + (src & 0xFFFF) + (dst >> 16) + (dst & 0xFFFF) + 6 + len;
}

/* --- per-run bookkeeping --- */

#define MAXSEG 40
#define MAXSTEPS 64
#define MAXCONN 8
#define TEXT 2048

struct seg_rec {
    char text[160];
    uint32_t t; /* virtual ms since the scenario began (shown with -v) */
};

struct step_rec {
    int state;
    int nseg, overflow;
    struct seg_rec seg[MAXSEG];
    char text[TEXT];
    char times[512];  /* -v: "@t1,t2,..." virtual ms of each segment */
};

struct conn_info {
    uint16_t peer_port;
    uint32_t isn;       /* the stack's ISN for this connection, as seen on its SYN */
    int isn_known;
    uint16_t stack_port; /* the stack's port (from its SYN; else the listener's) */
    int active;         /* opened by the stack (CONNECT) */
    int last_state;     /* at the end of the previous step */
    int32_t snd_max;    /* highest relative sequence number the stack has sent + 1 */
    int synced;         /* has been ESTABLISHED or later: gone means CLOSED, not LISTEN */
};

static struct run {
    const struct diff_backend *b;
    const struct diff_scenario *sc;
    uint32_t peer_isn;
    struct conn_info conn[MAXCONN];
    struct step_rec *cur; /* the step being recorded */
    char errors[1024];
    uint16_t ip_id;
    uint32_t now; /* virtual ms since the scenario began */
    int isn_checked;
} R;

static int verbose;

void diff_error(const char *fmt, ...)
{
    size_t n = strlen(R.errors);
    if (n >= sizeof R.errors - 2)
        return;
    if (n)
        R.errors[n++] = ';', R.errors[n++] = ' ';
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(R.errors + n, sizeof R.errors - n, fmt, ap);
    va_end(ap);
}

static struct conn_info *conn_info(uint16_t peer_port)
{
    for (int i = 0; i < MAXCONN; i++)
        if (R.conn[i].peer_port == peer_port)
            return &R.conn[i];
    for (int i = 0; i < MAXCONN; i++)
        if (!R.conn[i].peer_port) {
            R.conn[i].peer_port = peer_port;
            R.conn[i].stack_port = DIFF_LISTEN_PORT;
            R.conn[i].last_state = DS_CLOSED;
            return &R.conn[i];
        }
    diff_error("runner: too many connections");
    return &R.conn[0];
}

/* --- what the stacks send --- */

static int quiet_emit; /* bench mode: nothing is recorded */

void diff_emit(const uint8_t *ip, size_t len)
{
    size_t ihl = len >= 20 ? (size_t)(ip[0] & 15) * 4 : 0;
    if (len < 20 || (ip[0] >> 4) != 4 || ihl < 20 || be16(ip + 2) != len ||
        csum_fold(csum_add(0, ip, ihl)) != 0 || be32(ip + 12) != DIFF_STACK_IP ||
        be32(ip + 16) != DIFF_PEER_IP) {
        diff_error("%s emitted a malformed IPv4 packet (%zu bytes)", R.b->name, len);
        return;
    }
    struct step_rec *r = quiet_emit ? NULL : R.cur;
    if (r && r->nseg >= MAXSEG) {
        r->overflow++;
        r = NULL;
    }
    char *t = r ? r->seg[r->nseg].text : NULL;
    if (ip[9] != 6) {
        if (r) {
            snprintf(t, sizeof r->seg[0].text, "IP-proto-%u", ip[9]);
            r->nseg++;
        }
        return;
    }
    const uint8_t *h = ip + ihl;
    size_t tl = len - ihl, off = tl >= 20 ? (size_t)(h[12] >> 4) * 4 : 0;
    if (tl < 20 || off < 20 || off > tl ||
        csum_fold(csum_add(csum_pseudo(DIFF_STACK_IP, DIFF_PEER_IP, (uint16_t)tl), h, tl)) != 0) {
        diff_error("%s emitted a malformed TCP segment (bad length or checksum)", R.b->name);
        return;
    }
    uint16_t sport = be16(h), dport = be16(h + 2);
    uint32_t seq = be32(h + 4), ack = be32(h + 8);
    uint8_t fl = h[13];
    uint16_t wnd = be16(h + 14), plen = (uint16_t)(tl - off);
    struct conn_info *c = conn_info(dport);
    int32_t new_isn = 0, renewed = 0;
    if ((fl & DF_SYN) &&
        (!c->isn_known || (c->last_state != DS_SYN_SENT && c->last_state != DS_SYN_RECEIVED))) {
        /* A new connection: its ISN; a new incarnation shows where its
         * ISN lies from the previous one's. */
        if (c->isn_known && (c->last_state == DS_TIME_WAIT || c->synced)) {
            renewed = 1;
            new_isn = (int32_t)(seq - c->isn);
        }
        c->isn = seq;
        c->isn_known = 1;
        /* A scenario that asks for an ISN (to cross 2^32) must get it. */
        if (R.sc && R.sc->stack_isn && !R.isn_checked) {
            R.isn_checked = 1;
            if (seq - R.sc->stack_isn >= 250)
                diff_error("%s chose ISN %08x, not within 250 of the scenario's %08x", R.b->name,
                           seq, R.sc->stack_isn);
        }
        c->stack_port = sport;
        c->snd_max = 0;
        c->synced = 0;
    }
    uint32_t base = c->isn_known ? c->isn : 0;
    if (!(fl & DF_RST)) {
        int32_t end = (int32_t)(seq - base + plen + !!(fl & DF_SYN) + !!(fl & DF_FIN));
        if ((int32_t)((uint32_t)end - (uint32_t)c->snd_max) > 0)
            c->snd_max = end;
    }
    if (!r)
        return;
    r->seg[r->nseg].t = R.now;
    int n = 0;
    static const struct { uint8_t bit; const char *name; } names[] = {
        {DF_SYN, "SYN"}, {DF_FIN, "FIN"}, {DF_RST, "RST"}, {DF_PSH, "PSH"}, {DF_URG, "URG"},
        {DF_ACK, "ACK"}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (fl & names[i].bit)
            n += snprintf(t + n, 160 - (size_t)n, "%s%s", n ? "+" : "", names[i].name);
    if (!n)
        n += snprintf(t + n, 160 - (size_t)n, "NOFLAGS");
    n += snprintf(t + n, 160 - (size_t)n, " seq=%d", (int32_t)(seq - base));
    if (fl & DF_ACK)
        n += snprintf(t + n, 160 - (size_t)n, " ack=%d", (int32_t)(ack - R.peer_isn));
    if (plen)
        n += snprintf(t + n, 160 - (size_t)n, " len=%u", plen);
    if (!(fl & DF_RST)) /* a reset's window means nothing */
        n += snprintf(t + n, 160 - (size_t)n, " win%s", wnd ? ">0" : "=0");
    /* Options, in the order sent. */
    int first = 1;
    for (size_t i = 20; i < off && n < 140;) {
        uint8_t kind = h[i];
        if (kind == 0)
            break;
        if (kind == 1) {
            i++;
            continue;
        }
        uint8_t olen = i + 1 < off ? h[i + 1] : 0;
        if (olen < 2 || i + olen > off) {
            n += snprintf(t + n, 160 - (size_t)n, "%sbad-option", first ? " [" : " ");
            first = 0;
            break;
        }
        if (kind == 2 && olen == 4)
            n += snprintf(t + n, 160 - (size_t)n, "%smss=%u", first ? " [" : " ", be16(h + i + 2));
        else if (kind == 3 && olen == 3)
            n += snprintf(t + n, 160 - (size_t)n, "%sws=%u", first ? " [" : " ", h[i + 2]);
        else if (kind == 4)
            n += snprintf(t + n, 160 - (size_t)n, "%ssackOK", first ? " [" : " ");
        else if (kind == 8)
            n += snprintf(t + n, 160 - (size_t)n, "%sts", first ? " [" : " ");
        else
            n += snprintf(t + n, 160 - (size_t)n, "%sopt%u", first ? " [" : " ", kind);
        first = 0;
        i += olen;
    }
    if (!first)
        n += snprintf(t + n, 160 - (size_t)n, "]");
    if (renewed)
        n += snprintf(t + n, 160 - (size_t)n, " new-isn=old%+d", new_isn);
    if (dport != DIFF_PEER_PORT)
        snprintf(t + n, 160 - (size_t)n, " to:%u", dport);
    r->nseg++;
}

/* --- what the peer sends --- */

static void inject(const struct diff_step *s, uint16_t port)
{
    struct conn_info *c = conn_info(port);
    uint8_t p[1600];
    size_t optlen = 0;
    uint8_t opt[8];
    if ((s->flags & DF_SYN) && s->mss != NO_MSS) {
        uint16_t mss = s->mss ? (uint16_t)s->mss : 1460;
        opt[0] = 2, opt[1] = 4, opt[2] = (uint8_t)(mss >> 8), opt[3] = (uint8_t)mss;
        optlen = 4;
    } else if (!(s->flags & DF_SYN) && s->mss > 0) { /* an MSS option where it does not belong */
        opt[0] = 2, opt[1] = 4, opt[2] = (uint8_t)(s->mss >> 8), opt[3] = (uint8_t)s->mss;
        optlen = 4;
    }
    size_t thl = 20 + optlen, plen = s->n, tot = 20 + thl + plen;
    if (tot > sizeof p) {
        diff_error("runner: segment too long");
        return;
    }
    memset(p, 0, 20 + thl);
    p[0] = 0x45;
    put16(p + 2, (uint16_t)tot);
    put16(p + 4, R.ip_id++);
    p[8] = 64;
    p[9] = 6;
    put32(p + 12, DIFF_PEER_IP);
    put32(p + 16, DIFF_STACK_IP);
    put16(p + 10, csum_fold(csum_add(0, p, 20)));
    uint8_t *h = p + 20;
    uint32_t seq = R.peer_isn + (uint32_t)s->seq;
    put16(h, port);
    put16(h + 2, c->stack_port);
    put32(h + 4, seq);
    put32(h + 8, (c->isn_known ? c->isn : 0) + (uint32_t)(s->ack == ACK_ALL ? c->snd_max : s->ack));
    h[12] = (uint8_t)((thl / 4) << 4);
    h[13] = s->flags;
    put16(h + 14, s->wnd == W_ZERO ? 0 : s->wnd ? (uint16_t)s->wnd : 64240);
    memcpy(h + 20, opt, optlen);
    /* Payload: the peer's byte stream, byte k at relative sequence k + 1. */
    for (size_t i = 0; i < plen; i++)
        h[thl + i] = diff_byte((uint32_t)(s->seq - 1) + (uint32_t)i);
    put16(h + 16, csum_fold(csum_add(csum_pseudo(DIFF_PEER_IP, DIFF_STACK_IP, (uint16_t)(thl + plen)),
                                     h, thl + plen)));
    R.b->input(p, tot);
}

/* --- running a scenario through one backend --- */

static int conn_state(uint16_t port)
{
    struct conn_info *c = conn_info(port);
    int st = R.b->state(port);
    if (st >= DS_ESTABLISHED)
        c->synced = 1;
    /* A passive connection that never got past SYN-RECEIVED is back in
     * LISTEN when it is gone (RFC 9293 3.10.7.4); any other is CLOSED. */
    if (st < 0)
        st = (!c->active && !c->synced && R.b->listening()) ? DS_LISTEN : DS_CLOSED;
    return st;
}

static void run(const struct diff_backend *b, const struct diff_scenario *sc,
                struct step_rec *recs, int nsteps)
{
    memset(&R, 0, sizeof R);
    R.b = b;
    R.sc = sc;
    R.peer_isn = sc->peer_isn ? sc->peer_isn : 1000;
    R.ip_id = 1;
    b->init(&sc->app, sc->stack_isn);
    for (int i = 0; i < nsteps; i++) {
        const struct diff_step *s = &sc->steps[i];
        struct step_rec *r = &recs[i];
        uint16_t port = s->port ? s->port : DIFF_PEER_PORT;
        memset(r, 0, sizeof *r);
        R.cur = r;
        switch (s->op) {
        case OP_IN: inject(s, port); break;
        case OP_LISTEN: b->listen(DIFF_LISTEN_PORT); break;
        case OP_CONNECT:
            conn_info(port)->active = 1;
            b->connect(port);
            break;
        case OP_SEND: b->send(port, s->n); break;
        case OP_CLOSE: b->close(port); break;
        case OP_ABORT: b->abort(port); break;
        case OP_READ: b->read(port, s->n); break;
        case OP_WAIT:
            for (uint32_t t = 0; t < s->n; t++) {
                R.now++;
                b->tick();
            }
            break;
        case OP_WAIT_SEG:
            for (uint32_t t = 0; t < s->n && !r->nseg; t++) {
                R.now++;
                b->tick();
            }
            break;
        case OP_END: break;
        }
        R.cur = NULL;
        r->state = conn_state(port);
        for (int k = 0; k < MAXCONN; k++)
            if (R.conn[k].peer_port)
                R.conn[k].last_state = conn_state(R.conn[k].peer_port);
        size_t n = (size_t)snprintf(r->text, TEXT, "%s", state_name(r->state));
        for (int k = 0; k < r->nseg && n < TEXT - 200; k++)
            n += (size_t)snprintf(r->text + n, TEXT - n, " > %s", r->seg[k].text);
        if (verbose && r->nseg) { /* when each segment went out: shown, never compared */
            size_t m = 0;
            for (int k = 0; k < r->nseg && m < sizeof r->times - 16; k++)
                m += (size_t)snprintf(r->times + m, sizeof r->times - m, "%s%u", k ? "," : "@",
                                      r->seg[k].t);
        }
        if (r->overflow)
            snprintf(r->text + n, TEXT - n, " > ... %d more", r->overflow);
    }
}

/* --- the table of deliberate differences --- */

struct known {
    char scenario[64]; /* "*": any scenario (then step is "*" too) */
    int step;          /* 0: "*", any step */
    char ours[TEXT], lwip[TEXT];
    int has_reason;
    int line;
};
static struct known *known;
static int nknown;
static const char *diffs_path = "docs/lwip-differences.md";

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '`')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '`' || s[n - 1] == '\n' ||
                 s[n - 1] == '\r'))
        s[--n] = 0;
    return s;
}

/* The table: rows `| scenario | step | ours | lwIP | clause | ... |` (the
 * only table of the document); cells hold no '|'. */
static int load_known(void)
{
    FILE *f = fopen(diffs_path, "r");
    if (!f) {
        fprintf(stderr, "diff_harness: %s: %s\n", diffs_path, strerror(errno));
        return -1;
    }
    char line[3 * TEXT];
    int lineno = 0, cap = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        if (line[0] != '|')
            continue;
        char *cell[8];
        int nc = 0;
        char *p = line + 1;
        while (nc < 8) {
            char *bar = strchr(p, '|');
            if (!bar)
                break;
            *bar = 0;
            cell[nc++] = trim(p);
            p = bar + 1;
        }
        if (nc < 5 || !strcmp(cell[0], "Scenario") || cell[0][0] == '-' || cell[0][0] == ':')
            continue;
        if (nknown == cap) {
            cap = cap ? cap * 2 : 64;
            known = realloc(known, (size_t)cap * sizeof *known);
            if (!known)
                abort();
        }
        struct known *k = &known[nknown++];
        memset(k, 0, sizeof *k);
        snprintf(k->scenario, sizeof k->scenario, "%s", cell[0]);
        k->step = strcmp(cell[1], "*") ? atoi(cell[1]) : 0;
        snprintf(k->ours, TEXT, "%s", cell[2]);
        snprintf(k->lwip, TEXT, "%s", cell[3]);
        k->has_reason = cell[4][0] != 0;
        k->line = lineno;
    }
    fclose(f);
    return 0;
}

/* --- one scenario: both stacks, compared --- */

static int print_table;
static FILE *wild_used; /* indices of "*" rows that matched, from every child */
static struct step_rec recs_ours[MAXSTEPS], recs_lwip[MAXSTEPS];

static const char *step_desc(const struct diff_step *s, char *buf, size_t n)
{
    static const char *ops[] = {"end", "in", "listen", "connect", "send", "close", "abort",
                                "read", "wait", "wait-for-segment"};
    if (s->op == OP_IN) {
        char fl[32] = "";
        static const struct { uint8_t bit; const char *name; } names[] = {
            {DF_SYN, "SYN"}, {DF_FIN, "FIN"}, {DF_RST, "RST"}, {DF_PSH, "PSH"}, {DF_ACK, "ACK"}};
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
            if (s->flags & names[i].bit)
                snprintf(fl + strlen(fl), sizeof fl - strlen(fl), "%s%s", fl[0] ? "+" : "",
                         names[i].name);
        char ack[16] = "all";
        if (s->ack != ACK_ALL)
            snprintf(ack, sizeof ack, "%d", s->ack);
        snprintf(buf, n, "peer %s seq=%d ack=%s len=%u%s%s", fl, s->seq, ack, s->n,
                 s->wnd == W_ZERO ? " win=0" : "", s->mss == NO_MSS ? " no-mss" : "");
    } else if (s->op == OP_SEND || s->op == OP_READ || s->op == OP_WAIT || s->op == OP_WAIT_SEG) {
        snprintf(buf, n, "%s %u%s", ops[s->op], s->n, s->op >= OP_WAIT ? " ms" : "");
    } else {
        snprintf(buf, n, "%s", ops[s->op]);
    }
    if (s->port && s->port != DIFF_PEER_PORT)
        snprintf(buf + strlen(buf), n - strlen(buf), " (port %u)", s->port);
    return buf;
}

static int nsteps_of(const struct diff_scenario *sc)
{
    int n = 0;
    while (sc->steps[n].op != OP_END && n < MAXSTEPS)
        n++;
    return n;
}

/* Returns 0 on PASS; prints the PASS/FAIL line. */
static int run_scenario(const struct diff_scenario *sc)
{
    int nsteps = nsteps_of(sc);
    char why[4096] = "", detail[16384] = "", d[256];
    size_t dn = 0;
    int fail = 0;

    run(&diff_ours, sc, recs_ours, nsteps);
    if (R.errors[0]) {
        fail = 1;
        snprintf(why, sizeof why, "ours: %s", R.errors);
    }
    run(&diff_lwip, sc, recs_lwip, nsteps);
    if (R.errors[0] && !fail) {
        fail = 1;
        snprintf(why, sizeof why, "lwIP: %s", R.errors);
    }
    int *used = calloc((size_t)nknown + 1, sizeof *used);
    for (int i = 0; i < nsteps; i++) {
        const struct diff_step *s = &sc->steps[i];
        struct step_rec *o = &recs_ours[i], *l = &recs_lwip[i];
        if (verbose) {
            printf("  %s step %d: %s\n    ours: %s  %s\n    lwIP: %s  %s\n", sc->name, i + 1,
                   step_desc(s, d, sizeof d), o->text, o->times, l->text, l->times);
        }
        if (s->expect && o->state != s->expect - 1) {
            if (!fail)
                snprintf(why, sizeof why, "step %d (%s): ours is %s, the scenario expects %s",
                         i + 1, step_desc(s, d, sizeof d), state_name(o->state),
                         state_name(s->expect - 1));
            fail = 1;
        }
        if (!strcmp(o->text, l->text))
            continue;
        int found = 0;
        for (int k = 0; k < nknown; k++)
            if ((!strcmp(known[k].scenario, "*") ||
                 (!strcmp(known[k].scenario, sc->name) && known[k].step == i + 1)) &&
                !strcmp(known[k].ours, o->text) && !strcmp(known[k].lwip, l->text)) {
                found = 1;
                used[k] = 1;
                if (!strcmp(known[k].scenario, "*") && wild_used) {
                    fprintf(wild_used, "%d\n", k);
                    fflush(wild_used);
                }
                if (!known[k].has_reason && !fail) {
                    snprintf(why, sizeof why, "%s:%d: row without an RFC clause", diffs_path,
                             known[k].line);
                    fail = 1;
                }
            }
        if (print_table && !found)
            printf("| %s | %d | `%s` | `%s` | | |\n", sc->name, i + 1, o->text, l->text);
        if (!found) {
            if (!fail)
                snprintf(why, sizeof why, "step %d (%s) differs and is not in %s", i + 1,
                         step_desc(s, d, sizeof d), diffs_path);
            fail = 1;
            if (dn < sizeof detail - 100)
                dn += (size_t)snprintf(detail + dn, sizeof detail - dn,
                                       "    step %d (%s)\n      ours: %s\n      lwIP: %s\n", i + 1,
                                       step_desc(s, d, sizeof d), o->text, l->text);
        }
    }
    for (int k = 0; k < nknown; k++)
        if (!strcmp(known[k].scenario, sc->name) && !used[k]) {
            if (!fail)
                snprintf(why, sizeof why, "%s:%d: stale row (step %d no longer differs so)",
                         diffs_path, known[k].line, known[k].step);
            fail = 1;
            if (dn < sizeof detail - 100)
                dn += (size_t)snprintf(detail + dn, sizeof detail - dn,
                                       "    stale row %s:%d for step %d\n", diffs_path,
                                       known[k].line, known[k].step);
        }
    free(used);
    if (fail)
        printf("FAIL %s: %s\n%s", sc->name, why, detail);
    else
        printf("PASS %s\n", sc->name);
    fflush(stdout);
    return fail;
}

/* Table rows whose scenario or step does not exist. */
static int check_table_names(void)
{
    int bad = 0;
    for (int k = 0; k < nknown; k++) {
        if (!strcmp(known[k].scenario, "*")) {
            if (known[k].step) {
                printf("FAIL difference-table: %s:%d: a \"*\" scenario needs \"*\" as step\n",
                       diffs_path, known[k].line);
                bad = 1;
            }
            continue;
        }
        const struct diff_scenario *sc = NULL;
        for (size_t i = 0; i < diff_nscenarios; i++)
            if (!strcmp(diff_scenarios[i].name, known[k].scenario))
                sc = &diff_scenarios[i];
        if (!sc || known[k].step < 1 || known[k].step > nsteps_of(sc)) {
            printf("FAIL difference-table: %s:%d: no scenario %s with a step %d\n", diffs_path,
                   known[k].line, known[k].scenario, known[k].step);
            bad = 1;
        }
    }
    return bad;
}

/* --- instruction counting --- */

int diff_counting_enabled, diff_counting;
unsigned long diff_count_brackets;

#define S DF_SYN
#define A DF_ACK
#define F DF_FIN
#define P DF_PSH

static void bench_in(uint8_t flags, int32_t seq, int32_t ack, uint32_t len, uint16_t port)
{
    struct diff_step s = {.op = OP_IN, .flags = flags, .seq = seq, .ack = ack, .n = len};
    inject(&s, port);
}

/* One connection lifecycle, the stack as the echo server: handshake, 100
 * bytes echoed, FIN/ACK both ways. */
static void lifecycle(uint16_t port)
{
    bench_in(S, 0, 0, 0, port);
    bench_in(A, 1, 1, 0, port);
    bench_in(A | P, 1, 1, 100, port);
    bench_in(A, 101, 101, 0, port);
    bench_in(F | A, 101, 101, 0, port);
    bench_in(A, 102, 102, 0, port);
}

#define BENCH_SEGS 100

/* Counted sections end with a callgrind dump labelled `label`; the number
 * of on/off brackets in it goes to stdout for count_instructions.sh, which
 * subtracts their cost as measured by calibrate(). */
static void count_start(void)
{
    CALLGRIND_ZERO_STATS;
    diff_count_brackets = 0;
    diff_counting_enabled = 1;
}

static void count_end(const char *label)
{
    diff_count_off();
    diff_counting_enabled = 0;
    CALLGRIND_DUMP_STATS_AT(label);
    printf("bench: %s: %lu brackets\n", label, diff_count_brackets);
}

#define CALIBRATION_BRACKETS 1000

static void calibrate(void)
{
    count_start();
    for (int i = 0; i < CALIBRATION_BRACKETS; i++) {
        diff_count_on();
        diff_count_off();
    }
    count_end("calibration");
}

static void bench(const struct diff_backend *b)
{
    static const struct diff_app echo = {.echo = 1, .auto_close = 1};
    char label[64];
    memset(&R, 0, sizeof R);
    R.b = b;
    R.peer_isn = 1000;
    R.ip_id = 1;
    quiet_emit = 1;
    b->init(&echo, 0);
    b->listen(DIFF_LISTEN_PORT);
    lifecycle(41000); /* warm-up: first-use costs (allocations) */
    if (b->state(41000) >= 0)
        fprintf(stderr, "bench: %s did not close the warm-up connection\n", b->name);

    count_start();
    lifecycle(41001);
    snprintf(label, sizeof label, "%s lifecycle", b->name);
    count_end(label);
    if (b->state(41001) >= 0)
        fprintf(stderr, "bench: %s did not close the measured connection\n", b->name);

    /* Data segments of 1460 bytes into a connection, app consuming. */
    static const struct diff_app sink = {0};
    b->init(&sink, 0);
    b->listen(DIFF_LISTEN_PORT);
    memset(R.conn, 0, sizeof R.conn);
    bench_in(S, 0, 0, 0, 41002);
    bench_in(A, 1, 1, 0, 41002);
    bench_in(A, 1, 1, 1460, 41002); /* warm-up */
    bench_in(A, 1461, 1, 1460, 41002);
    count_start();
    for (int i = 2; i < BENCH_SEGS + 2; i++)
        bench_in(A, 1 + 1460 * i, 1, 1460, 41002);
    snprintf(label, sizeof label, "%s %d data segments", b->name, BENCH_SEGS);
    count_end(label);
    if (b->state(41002) != DS_ESTABLISHED)
        fprintf(stderr, "bench: %s left ESTABLISHED during the data segments\n", b->name);
    quiet_emit = 0;
    if (R.errors[0])
        fprintf(stderr, "bench: %s: %s\n", b->name, R.errors);
}

int main(int argc, char **argv)
{
    const char *only = NULL;
    int nofork = 0, bench_mode = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--diffs") && i + 1 < argc)
            diffs_path = argv[++i];
        else if (!strcmp(argv[i], "--only") && i + 1 < argc)
            only = argv[++i];
        else if (!strcmp(argv[i], "--no-fork"))
            nofork = 1;
        else if (!strcmp(argv[i], "-v"))
            verbose = 1;
        else if (!strcmp(argv[i], "--table"))
            print_table = 1;
        else if (!strcmp(argv[i], "--bench"))
            bench_mode = 1;
        else if (!strcmp(argv[i], "--list")) {
            for (size_t k = 0; k < diff_nscenarios; k++)
                printf("%-34s %s\n", diff_scenarios[k].name, diff_scenarios[k].what);
            return 0;
        } else {
            fprintf(stderr, "usage: %s [--diffs FILE] [--only NAME] [--no-fork] [-v] [--table] "
                            "[--list] | --bench\n", argv[0]);
            return 2;
        }
    }
    if (bench_mode) {
        printf("bench: %d data segments of 1460 bytes per data run\n", BENCH_SEGS);
        printf("bench: %d calibration brackets\n", CALIBRATION_BRACKETS);
        calibrate();
        bench(&diff_ours);
        bench(&diff_lwip);
        return 0;
    }
    if (load_known() < 0)
        return 2;
    wild_used = tmpfile();
    int passed = 0, failed = check_table_names();
    for (size_t i = 0; i < diff_nscenarios; i++) {
        const struct diff_scenario *sc = &diff_scenarios[i];
        if (only && strcmp(only, sc->name))
            continue;
        if (nsteps_of(sc) >= MAXSTEPS) {
            printf("FAIL %s: more than %d steps\n", sc->name, MAXSTEPS - 1);
            failed++;
            continue;
        }
        int bad;
        if (nofork) {
            bad = run_scenario(sc);
        } else {
            fflush(stdout);
            pid_t pid = fork();
            if (pid < 0) {
                perror("fork");
                return 2;
            }
            if (pid == 0)
                _exit(run_scenario(sc) ? 1 : 0);
            int status;
            while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
            bad = !WIFEXITED(status) || WEXITSTATUS(status) != 0;
            if (WIFSIGNALED(status))
                printf("FAIL %s: killed by signal %d\n", sc->name, WTERMSIG(status));
        }
        if (bad)
            failed++;
        else
            passed++;
    }
    /* A "*" row that matched no step in a full run is stale. */
    if (!only && wild_used) {
        int *hit = calloc((size_t)nknown + 1, sizeof *hit), k;
        rewind(wild_used);
        while (fscanf(wild_used, "%d", &k) == 1)
            if (k >= 0 && k < nknown)
                hit[k] = 1;
        for (k = 0; k < nknown; k++)
            if (!strcmp(known[k].scenario, "*") && !hit[k]) {
                printf("FAIL difference-table: %s:%d: stale row (matches no step of any "
                       "scenario)\n", diffs_path, known[k].line);
                failed++;
            }
        free(hit);
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
