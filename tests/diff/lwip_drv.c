/* Backend: lwIP 2.1.3 as packaged by Debian (liblwip, pkg-config lwip).
 *
 * lwIP runs synchronously in this thread: lwip_init() and no tcpip thread,
 * so nothing runs behind our back. A netif with ip_input as input and an
 * output callback carries IPv4 packets in and out; netif->input processes
 * an injected packet completely before it returns. Time is virtual:
 * sys_now() below returns our clock, and tcp_tmr() runs at every multiple
 * of TCP_TMR_INTERVAL (250 ms) of it. The ISN comes from tcp_next_iss()
 * below. The library calls both through its PLT, so these definitions
 * take precedence; each SYN it sends is checked against the ISNs handed
 * out, in case a future build binds them internally. */
#include <stdlib.h>
#include <string.h>

#include "lwip/init.h"
#include "lwip/ip.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/sys.h"
#include "lwip/tcp.h"

#include "diff.h"

static uint32_t lw_now;
static unsigned long tmr_calls; /* tcp_tmr() runs tcp_slowtmr() on every second call */
static struct netif nif;
static int inited, quiet;
static struct diff_app app;

/* --- the hooks the library calls through its PLT --- */

u32_t sys_now(void) { return lw_now; }

#define MAX_ISS 16
static uint32_t isn_next, issued[MAX_ISS];
static int nissued;

u32_t tcp_next_iss(struct tcp_pcb *pcb)
{
    (void)pcb;
    uint32_t isn = isn_next;
    isn_next += 0x01000000u; /* a later connection: far from the first */
    if (nissued < MAX_ISS)
        issued[nissued++] = isn;
    return isn;
}

/* --- application state, by the peer's port --- */

#define NAPP 8
#define BACKLOG 8192
static struct lw_app {
    uint16_t port;        /* 0: free */
    uint8_t out[BACKLOG]; /* bytes the app wants to send not yet taken by tcp_write */
    size_t out_len;
    size_t held;          /* received, not yet tcp_recved (hold mode) */
    int close_pending;
    int tx_shut;          /* we have sent (queued) our FIN */
    uint32_t sent_total;
} apps[NAPP];

static struct lw_app *app_of(uint16_t port, int make)
{
    for (int i = 0; i < NAPP; i++)
        if (apps[i].port == port)
            return &apps[i];
    if (!make)
        return NULL;
    for (int i = 0; i < NAPP; i++)
        if (!apps[i].port) {
            memset(&apps[i], 0, sizeof apps[i]);
            apps[i].port = port;
            return &apps[i];
        }
    diff_error("lwIP: no application slot");
    return NULL;
}

static struct tcp_pcb *pcb_of(uint16_t peer_port)
{
    for (struct tcp_pcb *p = tcp_active_pcbs; p; p = p->next)
        if (p->remote_port == peer_port && ip_2_ip4(&p->remote_ip)->addr == PP_HTONL(DIFF_PEER_IP))
            return p;
    for (struct tcp_pcb *p = tcp_tw_pcbs; p; p = p->next)
        if (p->remote_port == peer_port && ip_2_ip4(&p->remote_ip)->addr == PP_HTONL(DIFF_PEER_IP))
            return p;
    return NULL;
}

/* --- netif --- */

static err_t lw_output(struct netif *n, struct pbuf *p, const ip4_addr_t *dst)
{
    (void)n;
    (void)dst;
    int was = diff_count_pause();
    static uint8_t buf[2048];
    if (!quiet && p->tot_len <= sizeof buf) {
        u16_t len = pbuf_copy_partial(p, buf, p->tot_len, 0);
        /* SYNs must carry an ISN we handed out (see the file comment). */
        size_t ihl = (size_t)(buf[0] & 15) * 4;
        if (len >= ihl + 20 && buf[9] == 6 && (buf[ihl + 13] & DF_SYN)) {
            uint32_t seq = (uint32_t)buf[ihl + 4] << 24 | (uint32_t)buf[ihl + 5] << 16 |
                           (uint32_t)buf[ihl + 6] << 8 | buf[ihl + 7];
            /* lwIP 2.1.3 puts ISS - 1 on an active open's SYN (tcp_connect sets
             * snd_lbb = iss - 1 and the SYN takes its number from snd_lbb),
             * ISS itself on a SYN,ACK (tcp_listen_input). */
            uint32_t off = (buf[ihl + 13] & DF_ACK) ? 0 : 1;
            int ok = 0;
            for (int i = 0; i < nissued; i++)
                ok |= issued[i] - off == seq;
            if (!ok)
                diff_error("lwIP: SYN with ISN %08x, not one tcp_next_iss() gave: the library "
                           "no longer calls ours", seq);
        }
        diff_emit(buf, len);
    }
    diff_count_resume(was);
    return ERR_OK;
}

#if LWIP_IPV6
static err_t lw_output6(struct netif *n, struct pbuf *p, const ip6_addr_t *dst)
{
    (void)n;
    (void)p;
    (void)dst;
    return ERR_OK;
}
#endif

static err_t lw_netif_init(struct netif *n)
{
    n->name[0] = 'd';
    n->name[1] = 'f';
    n->output = lw_output;
#if LWIP_IPV6
    n->output_ip6 = lw_output6;
#endif
    n->mtu = 1500;
    return ERR_OK;
}

/* --- application callbacks --- */

static void do_close(struct tcp_pcb *pcb, struct lw_app *a);

static void flush(struct tcp_pcb *pcb, struct lw_app *a)
{
    while (a->out_len) {
        size_t n = a->out_len;
        if (n > tcp_sndbuf(pcb))
            n = tcp_sndbuf(pcb);
        if (n > 0xFFFF)
            n = 0xFFFF;
        if (!n)
            break;
        diff_count_on();
        err_t e = tcp_write(pcb, a->out, (u16_t)n, TCP_WRITE_FLAG_COPY);
        diff_count_off();
        if (e != ERR_OK)
            break;
        memmove(a->out, a->out + n, a->out_len - n);
        a->out_len -= n;
    }
    if (!a->out_len && a->close_pending) {
        a->close_pending = 0;
        do_close(pcb, a);
        return;
    }
    diff_count_on();
    tcp_output(pcb);
    diff_count_off();
}

static void app_queue(struct tcp_pcb *pcb, struct lw_app *a, const uint8_t *d, size_t n)
{
    if (a->out_len + n > BACKLOG) {
        diff_error("lwIP: application backlog full");
        n = BACKLOG - a->out_len;
    }
    memcpy(a->out + a->out_len, d, n);
    a->out_len += n;
    flush(pcb, a);
}

/* Our tcp_close is a half close: FIN after the data, and data from the
 * peer is still taken. lwIP's equivalent is tcp_shutdown(pcb, 0, 1);
 * tcp_close() would also shut the receive side and answer later data with
 * RST. Once the peer's FIN has arrived as well the application releases
 * the pcb with tcp_close(), as lwIP applications do. */
static void do_close(struct tcp_pcb *pcb, struct lw_app *a)
{
    diff_count_on();
    if (pcb->state == SYN_SENT) {
        tcp_close(pcb);
    } else if (pcb->state == SYN_RCVD || pcb->state == ESTABLISHED || pcb->state == CLOSE_WAIT) {
        tcp_shutdown(pcb, 0, 1);
        a->tx_shut = 1;
    }
    diff_count_off();
}

static err_t cb_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
    struct lw_app *a = arg;
    (void)err;
    int was = diff_count_pause();
    if (!p) { /* the peer's FIN */
        if (a && a->tx_shut) {
            diff_count_on();
            tcp_close(pcb); /* both sides done: release the pcb */
            diff_count_off();
        } else if (a && app.auto_close) {
            a->close_pending = 1;
            flush(pcb, a);
        }
        diff_count_resume(was);
        return ERR_OK;
    }
    u16_t n = p->tot_len;
    static uint8_t buf[65536];
    pbuf_copy_partial(p, buf, n, 0);
    diff_count_on();
    pbuf_free(p);
    diff_count_off();
    if (a && app.echo)
        app_queue(pcb, a, buf, n);
    if (a && app.hold) {
        a->held += n;
    } else {
        diff_count_on();
        tcp_recved(pcb, n);
        diff_count_off();
    }
    diff_count_resume(was);
    return ERR_OK;
}

static err_t cb_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
    (void)len;
    int was = diff_count_pause();
    if (arg)
        flush(pcb, arg);
    diff_count_resume(was);
    return ERR_OK;
}

static void cb_err(void *arg, err_t err)
{
    (void)arg;
    (void)err; /* the pcb is gone; we look pcbs up by port, never keep one */
}

static void set_callbacks(struct tcp_pcb *pcb, struct lw_app *a)
{
    tcp_arg(pcb, a);
    tcp_recv(pcb, cb_recv);
    tcp_sent(pcb, cb_sent);
    tcp_err(pcb, cb_err);
}

static err_t cb_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
    (void)arg;
    if (err != ERR_OK || !pcb)
        return ERR_VAL;
    int was = diff_count_pause();
    struct lw_app *a = app_of(pcb->remote_port, 1);
    if (a) {
        uint16_t port = a->port;
        memset(a, 0, sizeof *a);
        a->port = port;
    }
    diff_count_resume(was);
    set_callbacks(pcb, a);
    return ERR_OK;
}

static err_t cb_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
    (void)err;
    int was = diff_count_pause();
    if (arg)
        flush(pcb, arg);
    diff_count_resume(was);
    return ERR_OK;
}

/* --- the backend --- */

static void reset(void)
{
    quiet = 1;
    while (tcp_active_pcbs)
        tcp_abort(tcp_active_pcbs);
    while (tcp_tw_pcbs)
        tcp_abort(tcp_tw_pcbs);
    while (tcp_listen_pcbs.listen_pcbs)
        tcp_close((struct tcp_pcb *)tcp_listen_pcbs.listen_pcbs);
    while (tcp_bound_pcbs)
        tcp_close(tcp_bound_pcbs);
    /* Same slow-timer phase as a fresh lwip_init(): an even number of
     * tcp_tmr() calls so far (the stack is empty: nothing else happens). */
    if (tmr_calls & 1) {
        tcp_tmr();
        tmr_calls++;
    }
    quiet = 0;
}

static void l_init(const struct diff_app *a, uint32_t stack_isn)
{
    app = *a;
    memset(apps, 0, sizeof apps);
    nissued = 0;
    isn_next = stack_isn ? stack_isn : 0x10000000u;
    if (!inited) {
        inited = 1;
        srand(1); /* lwIP draws its first local port from rand() */
        lwip_init();
        ip4_addr_t ip, mask, gw;
        IP4_ADDR(&ip, 192, 168, 7, 2);
        IP4_ADDR(&mask, 255, 255, 255, 0);
        IP4_ADDR(&gw, 0, 0, 0, 0);
        if (!netif_add(&nif, &ip, &mask, &gw, NULL, lw_netif_init, ip_input))
            diff_error("lwIP: netif_add failed");
        netif_set_default(&nif);
        netif_set_up(&nif);
        netif_set_link_up(&nif);
        /* Let lwIP's tick count leave 0 first: it takes pcb->rttest == 0 to
         * mean "no RTT measurement running", so a segment timed at tick 0
         * would never give a sample, which no running system sees. */
        tcp_tmr();
        tcp_tmr();
        tmr_calls += 2;
    } else {
        reset();
    }
    lw_now = 0;
}

static void l_input(const uint8_t *ip, size_t len)
{
    diff_count_on();
    struct pbuf *p = pbuf_alloc(PBUF_RAW, (u16_t)len, PBUF_RAM);
    diff_count_off();
    if (!p) {
        diff_error("lwIP: pbuf_alloc failed");
        return;
    }
    pbuf_take(p, ip, (u16_t)len); /* the NIC's DMA: not counted */
    diff_count_on();
    nif.input(p, &nif);
    diff_count_off();
}

static void l_tick(void)
{
    lw_now++;
    if (lw_now % TCP_TMR_INTERVAL == 0) {
        diff_count_on();
        tcp_tmr();
        diff_count_off();
        tmr_calls++;
    }
}

static void l_listen(uint16_t port)
{
    struct tcp_pcb *pcb = tcp_new();
    if (!pcb || tcp_bind(pcb, IP4_ADDR_ANY, port) != ERR_OK) {
        diff_error("lwIP: tcp_new/tcp_bind failed");
        return;
    }
    struct tcp_pcb *l = tcp_listen(pcb);
    if (!l) {
        diff_error("lwIP: tcp_listen failed");
        return;
    }
    tcp_accept(l, cb_accept);
}

static void l_connect(uint16_t peer_port)
{
    struct lw_app *a = app_of(peer_port, 1);
    if (!a)
        return;
    memset(a, 0, sizeof *a);
    a->port = peer_port;
    diff_count_on();
    struct tcp_pcb *pcb = tcp_new();
    diff_count_off();
    if (!pcb) {
        diff_error("lwIP: tcp_new failed");
        return;
    }
    set_callbacks(pcb, a);
    ip_addr_t peer = IPADDR4_INIT_BYTES(192, 168, 7, 1);
    diff_count_on();
    err_t e = tcp_connect(pcb, &peer, peer_port, cb_connected);
    diff_count_off();
    if (e != ERR_OK)
        diff_error("lwIP: tcp_connect: %d", e);
}

static void l_send(uint16_t peer_port, size_t n)
{
    struct tcp_pcb *pcb = pcb_of(peer_port);
    struct lw_app *a = app_of(peer_port, 0);
    if (!pcb || !a)
        return;
    uint8_t buf[BACKLOG];
    if (n > sizeof buf)
        n = sizeof buf;
    for (size_t i = 0; i < n; i++)
        buf[i] = diff_byte(a->sent_total + (uint32_t)i);
    a->sent_total += (uint32_t)n;
    app_queue(pcb, a, buf, n);
}

static void l_close(uint16_t peer_port)
{
    struct tcp_pcb *pcb = pcb_of(peer_port);
    struct lw_app *a = app_of(peer_port, 0);
    if (!pcb || !a)
        return;
    a->close_pending = 1;
    flush(pcb, a);
}

static void l_abort(uint16_t peer_port)
{
    struct tcp_pcb *pcb = pcb_of(peer_port);
    if (!pcb)
        return;
    diff_count_on();
    tcp_abort(pcb);
    diff_count_off();
}

static void l_read(uint16_t peer_port, size_t n)
{
    struct tcp_pcb *pcb = pcb_of(peer_port);
    struct lw_app *a = app_of(peer_port, 0);
    if (!pcb || !a)
        return;
    if (n > a->held)
        n = a->held;
    a->held -= n;
    while (n) { /* tcp_recved takes a u16_t */
        u16_t k = n > 0xFFFF ? 0xFFFF : (u16_t)n;
        diff_count_on();
        tcp_recved(pcb, k);
        diff_count_off();
        n -= k;
    }
}

static int l_state(uint16_t peer_port)
{
    struct tcp_pcb *pcb = pcb_of(peer_port);
    return pcb ? (int)pcb->state : -1;
}

static int l_listening(void) { return tcp_listen_pcbs.listen_pcbs != NULL; }

const struct diff_backend diff_lwip = {
    "lwIP", l_init, l_input, l_tick, l_listen, l_connect, l_send, l_close, l_abort, l_read,
    l_state, l_listening,
};
