/* loadgen: the host side of `make bench` (tools/bench.py), one mode a run.
 *
 *   loadgen connrate  [-c PARALLEL] [-t S] [-n CONNS]   open, 1 byte echoed, close
 *                     (our FIN first, then read to the firmware's FIN); PARALLEL
 *                     threads, one connection each at a time. Each leaves a
 *                     TIME-WAIT socket here: cap them in the namespace
 *                     (net.ipv4.tcp_max_tw_buckets, as tools/bench.py does) or
 *                     connect()'s port search soon sets the rate, not the firmware
 *   loadgen echo-rtt  [-s SIZE] [-i US] [--icmp] [-t S] [-n MSGS]
 *                     one connection; SIZE-byte messages, each echoed before
 *                     the next; --icmp interleaves an ICMP echo of the same
 *                     payload size (raw socket: root) so both are sampled
 *                     alternately under the same conditions
 *   loadgen discard   [-t S] [-n BYTES]   bulk into port 9, then FIN; timed
 *                     up to the firmware's FIN (all data acknowledged)
 *   loadgen chargen   [-t S] [-n BYTES]   bulk out of port 19, pattern checked
 *   loadgen echo-bulk [-t S] [-n BYTES] [--late-fin]
 *                     BYTES (default 100 KiB) through port 7 and back, checked;
 *                     our FIN goes as soon as all is queued (as `nc -N`), or
 *                     with --late-fin only once everything came back
 *
 * Common: -a ADDR (192.168.7.2), -p PORT (the mode's service), -q (no
 * progress). Every run is bounded: it stops starting work at -t seconds
 * (default 10) or at -n, whichever comes first, and gives up on anything
 * still in flight OP_TIMEOUT_S later. Progress goes to stderr once a second;
 * the result is one JSON object on stdout. Exit status: 0 when the
 * measurement completed (errors are counted in the JSON), 1 when it could
 * not be made (nothing completed, connection broken, data corrupted), 2 on
 * bad usage. Run it where 192.168.7.2 is reachable: inside the namespace of
 * tools/netns.sh with the firmware up. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/tcp.h>

#define OP_TIMEOUT_S 5.0      /* one connect/echo/close step, at most */
#define MAX_PARALLEL 64
#define MAX_SECONDS 3600.0
#define BULK_CHUNK 65536

struct opts {
    const char *mode;
    struct sockaddr_in addr;
    int port;
    double seconds;
    long long count;    /* 0: no count limit */
    int parallel;
    int size;
    int interval_us;
    int icmp;
    int late_fin;
    int quiet;
};

static struct opts o;
static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
    (void)sig;
    stopping = 1;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void progress(const char *fmt, ...)
{
    if (o.quiet)
        return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "loadgen %s: ", o.mode);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "loadgen %s: error: ", o.mode ? o.mode : "");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

/* --- samples and percentiles (microseconds) --- */

struct samples {
    double *v;
    size_t n, cap;
};

static void add_sample(struct samples *s, double us)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 1024;
        double *v = realloc(s->v, cap * sizeof *v);
        if (!v)
            die("out of memory");
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n++] = us;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Nearest-rank percentile of sorted samples. */
static double pct(const struct samples *s, double p)
{
    if (!s->n)
        return 0;
    size_t k = (size_t)(p / 100.0 * (double)s->n + 0.999999);
    if (k < 1)
        k = 1;
    if (k > s->n)
        k = s->n;
    return s->v[k - 1];
}

/* "name":{"n":..,"min":..,"p50":..,"p90":..,"p99":..,"max":..,"mean":..} */
static void print_stats(const char *name, struct samples *s)
{
    double sum = 0;
    qsort(s->v, s->n, sizeof *s->v, cmp_double);
    for (size_t i = 0; i < s->n; i++)
        sum += s->v[i];
    printf("\"%s\":{\"n\":%zu,\"min\":%.1f,\"p50\":%.1f,\"p90\":%.1f,\"p99\":%.1f,"
           "\"max\":%.1f,\"mean\":%.1f}",
           name, s->n, s->n ? s->v[0] : 0.0, pct(s, 50), pct(s, 90), pct(s, 99),
           s->n ? s->v[s->n - 1] : 0.0, s->n ? sum / (double)s->n : 0.0);
}

/* --- bounded socket helpers (non-blocking sockets, poll with deadlines) --- */

/* 1: ready, 0: deadline passed, -1: error (errno) */
static int wait_fd(int fd, short events, double deadline)
{
    for (;;) {
        double left = deadline - now();
        if (left <= 0)
            return 0;
        struct pollfd p = { .fd = fd, .events = events };
        int ms = left > 1.0 ? 1000 : (int)(left * 1000.0) + 1;
        int r = poll(&p, 1, ms);
        if (r > 0)
            return 1;
        if (r < 0 && errno != EINTR)
            return -1;
    }
}

/* Connected non-blocking TCP socket, or -errno (-ETIMEDOUT at the deadline). */
static int tcp_open(double deadline, int nodelay)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    int one = 1;
    if (nodelay)
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct sockaddr_in a = o.addr;
    a.sin_port = htons((uint16_t)o.port);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0 && errno != EINPROGRESS) {
        int e = errno;
        close(fd);
        return -e;
    }
    int r = wait_fd(fd, POLLOUT, deadline);
    int err = 0;
    socklen_t len = sizeof err;
    if (r == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0)
        return fd;
    close(fd);
    return r == 0 ? -ETIMEDOUT : -(err ? err : errno);
}

/* 0, or -errno (-ETIMEDOUT) */
static int send_all(int fd, const uint8_t *p, size_t n, double deadline)
{
    while (n) {
        ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
        if (k > 0) {
            p += k, n -= (size_t)k;
            continue;
        }
        if (k < 0 && errno != EAGAIN && errno != EINTR)
            return -errno;
        int r = wait_fd(fd, POLLOUT, deadline);
        if (r <= 0)
            return r ? -errno : -ETIMEDOUT;
    }
    return 0;
}

/* 0, -EPIPE on an early EOF, or -errno (-ETIMEDOUT) */
static int recv_exact(int fd, uint8_t *p, size_t n, double deadline)
{
    while (n) {
        ssize_t k = recv(fd, p, n, 0);
        if (k > 0) {
            p += k, n -= (size_t)k;
            continue;
        }
        if (k == 0)
            return -EPIPE;
        if (errno != EAGAIN && errno != EINTR)
            return -errno;
        int r = wait_fd(fd, POLLIN, deadline);
        if (r <= 0)
            return r ? -errno : -ETIMEDOUT;
    }
    return 0;
}

/* Read until the peer's FIN. Returns bytes read before it (>= 0) or -errno. */
static long long recv_eof(int fd, double deadline)
{
    uint8_t buf[4096];
    long long extra = 0;
    for (;;) {
        ssize_t k = recv(fd, buf, sizeof buf, 0);
        if (k == 0)
            return extra;
        if (k > 0) {
            extra += k;
            continue;
        }
        if (errno != EAGAIN && errno != EINTR)
            return -errno;
        int r = wait_fd(fd, POLLIN, deadline);
        if (r <= 0)
            return r ? -errno : -ETIMEDOUT;
    }
}

static int get_tcp_info(int fd, struct tcp_info *ti)
{
    socklen_t len = sizeof *ti;
    memset(ti, 0, sizeof *ti);
    return getsockopt(fd, IPPROTO_TCP, TCP_INFO, ti, &len);
}

static void print_tcp_info(const struct tcp_info *ti)
{
    printf("\"tcp_info\":{\"snd_mss\":%u,\"rcv_mss\":%u,\"data_segs_out\":%u,"
           "\"data_segs_in\":%u,\"segs_out\":%u,\"segs_in\":%u,\"total_retrans\":%u,"
           "\"min_rtt_us\":%u,\"busy_us\":%llu,\"rwnd_limited_us\":%llu,"
           "\"sndbuf_limited_us\":%llu,\"snd_wnd\":%u}",
           ti->tcpi_snd_mss, ti->tcpi_rcv_mss, ti->tcpi_data_segs_out, ti->tcpi_data_segs_in,
           ti->tcpi_segs_out, ti->tcpi_segs_in, ti->tcpi_total_retrans, ti->tcpi_min_rtt,
           (unsigned long long)ti->tcpi_busy_time, (unsigned long long)ti->tcpi_rwnd_limited,
           (unsigned long long)ti->tcpi_sndbuf_limited, ti->tcpi_snd_wnd);
}

/* The bulk modes' byte stream: byte p is pattern(p % PERIOD), sent from a
 * table of PERIOD + BULK_CHUNK bytes (echo-bulk checks what comes back). */
#define PERIOD 4096
static uint8_t pattern(uint64_t i)
{
    return (uint8_t)(i ^ (i >> 8) ^ (i >> 16) ^ 0x5a);
}
static uint8_t stream_tab[PERIOD + BULK_CHUNK];
static void stream_init(void)
{
    for (size_t k = 0; k < sizeof stream_tab; k++)
        stream_tab[k] = pattern(k % PERIOD);
}

/* --- connrate --- */

enum cerr {
    E_CONNECT_TIMEOUT, E_REFUSED, E_UNREACH, E_PORTS, E_RESET, E_TIMEOUT, E_DATA, E_OTHER, E_N
};
static const char *const cerr_name[E_N] = { "connect_timeout", "refused", "unreachable",
                                            "no_local_port", "reset", "timeout", "bad_data",
                                            "other" };

struct worker {
    pthread_t th;
    double start, end, hard_end;
    long long done;
    long long err[E_N];
    struct samples lat;
};

static pthread_mutex_t cr_lock = PTHREAD_MUTEX_INITIALIZER;
static long long cr_started, cr_done, cr_errors;

static enum cerr classify(int e, int connecting)
{
    if (e == -ETIMEDOUT)
        return connecting ? E_CONNECT_TIMEOUT : E_TIMEOUT;
    if (e == -ECONNREFUSED)
        return E_REFUSED;
    if (e == -EHOSTUNREACH || e == -ENETUNREACH)
        return E_UNREACH;
    if (e == -EADDRNOTAVAIL || e == -EADDRINUSE)
        return E_PORTS;
    if (e == -ECONNRESET || e == -EPIPE)
        return E_RESET;
    return E_OTHER;
}

static void *connrate_worker(void *arg)
{
    struct worker *w = arg;
    uint8_t seq = 0;
    while (!stopping && now() < w->end) {
        pthread_mutex_lock(&cr_lock);
        int go = !o.count || cr_started < o.count;
        if (go)
            cr_started++;
        pthread_mutex_unlock(&cr_lock);
        if (!go)
            break;
        double t0 = now();
        double dl = t0 + OP_TIMEOUT_S < w->hard_end ? t0 + OP_TIMEOUT_S : w->hard_end;
        int fd = tcp_open(dl, 1), e = 0, connecting = 1;
        if (fd < 0) {
            e = fd;
        } else {
            uint8_t b = (uint8_t)('a' + seq++ % 26), back = 0;
            connecting = 0;
            e = send_all(fd, &b, 1, dl);
            if (!e)
                e = recv_exact(fd, &back, 1, dl);
            if (!e && back != b)
                e = INT_MIN;
            if (!e && shutdown(fd, SHUT_WR) < 0)
                e = -errno;
            if (!e) {
                long long extra = recv_eof(fd, dl);
                e = extra < 0 ? (int)extra : extra > 0 ? INT_MIN : 0;
            }
            close(fd);
        }
        if (!e) {
            w->done++;
            add_sample(&w->lat, (now() - t0) * 1e6);
        } else {
            w->err[e == INT_MIN ? E_DATA : classify(e, connecting)]++;
            if (e == -EADDRNOTAVAIL) /* local ports all in TIME-WAIT: do not spin */
                usleep(10000);
        }
        pthread_mutex_lock(&cr_lock);
        if (e)
            cr_errors++;
        else
            cr_done++;
        pthread_mutex_unlock(&cr_lock);
    }
    return NULL;
}

static int mode_connrate(void)
{
    struct worker w[MAX_PARALLEL];
    double start = now();
    memset(w, 0, sizeof w);
    for (int i = 0; i < o.parallel; i++) {
        w[i].start = start;
        w[i].end = start + o.seconds;
        w[i].hard_end = w[i].end + OP_TIMEOUT_S;
        if (pthread_create(&w[i].th, NULL, connrate_worker, &w[i]) != 0)
            die("pthread_create failed");
    }
    /* Progress while the workers run; they end by themselves (bounded). */
    double next = start + 1;
    for (;;) {
        usleep(50000);
        pthread_mutex_lock(&cr_lock);
        long long started = cr_started, done = cr_done, errs = cr_errors;
        pthread_mutex_unlock(&cr_lock);
        if (done + errs >= started && (now() >= start + o.seconds || stopping ||
                                       (o.count && started >= o.count)))
            break;
        if (now() > start + o.seconds + OP_TIMEOUT_S + 2)
            break; /* cannot happen (workers are bounded); never hang here */
        if (now() >= next) {
            double t = now() - start;
            progress("%.0f s: %lld connections (%.0f/s), %lld errors", t, done,
                     (double)done / t, errs);
            next += 1;
        }
    }
    for (int i = 0; i < o.parallel; i++)
        pthread_join(w[i].th, NULL);
    double elapsed = now() - start;
    struct samples lat = { 0 };
    long long done = 0, err[E_N] = { 0 }, errs = 0;
    for (int i = 0; i < o.parallel; i++) {
        done += w[i].done;
        for (int k = 0; k < E_N; k++)
            err[k] += w[i].err[k], errs += w[i].err[k];
        for (size_t k = 0; k < w[i].lat.n; k++)
            add_sample(&lat, w[i].lat.v[k]);
        free(w[i].lat.v);
    }
    progress("%lld connections in %.2f s: %.1f/s, %lld errors", done, elapsed,
             (double)done / elapsed, errs);
    printf("{\"mode\":\"connrate\",\"parallel\":%d,\"connections\":%lld,\"seconds\":%.3f,"
           "\"per_s\":%.1f,\"errors\":%lld,\"error_kinds\":{",
           o.parallel, done, elapsed, (double)done / elapsed, errs);
    for (int k = 0; k < E_N; k++)
        printf("%s\"%s\":%lld", k ? "," : "", cerr_name[k], err[k]);
    printf("},");
    print_stats("lifecycle_us", &lat);
    printf("}\n");
    free(lat.v);
    return done > 0 ? 0 : 1;
}

/* --- echo-rtt (with ICMP interleaved) --- */

static uint16_t csum(const uint8_t *p, size_t n)
{
    uint32_t s = 0;
    for (size_t i = 0; i + 1 < n; i += 2)
        s += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (n & 1)
        s += (uint32_t)p[n - 1] << 8;
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint16_t)~s;
}

static int icmp_raw; /* 1: raw socket (IP header on receive), 0: ping socket */

static int icmp_open(void)
{
    int fd = socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMP);
    if (fd >= 0) {
        icmp_raw = 1;
        return fd;
    }
    fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMP);
    icmp_raw = 0;
    return fd;
}

/* One ICMP echo of `size` payload bytes. RTT in us, or -1 when no reply
 * came within 1 s (counted as lost). */
static double icmp_echo(int fd, uint16_t id, uint16_t seq, int size)
{
    uint8_t pkt[8 + 1472], buf[2048];
    memset(pkt, 0, 8);
    pkt[0] = 8;
    pkt[4] = (uint8_t)(id >> 8), pkt[5] = (uint8_t)id;
    pkt[6] = (uint8_t)(seq >> 8), pkt[7] = (uint8_t)seq;
    for (int i = 0; i < size; i++)
        pkt[8 + i] = (uint8_t)(seq + i);
    uint16_t c = csum(pkt, 8 + (size_t)size);
    pkt[2] = (uint8_t)(c >> 8), pkt[3] = (uint8_t)c;
    struct sockaddr_in a = o.addr;
    a.sin_port = 0;
    double t0 = now(), dl = t0 + 1.0;
    if (sendto(fd, pkt, 8 + (size_t)size, 0, (struct sockaddr *)&a, sizeof a) < 0)
        die("ICMP sendto: %s", strerror(errno));
    for (;;) {
        ssize_t k = recv(fd, buf, sizeof buf, 0);
        if (k < 0) {
            if (errno != EAGAIN && errno != EINTR)
                die("ICMP recv: %s", strerror(errno));
            if (wait_fd(fd, POLLIN, dl) <= 0)
                return -1;
            continue;
        }
        double t1 = now();
        size_t off = icmp_raw ? (size_t)(buf[0] & 15) * 4 : 0;
        if ((size_t)k < off + 8 || buf[off] != 0)
            continue;
        uint16_t rseq = (uint16_t)(buf[off + 6] << 8 | buf[off + 7]);
        uint16_t rid = (uint16_t)(buf[off + 4] << 8 | buf[off + 5]);
        if (rseq != seq || (icmp_raw && rid != id)) /* ping sockets rewrite the id */
            continue;
        if ((size_t)k - off - 8 != (size_t)size || memcmp(buf + off + 8, pkt + 8, (size_t)size))
            die("ICMP echo reply %u: wrong payload", seq);
        return (t1 - t0) * 1e6;
    }
}

static int mode_echo_rtt(void)
{
    if (o.size < 1 || o.size > 1460)
        die("-s must be 1..1460");
    double start = now(), end = start + o.seconds;
    int fd = tcp_open(start + OP_TIMEOUT_S, 1);
    if (fd < 0)
        die("connect: %s", strerror(-fd));
    int ifd = -1;
    if (o.icmp && (ifd = icmp_open()) < 0)
        die("no ICMP socket (raw needs root; ping sockets need net.ipv4.ping_group_range): %s",
            strerror(errno));
    uint8_t msg[1460], back[1460];
    struct samples tcp = { 0 }, icmp = { 0 };
    long long icmp_lost = 0, i;
    uint16_t id = (uint16_t)getpid();
    double next = start + 1;
    for (i = 0; !stopping && (!o.count || i < o.count) && now() < end; i++) {
        for (int half = 0; half < 2; half++) {
            if ((half ^ (int)(i & 1)) == 0) { /* alternate which goes first */
                for (int k = 0; k < o.size; k++)
                    msg[k] = pattern((uint64_t)(i * 131 + k));
                double t0 = now(), dl = t0 + OP_TIMEOUT_S;
                int e = send_all(fd, msg, (size_t)o.size, dl);
                if (!e)
                    e = recv_exact(fd, back, (size_t)o.size, dl);
                if (e)
                    die("echo message %lld: %s", i, strerror(-e));
                add_sample(&tcp, (now() - t0) * 1e6);
                if (memcmp(msg, back, (size_t)o.size))
                    die("echo message %lld came back different", i);
            } else if (ifd >= 0) {
                double us = icmp_echo(ifd, id, (uint16_t)i, o.size);
                if (us < 0)
                    icmp_lost++;
                else
                    add_sample(&icmp, us);
            }
        }
        if (o.interval_us)
            usleep((useconds_t)o.interval_us);
        if (now() >= next) {
            progress("%.0f s: %lld messages", now() - start, i + 1);
            next += 1;
        }
    }
    double elapsed = now() - start;
    /* Close: our FIN, then the firmware's after its echo of nothing more. */
    shutdown(fd, SHUT_WR);
    long long extra = recv_eof(fd, now() + OP_TIMEOUT_S);
    close(fd);
    if (ifd >= 0)
        close(ifd);
    printf("{\"mode\":\"echo-rtt\",\"size\":%d,\"messages\":%lld,\"seconds\":%.3f,"
           "\"interval_us\":%d,\"clean_close\":%s,",
           o.size, i, elapsed, o.interval_us, extra == 0 ? "true" : "false");
    print_stats("tcp_us", &tcp);
    if (o.icmp) {
        printf(",\"icmp_lost\":%lld,\"icmp_socket\":\"%s\",", icmp_lost,
               icmp_raw ? "raw" : "ping");
        print_stats("icmp_us", &icmp);
    }
    printf("}\n");
    progress("%lld messages in %.2f s: TCP p50 %.0f us%s", i, elapsed, pct(&tcp, 50),
             o.icmp ? ", see ICMP in the JSON" : "");
    free(tcp.v);
    free(icmp.v);
    return tcp.n ? 0 : 1;
}

/* --- discard, chargen, echo-bulk --- */

static long long bulk_limit(void)
{
    return o.count ? o.count : LLONG_MAX;
}

static int mode_discard(void)
{
    stream_init();
    double start = now(), end = start + o.seconds, hard = end + OP_TIMEOUT_S;
    int fd = tcp_open(start + OP_TIMEOUT_S, 0);
    if (fd < 0)
        die("connect: %s", strerror(-fd));
    double t0 = now(), next = t0 + 1;
    long long sent = 0, limit = bulk_limit();
    while (!stopping && sent < limit && now() < end) {
        size_t n = limit - sent < BULK_CHUNK ? (size_t)(limit - sent) : BULK_CHUNK;
        ssize_t k = send(fd, stream_tab + sent % PERIOD, n, MSG_NOSIGNAL);
        if (k > 0) {
            sent += k;
        } else if (k < 0 && errno != EAGAIN && errno != EINTR) {
            die("send: %s", strerror(errno));
        } else if (wait_fd(fd, POLLOUT, end) < 0) {
            die("poll: %s", strerror(errno));
        }
        if (now() >= next) {
            progress("%.0f s: %lld bytes queued", now() - t0, sent);
            next += 1;
        }
    }
    /* Everything is delivered once the firmware's FIN comes: discard closes
     * when ours arrives, which is after all our data in sequence. */
    shutdown(fd, SHUT_WR);
    long long extra = recv_eof(fd, hard);
    double t1 = now();
    struct tcp_info ti;
    get_tcp_info(fd, &ti);
    close(fd);
    if (extra < 0)
        die("no FIN from the firmware after %lld bytes: %s", sent, strerror((int)-extra));
    double s = t1 - t0;
    progress("%lld bytes in %.3f s: %.0f bytes/s", sent, s, (double)sent / s);
    printf("{\"mode\":\"discard\",\"bytes\":%lld,\"seconds\":%.4f,\"bytes_per_s\":%.0f,",
           sent, s, (double)sent / s);
    print_tcp_info(&ti);
    printf("}\n");
    return sent > 0 ? 0 : 1;
}

/* Chargen (RFC 864 as firmware/app/services.c): line L holds the 72
 * characters ' ' + (L + col) % 95, then CR LF; 95 lines a cycle. */
static uint8_t chargen_byte(uint64_t pos)
{
    uint64_t line = pos / 74, col = pos % 74;
    if (col >= 72)
        return col == 72 ? '\r' : '\n';
    return (uint8_t)(' ' + (line + col) % 95);
}

static int mode_chargen(void)
{
    static uint8_t buf[BULK_CHUNK];
    double start = now(), end = start + o.seconds, hard = end + OP_TIMEOUT_S;
    int fd = tcp_open(start + OP_TIMEOUT_S, 0);
    if (fd < 0)
        die("connect: %s", strerror(-fd));
    double t0 = now(), t_last = t0, next = t0 + 1;
    long long got = 0, limit = bulk_limit();
    while (!stopping && got < limit && now() < end) {
        size_t want = limit - got < BULK_CHUNK ? (size_t)(limit - got) : BULK_CHUNK;
        ssize_t k = recv(fd, buf, want, 0);
        if (k > 0) {
            for (ssize_t j = 0; j < k; j++)
                if (buf[j] != chargen_byte((uint64_t)(got + j)))
                    die("chargen byte %lld is 0x%02x, want 0x%02x", got + j, buf[j],
                        chargen_byte((uint64_t)(got + j)));
            got += k;
            t_last = now();
        } else if (k == 0) {
            die("the firmware closed chargen after %lld bytes", got);
        } else if (errno != EAGAIN && errno != EINTR) {
            die("recv: %s", strerror(errno));
        } else if (wait_fd(fd, POLLIN, end) < 0) {
            die("poll: %s", strerror(errno));
        }
        if (now() >= next) {
            progress("%.0f s: %lld bytes", now() - t0, got);
            next += 1;
        }
    }
    struct tcp_info ti;
    get_tcp_info(fd, &ti);
    /* Our FIN; chargen closes after what it still has queued. */
    shutdown(fd, SHUT_WR);
    long long tail = recv_eof(fd, hard);
    close(fd);
    double s = t_last - t0;
    if (s <= 0)
        s = 1e-9;
    progress("%lld bytes in %.3f s: %.0f bytes/s", got, s, (double)got / s);
    printf("{\"mode\":\"chargen\",\"bytes\":%lld,\"seconds\":%.4f,\"bytes_per_s\":%.0f,"
           "\"tail_bytes\":%lld,\"clean_close\":%s,",
           got, s, (double)got / s, tail > 0 ? tail : 0, tail >= 0 ? "true" : "false");
    print_tcp_info(&ti);
    printf("}\n");
    return got > 0 ? 0 : 1;
}

static int mode_echo_bulk(void)
{
    static uint8_t in[BULK_CHUNK];
    stream_init();
    long long total = o.count ? o.count : 100 * 1024;
    double start = now(), end = start + o.seconds, hard = end + OP_TIMEOUT_S;
    int fd = tcp_open(start + OP_TIMEOUT_S, 1);
    if (fd < 0)
        die("connect: %s", strerror(-fd));
    double t0 = now(), next = t0 + 1;
    long long sent = 0, got = 0;
    int shut = 0;
    while (!stopping && now() < hard) {
        if (!shut && (o.late_fin ? got == total : sent == total)) {
            shutdown(fd, SHUT_WR);
            shut = 1;
        }
        if (sent < total && now() < end) {
            size_t n = total - sent < BULK_CHUNK ? (size_t)(total - sent) : BULK_CHUNK;
            ssize_t k = send(fd, stream_tab + sent % PERIOD, n, MSG_NOSIGNAL);
            if (k > 0)
                sent += k;
            else if (k < 0 && errno != EAGAIN && errno != EINTR)
                die("send: %s", strerror(errno));
        } else if (sent < total && !shut) {
            shutdown(fd, SHUT_WR); /* out of time: stop sending */
            shut = 1;
        }
        ssize_t k = recv(fd, in, sizeof in, 0);
        if (k > 0) {
            for (ssize_t j = 0; j < k; j++)
                if (in[j] != stream_tab[(got + j) % PERIOD])
                    die("echoed byte %lld differs", got + j);
            got += k;
        } else if (k == 0) {
            break; /* the firmware's FIN: everything is back */
        } else if (errno != EAGAIN && errno != EINTR) {
            die("recv: %s", strerror(errno));
        } else {
            short ev = POLLIN | (sent < total && !shut ? POLLOUT : 0);
            if (wait_fd(fd, ev, hard) < 0)
                die("poll: %s", strerror(errno));
        }
        if (now() >= next) {
            progress("%.0f s: %lld sent, %lld back", now() - t0, sent, got);
            next += 1;
        }
    }
    double t1 = now();
    struct tcp_info ti;
    get_tcp_info(fd, &ti);
    close(fd);
    if (got != sent)
        die("sent %lld bytes, %lld came back", sent, got);
    double s = t1 - t0;
    progress("%lld bytes echoed in %.3f s: %.0f bytes/s", got, s, (double)got / s);
    printf("{\"mode\":\"echo-bulk\",\"bytes\":%lld,\"seconds\":%.4f,\"bytes_per_s\":%.0f,"
           "\"late_fin\":%s,",
           got, s, (double)got / s, o.late_fin ? "true" : "false");
    print_tcp_info(&ti);
    printf("}\n");
    return got > 0 ? 0 : 1;
}

/* --- main --- */

static void usage(void)
{
    fprintf(stderr,
            "usage: loadgen connrate|echo-rtt|discard|chargen|echo-bulk [-a ADDR] [-p PORT]\n"
            "       [-t SECONDS] [-n COUNT] [-c PARALLEL] [-s SIZE] [-i INTERVAL_US]\n"
            "       [--icmp] [--late-fin] [-q]   (see the comment at the top of tools/loadgen.c)\n");
    exit(2);
}

static double num(const char *s, double lo, double hi, const char *what)
{
    char *e;
    errno = 0;
    double v = strtod(s, &e);
    if (errno || e == s || *e || v < lo || v > hi) {
        fprintf(stderr, "loadgen: %s must be %g..%g, not '%s'\n", what, lo, hi, s);
        exit(2);
    }
    return v;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        usage();
    o.mode = argv[1];
    o.seconds = 10;
    o.parallel = 8;
    o.size = 64;
    o.addr.sin_family = AF_INET;
    inet_pton(AF_INET, "192.168.7.2", &o.addr.sin_addr);
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-q")) {
            o.quiet = 1;
            continue;
        }
        if (!strcmp(a, "--icmp")) {
            o.icmp = 1;
            continue;
        }
        if (!strcmp(a, "--late-fin")) {
            o.late_fin = 1;
            continue;
        }
        if (!v)
            usage();
        i++;
        if (!strcmp(a, "-a")) {
            if (inet_pton(AF_INET, v, &o.addr.sin_addr) != 1) {
                fprintf(stderr, "loadgen: -a wants an IPv4 address, not '%s'\n", v);
                exit(2);
            }
        } else if (!strcmp(a, "-p")) {
            o.port = (int)num(v, 1, 65535, "-p");
        } else if (!strcmp(a, "-t")) {
            o.seconds = num(v, 0.1, MAX_SECONDS, "-t");
        } else if (!strcmp(a, "-n")) {
            o.count = (long long)num(v, 1, 1e15, "-n");
        } else if (!strcmp(a, "-c")) {
            o.parallel = (int)num(v, 1, MAX_PARALLEL, "-c");
        } else if (!strcmp(a, "-s")) {
            o.size = (int)num(v, 1, 1460, "-s");
        } else if (!strcmp(a, "-i")) {
            o.interval_us = (int)num(v, 0, 1e6, "-i");
        } else {
            usage();
        }
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    setvbuf(stdout, NULL, _IOLBF, 0);

    static const struct {
        const char *name;
        int port;
        int (*fn)(void);
    } modes[] = {
        { "connrate", 7, mode_connrate },   { "echo-rtt", 7, mode_echo_rtt },
        { "discard", 9, mode_discard },     { "chargen", 19, mode_chargen },
        { "echo-bulk", 7, mode_echo_bulk },
    };
    for (size_t k = 0; k < sizeof modes / sizeof modes[0]; k++) {
        if (!strcmp(o.mode, modes[k].name)) {
            if (!o.port)
                o.port = modes[k].port;
            return modes[k].fn();
        }
    }
    usage();
    return 2;
}
