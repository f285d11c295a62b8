/* Checks docs/tcp-states.md against the stack: every row of the table is
 * driven as a scenario (From state, Event) and must end in the To state
 * having last sent the listed flags. Run from the repository root. */
#include <stdio.h>
#include <string.h>

#include "tcp_harness.h"

#define A TH_ACK
#define S TH_SYN
#define F TH_FIN
#define R TH_RST

struct row {
    char from[16], event[24], to[16], sends[12];
    int line;
};

static struct row rows[80];
static int nrows;

static void trim(char *s)
{
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\n'))
        s[--n] = 0;
    size_t i = 0;
    while (s[i] == ' ')
        i++;
    memmove(s, s + i, strlen(s + i) + 1);
}

static int load_table(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char line[512];
    int in = 0, ln = 0;
    while (fgets(line, sizeof line, f)) {
        ln++;
        if (strstr(line, "state-table:begin")) {
            in = 1;
            continue;
        }
        if (strstr(line, "state-table:end"))
            break;
        if (!in || line[0] != '|' || strstr(line, "---") || strstr(line, "| From"))
            continue;
        char *cols[5] = {0};
        char *p = line + 1;
        for (int i = 0; i < 5 && p; i++) {
            cols[i] = p;
            p = strchr(p, '|');
            if (p)
                *p++ = 0;
        }
        if (!cols[3] || nrows >= 80)
            continue;
        struct row *r = &rows[nrows++];
        snprintf(r->from, sizeof r->from, "%s", cols[0]);
        snprintf(r->event, sizeof r->event, "%s", cols[1]);
        snprintf(r->to, sizeof r->to, "%s", cols[2]);
        snprintf(r->sends, sizeof r->sends, "%s", cols[3]);
        trim(r->from);
        trim(r->event);
        trim(r->to);
        trim(r->sends);
        r->line = ln;
    }
    fclose(f);
    return nrows;
}

/* The one connection of the scenario (-1: none). */
static int live_conn(void)
{
    for (int i = 0; i < TCP_MAX_CONNS; i++)
        if (th_state(i) != TCP_CLOSED)
            return i;
    return -1;
}

static void drain(void)
{
    while (th_pending())
        th_take();
}

/* Bring a fresh stack to the row's From state; returns the connection id. */
static int enter(const char *from)
{
    uint32_t iss;
    int id = -1;
    if (!strcmp(from, "CLOSED")) {
        th_setup_no_listen();
        return -1;
    }
    th_setup();
    if (!strcmp(from, "LISTEN"))
        return -1;
    if (!strcmp(from, "SYN-SENT")) {
        id = tcp_connect(&th_stack, TH_PEER_IP, TH_PEER_PORT, &th_tcp_app);
        th_our_port = th_take().sport;
        return id;
    }
    if (!strcmp(from, "SYN-RECEIVED")) {
        th_send_syn_mss(1000, 1460);
        drain();
        return 0;
    }
    id = th_open_passive(1000, &iss);
    if (!strcmp(from, "ESTABLISHED"))
        return id;
    if (!strcmp(from, "CLOSE-WAIT") || !strcmp(from, "LAST-ACK")) {
        th_send(F | A, 1001, iss + 1, NULL, 0);
        if (!strcmp(from, "LAST-ACK"))
            tcp_close(&th_stack, id);
        drain();
        return id;
    }
    tcp_close(&th_stack, id); /* FIN-WAIT-1 */
    if (!strcmp(from, "CLOSING"))
        th_send(F | A, 1001, iss + 1, NULL, 0);
    if (!strcmp(from, "FIN-WAIT-2") || !strcmp(from, "TIME-WAIT"))
        th_send(A, 1001, iss + 2, NULL, 0);
    if (!strcmp(from, "TIME-WAIT"))
        th_send(F | A, 1001, iss + 2, NULL, 0);
    drain();
    return id;
}

static void apply(const char *ev, int id)
{
    struct tcp_conn c = {.rcv_nxt = 1000, .snd_nxt = 777, .snd_una = 777};
    if (id >= 0)
        c = th_stack.conn[id];
    int st = id >= 0 ? th_state(id) : TCP_CLOSED;
    if (!strcmp(ev, "connect")) {
        tcp_connect(&th_stack, TH_PEER_IP, TH_PEER_PORT, &th_tcp_app);
    } else if (!strcmp(ev, "close")) {
        tcp_close(&th_stack, id);
    } else if (!strcmp(ev, "abort")) {
        tcp_abort(&th_stack, id);
    } else if (!strcmp(ev, "timeout")) {
        if (st == TCP_ESTABLISHED)
            tcp_send(&th_stack, id, "x", 1);
        th_advance(700000);
    } else if (!strcmp(ev, "rcv SYN")) {
        if (id < 0 || st == TCP_SYN_RECEIVED)
            th_send_syn_mss(1000, 1460);
        else if (st == TCP_SYN_SENT)
            th_send(S, 7000, 0, NULL, 0);
        else if (st == TCP_TIME_WAIT)
            th_send_syn_mss(c.rcv_nxt + 100000, 1460);
        else
            th_send(S, c.rcv_nxt + 10, 0, NULL, 0);
    } else if (!strcmp(ev, "rcv old SYN")) {
        th_send_syn_mss(c.rcv_nxt - 500, 1460);
    } else if (!strcmp(ev, "rcv SYN,ACK")) {
        th_send(S | A, 5000, c.snd_nxt, NULL, 0);
    } else if (!strcmp(ev, "rcv ACK")) {
        th_send(A, c.rcv_nxt, c.snd_nxt, NULL, 0);
    } else if (!strcmp(ev, "rcv FIN")) {
        th_send(F | A, c.rcv_nxt, c.snd_una, NULL, 0);
    } else if (!strcmp(ev, "rcv FIN,ACK")) {
        th_send(F | A, c.rcv_nxt, c.snd_nxt, NULL, 0);
    } else if (!strcmp(ev, "rcv old FIN")) {
        th_send(F | A, c.rcv_nxt - 1, c.snd_nxt, NULL, 0);
    } else if (!strcmp(ev, "rcv RST")) {
        th_send(R, c.rcv_nxt, 0, NULL, 0);
    } else if (!strcmp(ev, "rcv RST,ACK")) {
        th_send(R | A, 0, c.snd_nxt, NULL, 0);
    } else if (!strcmp(ev, "rcv RST in window")) {
        th_send(R, c.rcv_nxt + 100, 0, NULL, 0);
    } else {
        fail_msg("unknown event '%s' in docs/tcp-states.md", ev);
    }
}

static const char *flags_name(int f)
{
    switch (f & ~TH_PSH) {
    case S: return "SYN";
    case S | A: return "SYN,ACK";
    case A: return "ACK";
    case F | A: return "FIN,ACK";
    case R: return "RST";
    case R | A: return "RST,ACK";
    default: return "?";
    }
}

static void table_rows_hold(void **st)
{
    (void)st;
    assert_true(load_table("docs/tcp-states.md") >= 40);
    int failed = 0;
    for (int i = 0; i < nrows; i++) {
        struct row *r = &rows[i];
        int id = enter(r->from);
        apply(r->event, id);
        const char *sent = "-";
        while (th_pending())
            sent = flags_name(th_take().flags);
        int live = live_conn();
        const char *got;
        if (live >= 0)
            got = tcp_state_name(tcp_get_state(&th_stack, live));
        else if (th_stack.lst[0].port == TH_PORT && !strcmp(r->to, "LISTEN"))
            got = "LISTEN";
        else
            got = "CLOSED";
        if (strcmp(got, r->to) || strcmp(sent, r->sends)) {
            printf("docs/tcp-states.md:%d: %s + %s: expected %s sending %s, got %s sending %s\n",
                   r->line, r->from, r->event, r->to, r->sends, got, sent);
            failed++;
        }
    }
    printf("state table: %d rows, %d failed\n", nrows, failed);
    assert_int_equal(failed, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(table_rows_hold)};
    return cmocka_run_group_tests_name("state table", tests, NULL, NULL);
}
