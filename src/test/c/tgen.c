/*
 * tgen: traffic generator for peekd's kernel integration tests.
 *
 * Every byte count it reports is the sum of syscall (or io_uring completion)
 * return values, because that is what the kernel hands to the socket layer
 * and therefore what peekd must attribute, byte for byte.
 *
 * Output contract:
 *   - servers print "tgen: ready port=N" on stderr once they accept traffic;
 *   - after all I/O, exactly one JSON line on stdout;
 *   - on any failure: a message on stderr, no JSON, exit status 1.
 * Every run is bounded by --timeout (default 10 s, enforced with alarm()).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <linux/filter.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <netpacket/packet.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHUNK 65536
#define MAX_PEERS 16
#define MAX_MMSG 1024

static const char *usage_text =
    "usage: tgen MODE [options]\n"
    "servers: tcp-sink tcp-source tcp-echo udp-echo udp-sink raw-recv packet-recv\n"
    "clients: tcp-send tcp-recv tcp-duplex tcp-connect udp icmp raw-send packet-send\n"
    "  --to ADDR:PORT    destination (repeatable for udp and icmp; [v6]:port)\n"
    "  --listen ADDR[:PORT]  server address (port 0 = ephemeral, reported)\n"
    "  --src ADDR[:PORT] bind the client to a source address\n"
    "  --dev IFNAME      SO_BINDTODEVICE; the interface for packet modes\n"
    "  --bytes N         TCP bytes per connection to send (receivers: expect exactly N)\n"
    "  --count N         datagrams per destination (clients) or in total (servers,\n"
    "                    default 1, 0 = until timeout)\n"
    "  --conns N         TCP connections a server handles (default 1, 0 = until timeout)\n"
    "  --size N          datagram payload size (default 64)\n"
    "  --via write|uring|sendfile|splice|mmsg  I/O path (default write)\n"
    "  --file PATH       file for sendfile/splice (default: anonymous temp file)\n"
    "  --connect         udp: connect() the socket (one --to)\n"
    "  --no-reply        udp: do not wait for echoes\n"
    "  --proto N         raw IP protocol (default 253)\n"
    "  --ethertype N     packet modes (default 0x88b5)\n"
    "  --token N         raw/packet: 32-bit marker leading each payload; receivers\n"
    "                    drop anything else in the kernel (default 0x7065656b)\n"
    "  --timeout S       hard limit for the whole run (default 10)\n"
    "  --fork            a forked child does the work and prints the JSON\n"
    "  --hold S          tcp-send: keep the connection open S seconds after sending\n"
    "  --then-exec PATH  tcp-send/tcp-recv: move the first half of --bytes, then exec PATH\n"
    "                    (another tgen), which moves the rest on the same socket and prints\n"
    "                    the JSON, with \"before_exec\": the bytes the first program moved\n"
    "  --then-fork       tcp-send: send the first half of --bytes, then a forked child sends\n"
    "                    the rest on the inherited socket and prints the JSON, with\n"
    "                    \"parent_sent\" (the parent is the JSON's ppid)\n"
    "  --fd N --prior N  (set by --then-exec) carry on with socket N after N bytes\n"
    "  --unix-first N    before the mode, move N bytes each way over a Unix stream and a Unix\n"
    "                    datagram socket pair, and ask the kernel's netlink for its links: local\n"
    "                    IPC, which peekd must not count (not in the JSON's sent/recv)\n";

static struct opts {
    const char *mode, *listen, *src, *dev, *via, *file, *then_exec;
    const char *to[MAX_PEERS];
    int nto;
    long long bytes; /* -1 = not given */
    long count, conns, size, timeout, proto, ethertype, hold, unix_first;
    long long fd, prior;
    uint32_t token;
    int connect, no_reply, fork, then_fork;
} o = {.via = "write", .bytes = -1, .count = -1, .conns = 1, .size = 64, .fd = -1, .prior = -1,
       .timeout = 10, .proto = 253, .ethertype = 0x88b5, .token = 0x7065656b};

static struct { long long sent, recv, payload, file_bytes; long conns, dgram_sent, dgram_recv; } g;

struct peer {
    struct sockaddr_storage sa;
    socklen_t len;
    long long sent, recv;
};
static struct peer peers[MAX_PEERS];
static int npeers;

static char extra[8192];   /* mode-specific JSON members, each starting with ',' */
static size_t extra_len;
static char buf[CHUNK];
static volatile sig_atomic_t expired;
static int soft_timeout;   /* servers with no quota: the timeout is their normal end */
static sigjmp_buf finish;

static void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void die(const char *fmt, ...)
{
    int e = errno;
    va_list ap;
    fprintf(stderr, "tgen %s: ", o.mode ? o.mode : "");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    if (e)
        fprintf(stderr, ": %s", strerror(e));
    fputc('\n', stderr);
    exit(1);
}
#define fail(...) (errno = 0, die(__VA_ARGS__))

/*
 * Re-armed every second: a signal that lands just before a blocking call
 * (after chk() looked) would otherwise leave that call blocked for good.
 */
static void on_alarm(int sig)
{
    (void)sig;
    expired = 1;
    alarm(1);
}

/*
 * Checks a syscall result. Returns it when >= 0 and -1 after an interruption
 * the caller should retry. The alarm interrupts blocking calls (no SA_RESTART),
 * which is how every wait stays bounded without per-call timeouts.
 */
static long chk(long r, const char *what)
{
    if (r >= 0)
        return r;
    if (errno == EINTR || errno == EAGAIN) {
        if (expired) {
            if (soft_timeout)
                siglongjmp(finish, 1);
            fail("timed out after %lds during %s", o.timeout, what);
        }
        return -1;
    }
    die("%s", what);
}

static void jx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void jx(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(extra + extra_len, sizeof extra - extra_len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof extra - extra_len)
        fail("JSON output too long");
    extra_len += n;
}

/* Only our own paths and numeric addresses get here; escape anyway so the line stays JSON. */
static void jstr(const char *key, const char *s)
{
    jx(",\"%s\":\"", key);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            jx("\\%c", *s);
        else if ((unsigned char)*s < 0x20)
            jx("\\u%04x", *s);
        else
            jx("%c", *s);
    }
    jx("\"");
}

static long long num(const char *s, const char *what)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 0);
    if (errno || end == s || *end || v < 0)
        fail("bad %s '%s': expected a non-negative number", what, s);
    return v;
}

/* "1.2.3.4", "1.2.3.4:80", "::1", "[::1]:80", "fe80::1%eth0" */
static void parse_addr(const char *text, struct sockaddr_storage *sa, socklen_t *len)
{
    char host[256], *port = NULL;
    if (strlen(text) >= sizeof host)
        fail("address too long: %s", text);
    strcpy(host, text);
    char *h = host;
    if (*h == '[') {
        char *close = strchr(h, ']');
        if (!close || (close[1] && close[1] != ':'))
            fail("bad address '%s'", text);
        *close = 0;
        h++;
        if (close[1] == ':')
            port = close + 2;
    } else {
        char *colon = strchr(h, ':');
        if (colon && !strchr(colon + 1, ':')) { /* exactly one colon: IPv4 with port */
            *colon = 0;
            port = colon + 1;
        }
    }
    struct addrinfo hints = {.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV}, *ai;
    int rc = getaddrinfo(h, port ? port : "0", &hints, &ai);
    if (rc)
        fail("bad address '%s': %s", text, gai_strerror(rc));
    memcpy(sa, ai->ai_addr, ai->ai_addrlen);
    *len = ai->ai_addrlen;
    freeaddrinfo(ai);
}

static void fmt_addr(const struct sockaddr_storage *sa, char *host, size_t hl, int *port)
{
    char serv[16];
    if (getnameinfo((const struct sockaddr *)sa, sizeof *sa, host, hl, serv, sizeof serv,
                    NI_NUMERICHOST | NI_NUMERICSERV))
        snprintf(host, hl, "?");
    *port = atoi(serv);
}

static void jaddr(const char *prefix, const struct sockaddr_storage *sa)
{
    char host[INET6_ADDRSTRLEN + IF_NAMESIZE + 2], key[32];
    int port;
    fmt_addr(sa, host, sizeof host, &port);
    snprintf(key, sizeof key, "%saddr", prefix);
    jstr(key, host);
    jx(",\"%sport\":%d", prefix, port);
}

static void jendpoints(int fd)
{
    struct sockaddr_storage sa;
    socklen_t len = sizeof sa;
    if (getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
        jaddr("l", &sa);
    len = sizeof sa;
    if (getpeername(fd, (struct sockaddr *)&sa, &len) == 0)
        jaddr("r", &sa);
}

/* Raw sockets report their protocol number as the port, which would only mislead. */
static void jhost(const char *key, const struct sockaddr_storage *sa)
{
    char host[INET6_ADDRSTRLEN + IF_NAMESIZE + 2];
    int port;
    fmt_addr(sa, host, sizeof host, &port);
    jstr(key, host);
}

static void jpeers(void)
{
    jx(",\"peers\":[");
    for (int i = 0; i < npeers; i++) {
        char host[INET6_ADDRSTRLEN + IF_NAMESIZE + 2];
        int port;
        fmt_addr(&peers[i].sa, host, sizeof host, &port);
        jx("%s{\"addr\":\"%s\",\"port\":%d,\"sent\":%lld,\"recv\":%lld}", i ? "," : "", host,
           port, peers[i].sent, peers[i].recv);
    }
    jx("]");
}

static int same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
    if (a->ss_family != b->ss_family)
        return 0;
    if (a->ss_family == AF_INET) {
        const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
        return x->sin_addr.s_addr == y->sin_addr.s_addr && x->sin_port == y->sin_port;
    }
    const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
    return !memcmp(&x->sin6_addr, &y->sin6_addr, 16) && x->sin6_port == y->sin6_port;
}

/* Finds or adds the per-peer counter slot; NULL when the table is full (totals still count). */
static struct peer *peer_of(const struct sockaddr_storage *sa, socklen_t len)
{
    for (int i = 0; i < npeers; i++)
        if (same_addr(&peers[i].sa, sa))
            return &peers[i];
    if (npeers == MAX_PEERS)
        return NULL;
    memcpy(&peers[npeers].sa, sa, len);
    peers[npeers].len = len;
    return &peers[npeers++];
}

static void bind_dev(int fd)
{
    if (o.dev && setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, o.dev, strlen(o.dev) + 1))
        die("SO_BINDTODEVICE %s", o.dev);
}

/* A socket for talking to (or listening on) the family of sa, with --dev and --src applied. */
static int ip_socket(int family, int type, int proto, const char *bind_to)
{
    int fd = socket(family, type, proto);
    if (fd < 0) {
        if (errno == EACCES && type == SOCK_DGRAM && proto != IPPROTO_UDP)
            die("ping socket (is the gid inside net.ipv4.ping_group_range?)");
        die("socket");
    }
    int one = 1;
    if (type == SOCK_STREAM)
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    bind_dev(fd);
    if (bind_to) {
        struct sockaddr_storage sa;
        socklen_t len;
        parse_addr(bind_to, &sa, &len);
        if (sa.ss_family != family)
            fail("address %s is not of the destination's family", bind_to);
        if (bind(fd, (struct sockaddr *)&sa, len))
            die("bind %s", bind_to);
    }
    return fd;
}

static void ready(int fd)
{
    struct sockaddr_storage sa;
    socklen_t len = sizeof sa;
    int port = 0;
    char host[INET6_ADDRSTRLEN + IF_NAMESIZE + 2];
    if (fd >= 0 && getsockname(fd, (struct sockaddr *)&sa, &len) == 0 &&
        (sa.ss_family == AF_INET || sa.ss_family == AF_INET6)) {
        fmt_addr(&sa, host, sizeof host, &port);
        jstr("laddr", host);
        jx(",\"lport\":%d", port);
    }
    fprintf(stderr, "tgen: ready port=%d\n", port);
    fflush(stderr);
}

/* ---- files for sendfile/splice ---- */

static int open_source_file(void)
{
    int fd;
    if (o.file) {
        if ((fd = open(o.file, O_RDONLY)) < 0)
            die("open %s", o.file);
        struct stat st;
        if (fstat(fd, &st))
            die("stat %s", o.file);
        if (o.bytes < 0)
            o.bytes = st.st_size;
        if (o.bytes > st.st_size)
            fail("%s has %lld bytes, fewer than --bytes %lld", o.file, (long long)st.st_size, o.bytes);
        return fd;
    }
    if ((fd = open("/tmp", O_TMPFILE | O_RDWR, 0600)) < 0)
        die("anonymous temp file in /tmp");
    for (long long left = o.bytes; left > 0;) {
        long n = chk(write(fd, buf, left < CHUNK ? left : CHUNK), "write temp file");
        if (n > 0)
            left -= n;
    }
    return fd;
}

static int open_sink_file(void)
{
    int fd = o.file ? open(o.file, O_WRONLY | O_CREAT | O_TRUNC, 0600)
                    : open("/tmp", O_TMPFILE | O_WRONLY, 0600);
    if (fd < 0)
        die("open %s", o.file ? o.file : "anonymous temp file in /tmp");
    return fd;
}

/* ---- stream transfer, one function per direction, any --via ---- */

static struct io_uring ring;
static int ring_ready;

static long uring_io(int fd, int send, void *p, size_t n)
{
    if (!ring_ready) {
        int rc = io_uring_queue_init(4, &ring, 0);
        if (rc < 0) {
            errno = -rc;
            die("io_uring_queue_init");
        }
        ring_ready = 1;
    }
    struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
    if (send)
        io_uring_prep_send(sqe, fd, p, n, MSG_NOSIGNAL);
    else
        io_uring_prep_recv(sqe, fd, p, n, 0);
    int rc = io_uring_submit(&ring);
    if (rc < 0) {
        errno = -rc;
        die("io_uring_submit");
    }
    struct io_uring_cqe *cqe;
    while ((rc = io_uring_wait_cqe(&ring, &cqe)) < 0) {
        errno = -rc;
        chk(-1, "io_uring_wait_cqe");
    }
    long res = cqe->res;
    io_uring_cqe_seen(&ring, cqe);
    if (res < 0) {
        errno = -res;
        die("io_uring %s", send ? "send" : "recv");
    }
    return res;
}

/* Sends exactly n bytes; every return value is added to g.sent as it happens. */
static void send_stream(int fd, long long n)
{
    int file = -1, pipefd[2] = {-1, -1};
    off_t off = 0;
    if (!strcmp(o.via, "sendfile") || !strcmp(o.via, "splice")) {
        file = open_source_file(); /* with --file and no --bytes: the whole file */
        n = o.bytes < 0 ? 0 : o.bytes;
        if (!strcmp(o.via, "splice") && pipe(pipefd))
            die("pipe");
    }
    while (n > 0) {
        size_t want = n < CHUNK ? n : CHUNK;
        long r;
        if (!strcmp(o.via, "write")) {
            r = chk(send(fd, buf, want, MSG_NOSIGNAL), "send");
        } else if (!strcmp(o.via, "uring")) {
            r = uring_io(fd, 1, buf, want);
        } else if (!strcmp(o.via, "sendfile")) {
            r = chk(sendfile(fd, file, &off, want), "sendfile");
            if (r == 0)
                fail("sendfile: file ended early");
        } else if (!strcmp(o.via, "splice")) {
            long in = chk(splice(file, &off, pipefd[1], NULL, want, SPLICE_F_MOVE), "splice file->pipe");
            if (in == 0)
                fail("splice: file ended early");
            while (in > 0) { /* drain the pipe into the socket */
                long m = chk(splice(pipefd[0], NULL, fd, NULL, in, SPLICE_F_MOVE), "splice pipe->socket");
                if (m > 0) {
                    in -= m;
                    g.sent += m;
                    n -= m;
                }
            }
            continue;
        } else {
            fail("--via %s cannot send a stream", o.via);
        }
        if (r > 0) {
            g.sent += r;
            n -= r;
        }
    }
    if (file >= 0)
        close(file);
    if (pipefd[0] >= 0) {
        close(pipefd[0]);
        close(pipefd[1]);
    }
}

/*
 * Receives until EOF; returns the bytes received on this socket.
 * via is "write" when only waiting for the peer's close after an upload.
 */
static long long recv_stream(int fd, const char *via)
{
    long long total = 0;
    int file = -1, pipefd[2] = {-1, -1};
    if (!strcmp(via, "splice")) {
        file = open_sink_file();
        if (pipe(pipefd))
            die("pipe");
    }
    for (;;) {
        long r;
        if (!strcmp(via, "uring")) {
            r = uring_io(fd, 0, buf, CHUNK);
        } else if (!strcmp(via, "splice")) {
            r = chk(splice(fd, NULL, pipefd[1], NULL, CHUNK, SPLICE_F_MOVE), "splice socket->pipe");
            for (long left = r; left > 0;) {
                long m = chk(splice(pipefd[0], NULL, file, NULL, left, SPLICE_F_MOVE), "splice pipe->file");
                if (m > 0) {
                    left -= m;
                    g.file_bytes += m;
                }
            }
        } else { /* write, sendfile: a plain read path */
            r = chk(recv(fd, buf, CHUNK, 0), "recv");
        }
        if (r == 0)
            break;
        if (r > 0) {
            total += r;
            g.recv += r;
        }
    }
    if (file >= 0) {
        if (o.file && fsync(file))
            die("fsync %s", o.file);
        close(file);
        close(pipefd[0]);
        close(pipefd[1]);
    }
    return total;
}

static void expect_bytes(long long got)
{
    if (o.bytes >= 0 && got != o.bytes)
        fail("received %lld bytes, expected %lld", got, o.bytes);
}

/* Sends and receives at once, so neither side's buffers can fill up and deadlock. */
static void duplex_stream(int fd)
{
    long long left = o.bytes < 0 ? 0 : o.bytes;
    int shut = 0;
    if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK))
        die("O_NONBLOCK");
    for (;;) {
        if (left == 0 && !shut) {
            if (shutdown(fd, SHUT_WR))
                die("shutdown");
            shut = 1;
        }
        struct pollfd p = {.fd = fd, .events = POLLIN | (left ? POLLOUT : 0)};
        if (chk(poll(&p, 1, -1), "poll") <= 0)
            continue;
        if (p.revents & POLLOUT) {
            long r = send(fd, buf, left < CHUNK ? left : CHUNK, MSG_NOSIGNAL);
            if (r < 0 && errno != EAGAIN)
                die("send");
            if (r > 0) {
                g.sent += r;
                left -= r;
            }
        }
        if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
            long r = recv(fd, buf, CHUNK, 0);
            if (r < 0 && errno != EAGAIN)
                die("recv");
            if (r == 0)
                break;
            if (r > 0)
                g.recv += r;
        }
    }
    if (left)
        fail("peer closed with %lld bytes unsent", left);
}

/* ---- TCP ---- */

static int tcp_connect(void)
{
    struct sockaddr_storage sa;
    socklen_t len;
    if (o.nto != 1)
        fail("needs exactly one --to");
    parse_addr(o.to[0], &sa, &len);
    int fd = ip_socket(sa.ss_family, SOCK_STREAM, 0, o.src);
    while (chk(connect(fd, (struct sockaddr *)&sa, len), "connect") < 0)
        ;
    g.conns++;
    jendpoints(fd);
    return fd;
}

/* Reads exactly n bytes (the first half of a --then-exec download). */
static void recv_exact(int fd, long long n)
{
    while (n > 0) {
        long r = chk(recv(fd, buf, n < CHUNK ? n : CHUNK, 0), "recv");
        if (r == 0)
            fail("the peer closed %lld bytes early", n);
        if (r > 0) {
            g.recv += r;
            n -= r;
        }
    }
}

/*
 * --then-exec / --then-fork: this program moves the first half of --bytes on
 * the socket and hands it over, so that the kernel's per-socket caches meet a
 * new program (exec: same pid and start time) or a new process (fork).
 */
static void hand_over(int fd)
{
    int sending = !strcmp(o.mode, "tcp-send");
    if (!sending && strcmp(o.mode, "tcp-recv"))
        fail("--then-exec and --then-fork need tcp-send or tcp-recv");
    if (o.then_fork && !sending)
        fail("--then-fork needs tcp-send");
    long long half = (o.bytes < 0 ? 0 : o.bytes) / 2;
    if (sending)
        send_stream(fd, half);
    else
        recv_exact(fd, half);
    o.bytes -= half;
    if (o.then_fork) {
        fflush(NULL);
        pid_t child = fork();
        if (child < 0)
            die("fork");
        if (child > 0) { /* the parent keeps its copy of the socket open and waits */
            int st;
            while (waitpid(child, &st, 0) < 0)
                if (errno != EINTR)
                    die("waitpid");
            exit(WIFEXITED(st) ? WEXITSTATUS(st) : 1);
        }
        alarm(o.timeout); /* a child does not inherit the parent's alarm */
        jx(",\"parent_sent\":%lld", g.sent);
        g.sent = 0;
        return;
    }
    char sfd[24], sbytes[24], sprior[24], stimeout[24];
    snprintf(sfd, sizeof sfd, "%d", fd);
    snprintf(sbytes, sizeof sbytes, "%lld", o.bytes);
    snprintf(sprior, sizeof sprior, "%lld", sending ? g.sent : g.recv);
    snprintf(stimeout, sizeof stimeout, "%ld", o.timeout);
    fflush(NULL);
    execl(o.then_exec, o.then_exec, o.mode, "--fd", sfd, "--bytes", sbytes, "--prior", sprior,
          "--timeout", stimeout, (char *)NULL);
    die("exec %s", o.then_exec);
}

static void tcp_client(void)
{
    int fd;
    if (o.fd >= 0) { /* exec'd by --then-exec: the socket is already connected */
        fd = o.fd;
        g.conns++;
        jendpoints(fd);
        jx(",\"before_exec\":%lld", o.prior);
    } else {
        fd = tcp_connect();
    }
    if (o.then_exec || o.then_fork)
        hand_over(fd);
    if (!strcmp(o.mode, "tcp-send")) {
        send_stream(fd, o.bytes < 0 ? 0 : o.bytes);
        if (o.hold > 0) {
            fprintf(stderr, "tgen: holding\n");
            unsigned left = (unsigned)o.hold;
            while (left && !expired)
                left = sleep(left);
        }
        if (shutdown(fd, SHUT_WR))
            die("shutdown");
        recv_stream(fd, "write"); /* the sink closes only after reading everything */
    } else if (!strcmp(o.mode, "tcp-recv")) {
        expect_bytes(recv_stream(fd, o.via));
    } else if (!strcmp(o.mode, "tcp-duplex")) {
        duplex_stream(fd);
        if (g.recv != g.sent)
            fail("echoed %lld of %lld bytes", g.recv, g.sent);
    }
    /* tcp-connect: a connection that moves no byte */
    close(fd);
}

static void tcp_server(void)
{
    struct sockaddr_storage sa;
    socklen_t len;
    parse_addr(o.listen, &sa, &len);
    int lfd = ip_socket(sa.ss_family, SOCK_STREAM, 0, o.listen);
    if (listen(lfd, 64))
        die("listen");
    ready(lfd);
    soft_timeout = o.conns == 0;
    if (sigsetjmp(finish, 1))
        return;
    for (long done = 0; o.conns == 0 || done < o.conns; done++) {
        int fd;
        while ((fd = chk(accept(lfd, NULL, NULL), "accept")) < 0)
            ;
        g.conns++;
        if (!strcmp(o.mode, "tcp-sink")) {
            expect_bytes(recv_stream(fd, o.via));
        } else if (!strcmp(o.mode, "tcp-source")) {
            send_stream(fd, o.bytes < 0 ? 0 : o.bytes);
            if (shutdown(fd, SHUT_WR))
                die("shutdown");
            recv_stream(fd, "write"); /* closing before the client's EOF could turn into a reset */
        } else { /* tcp-echo */
            for (;;) {
                long r = chk(recv(fd, buf, CHUNK, 0), "recv");
                if (r == 0)
                    break;
                if (r < 0)
                    continue;
                g.recv += r;
                for (long off = 0; off < r;) {
                    long w = chk(send(fd, buf + off, r - off, MSG_NOSIGNAL), "send");
                    if (w > 0) {
                        off += w;
                        g.sent += w;
                    }
                }
            }
            if (shutdown(fd, SHUT_WR))
                die("shutdown");
        }
        close(fd);
    }
}

/* ---- UDP ---- */

static void udp_client(void)
{
    if (o.nto < 1)
        fail("needs at least one --to");
    if (o.connect && o.nto != 1)
        fail("--connect takes exactly one --to");
    if (o.size > CHUNK)
        fail("--size is at most %d", CHUNK);
    for (int i = 0; i < o.nto; i++)
        parse_addr(o.to[i], &peers[i].sa, &peers[i].len);
    npeers = o.nto;
    for (int i = 1; i < npeers; i++)
        if (peers[i].sa.ss_family != peers[0].sa.ss_family)
            fail("all --to must be of one address family (one socket)");
    int fd = ip_socket(peers[0].sa.ss_family, SOCK_DGRAM, 0, o.src);
    if (o.connect) {
        while (chk(connect(fd, (struct sockaddr *)&peers[0].sa, peers[0].len), "connect") < 0)
            ;
        g.conns++;
    }
    long count = o.count < 0 ? 1 : o.count;
    int mmsg = !strcmp(o.via, "mmsg");
    if (!mmsg && strcmp(o.via, "write"))
        fail("udp supports --via write or mmsg");
    if (mmsg && count > MAX_MMSG)
        fail("--count is at most %d with mmsg", MAX_MMSG);

    if (mmsg) {
        static struct mmsghdr m[MAX_MMSG];
        static struct iovec iov[MAX_MMSG];
        static struct sockaddr_storage from[MAX_MMSG];
        for (int p = 0; p < npeers; p++) {
            for (long i = 0; i < count; i++) {
                iov[i] = (struct iovec){buf, o.size};
                m[i].msg_hdr = (struct msghdr){.msg_iov = &iov[i], .msg_iovlen = 1};
                if (!o.connect) {
                    m[i].msg_hdr.msg_name = &peers[p].sa;
                    m[i].msg_hdr.msg_namelen = peers[p].len;
                }
            }
            for (long done = 0; done < count;) {
                long k = chk(sendmmsg(fd, m + done, count - done, 0), "sendmmsg");
                for (long i = done; k > 0 && i < done + k; i++) {
                    peers[p].sent += m[i].msg_len;
                    g.sent += m[i].msg_len;
                    g.dgram_sent++;
                }
                if (k > 0)
                    done += k;
            }
            if (o.no_reply)
                continue;
            for (long done = 0; done < count;) {
                for (long i = 0; i < count - done; i++) {
                    iov[i] = (struct iovec){buf, CHUNK};
                    m[i].msg_hdr = (struct msghdr){.msg_iov = &iov[i], .msg_iovlen = 1,
                                                   .msg_name = &from[i], .msg_namelen = sizeof from[i]};
                }
                long k = chk(recvmmsg(fd, m, count - done, MSG_WAITFORONE, NULL), "recvmmsg");
                for (long i = 0; i < k; i++) {
                    if (!same_addr(&from[i], &peers[p].sa))
                        fail("reply from an unexpected address");
                    peers[p].recv += m[i].msg_len;
                    g.recv += m[i].msg_len;
                    g.dgram_recv++;
                }
                if (k > 0)
                    done += k;
            }
        }
    } else {
        /* Lock-step: one datagram, one echo, so nothing can overflow a buffer and get lost. */
        for (long i = 0; i < count; i++) {
            for (int p = 0; p < npeers; p++) {
                long r;
                while ((r = chk(o.connect ? send(fd, buf, o.size, 0)
                                          : sendto(fd, buf, o.size, 0, (struct sockaddr *)&peers[p].sa,
                                                   peers[p].len), "sendto")) < 0)
                    ;
                peers[p].sent += r;
                g.sent += r;
                g.dgram_sent++;
                if (o.no_reply)
                    continue;
                struct sockaddr_storage from;
                socklen_t fl = sizeof from;
                while ((r = chk(recvfrom(fd, buf, CHUNK, 0, (struct sockaddr *)&from, &fl),
                                "recvfrom")) < 0)
                    fl = sizeof from;
                if (!same_addr(&from, &peers[p].sa))
                    fail("reply from an unexpected address");
                peers[p].recv += r;
                g.recv += r;
                g.dgram_recv++;
            }
        }
    }
    jendpoints(fd);
    jpeers();
    close(fd);
}

static void udp_server(void)
{
    struct sockaddr_storage sa;
    socklen_t len;
    parse_addr(o.listen, &sa, &len);
    int fd = ip_socket(sa.ss_family, SOCK_DGRAM, 0, o.listen);
    ready(fd);
    long count = o.count < 0 ? 1 : o.count;
    soft_timeout = count == 0;
    if (!sigsetjmp(finish, 1)) {
        for (long done = 0; count == 0 || done < count; done++) {
            struct sockaddr_storage from;
            socklen_t fl = sizeof from;
            long r;
            while ((r = chk(recvfrom(fd, buf, CHUNK, 0, (struct sockaddr *)&from, &fl), "recvfrom")) < 0)
                fl = sizeof from;
            struct peer *p = peer_of(&from, fl);
            g.recv += r;
            g.dgram_recv++;
            if (p)
                p->recv += r;
            if (!strcmp(o.mode, "udp-sink"))
                continue;
            long w;
            while ((w = chk(sendto(fd, buf, r, 0, (struct sockaddr *)&from, fl), "sendto")) < 0)
                ;
            g.sent += w;
            g.dgram_sent++;
            if (p)
                p->sent += w;
        }
    }
    jpeers();
    close(fd);
}

/* ---- ICMP echo over a ping socket: the kernel of the peer answers ---- */

static void icmp_client(void)
{
    if (o.nto < 1)
        fail("needs at least one --to");
    if (o.size + 8 > CHUNK)
        fail("--size too large");
    for (int i = 0; i < o.nto; i++)
        parse_addr(o.to[i], &peers[i].sa, &peers[i].len);
    npeers = o.nto;
    int v6 = peers[0].sa.ss_family == AF_INET6;
    for (int i = 1; i < npeers; i++)
        if (peers[i].sa.ss_family != peers[0].sa.ss_family)
            fail("all --to must be of one address family (one socket)");
    int fd = ip_socket(peers[0].sa.ss_family, SOCK_DGRAM, v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP, o.src);
    long count = o.count < 0 ? 1 : o.count;
    uint16_t seq = 0;
    static char pkt[CHUNK];
    for (long i = 0; i < count; i++) {
        for (int p = 0; p < npeers; p++) {
            /* type, code, checksum, id, sequence: the kernel fills in id and checksum */
            memset(pkt, 0, 8 + o.size);
            pkt[0] = v6 ? ICMP6_ECHO_REQUEST : ICMP_ECHO;
            uint16_t nseq = htons(++seq);
            memcpy(pkt + 6, &nseq, 2);
            long r;
            while ((r = chk(sendto(fd, pkt, 8 + o.size, 0, (struct sockaddr *)&peers[p].sa,
                                   peers[p].len), "sendto")) < 0)
                ;
            peers[p].sent += r;
            g.sent += r;
            g.dgram_sent++;
            while ((r = chk(recv(fd, pkt, CHUNK, 0), "recv")) < 0)
                ;
            if (r < 8 || (uint8_t)pkt[0] != (v6 ? ICMP6_ECHO_REPLY : ICMP_ECHOREPLY) ||
                memcmp(pkt + 6, &nseq, 2))
                fail("unexpected ICMP message (type %d, %ld bytes) instead of echo reply %d",
                     (uint8_t)pkt[0], r, seq);
            peers[p].recv += r;
            g.recv += r;
            g.dgram_recv++;
        }
    }
    jpeers();
    close(fd);
}

/* ---- raw IP and AF_PACKET, with the --token filter in the kernel ---- */

/*
 * Classic BPF so that a receiver never even sees traffic that is not its own
 * (other tests may use the same protocol or ethertype at the same time).
 * start: byte offset of the payload, or -1 for "after the IPv4 header".
 */
static void attach_token_filter(int fd, int start)
{
    struct sock_filter f[] = {
        BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 0),             /* X = IPv4 header length */
        BPF_STMT(BPF_LD | BPF_W | BPF_IND, 0),              /* A = word at X */
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, o.token, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, 0xffffffff),
        BPF_STMT(BPF_RET | BPF_K, 0),
    };
    struct sock_fprog prog = {.len = 5, .filter = f};
    if (start >= 0) { /* fixed offset instead of the IPv4 header length */
        f[1] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, start);
        prog.filter = f + 1;
        prog.len = 4;
    }
    if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog))
        die("SO_ATTACH_FILTER");
}

static void put_token(char *p)
{
    uint32_t t = htonl(o.token);
    memcpy(p, &t, 4);
}

static void raw_send(void)
{
    struct sockaddr_storage sa;
    socklen_t len;
    if (o.nto != 1)
        fail("needs exactly one --to");
    if (o.size < 4 || o.size > CHUNK - 64)
        fail("--size must be between 4 and %d (the token leads the payload)", CHUNK - 64);
    parse_addr(o.to[0], &sa, &len);
    ((struct sockaddr_in *)&sa)->sin_port = 0; /* sin6_port is at the same offset */
    int fd = ip_socket(sa.ss_family, SOCK_RAW, o.proto, o.src);
    /* connected: the sender's own socket then ignores every other host's packets */
    while (chk(connect(fd, (struct sockaddr *)&sa, len), "connect") < 0)
        ;
    g.conns++;
    struct sockaddr_storage local;
    socklen_t llen = sizeof local;
    if (getsockname(fd, (struct sockaddr *)&local, &llen) == 0)
        jhost("laddr", &local);
    jhost("raddr", &sa);
    put_token(buf);
    long count = o.count < 0 ? 1 : o.count;
    for (long i = 0; i < count; i++) {
        long r;
        while ((r = chk(send(fd, buf, o.size, 0), "send")) < 0)
            ;
        g.sent += r;
        g.payload += r;
        g.dgram_sent++;
    }
    close(fd);
}

static void raw_recv(void)
{
    struct sockaddr_storage sa;
    socklen_t len;
    parse_addr(o.listen, &sa, &len);
    ((struct sockaddr_in *)&sa)->sin_port = 0;
    int v4 = sa.ss_family == AF_INET;
    int fd = socket(sa.ss_family, SOCK_RAW, o.proto);
    if (fd < 0)
        die("socket");
    /* IPv4 raw sockets see the IP header, IPv6 ones start at the payload */
    attach_token_filter(fd, v4 ? -1 : 0);
    bind_dev(fd);
    if (bind(fd, (struct sockaddr *)&sa, len))
        die("bind %s", o.listen);
    ready(-1);
    long count = o.count < 0 ? 1 : o.count;
    soft_timeout = count == 0;
    if (!sigsetjmp(finish, 1)) {
        for (long done = 0; count == 0 || done < count; done++) {
            long r;
            while ((r = chk(recv(fd, buf, CHUNK, 0), "recv")) < 0)
                ;
            g.recv += r;
            g.payload += v4 ? r - (buf[0] & 0xf) * 4 : r;
            g.dgram_recv++;
        }
    }
    close(fd);
}

static int packet_socket(struct sockaddr_ll *ll)
{
    if (!o.dev)
        fail("needs --dev");
    /* protocol 0 until bound: nothing is queued before the filter is in place */
    int fd = socket(AF_PACKET, SOCK_RAW, 0);
    if (fd < 0)
        die("socket(AF_PACKET)");
    *ll = (struct sockaddr_ll){.sll_family = AF_PACKET, .sll_protocol = htons(o.ethertype),
                               .sll_ifindex = if_nametoindex(o.dev)};
    if (!ll->sll_ifindex)
        die("interface %s", o.dev);
    return fd;
}

static void packet_send(void)
{
    struct sockaddr_ll ll;
    int fd = packet_socket(&ll);
    if (o.size < 4 || o.size > CHUNK - ETH_HLEN)
        fail("--size must be between 4 and %d", CHUNK - ETH_HLEN);
    struct ifreq ifr = {0};
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", o.dev);
    if (ioctl(fd, SIOCGIFHWADDR, &ifr))
        die("SIOCGIFHWADDR %s", o.dev);
    struct ether_header *eh = (void *)buf;
    memset(eh->ether_dhost, 0xff, ETH_ALEN); /* broadcast: any receiver on the link takes it */
    memcpy(eh->ether_shost, ifr.ifr_hwaddr.sa_data, ETH_ALEN);
    eh->ether_type = htons(o.ethertype);
    put_token(buf + ETH_HLEN);
    ll.sll_halen = ETH_ALEN;
    memset(ll.sll_addr, 0xff, ETH_ALEN);
    long count = o.count < 0 ? 1 : o.count;
    for (long i = 0; i < count; i++) {
        long r;
        while ((r = chk(sendto(fd, buf, ETH_HLEN + o.size, 0, (struct sockaddr *)&ll, sizeof ll),
                        "sendto")) < 0)
            ;
        g.sent += r;
        g.payload += r - ETH_HLEN;
        g.dgram_sent++;
    }
    close(fd);
}

static void packet_recv(void)
{
    struct sockaddr_ll ll;
    int fd = packet_socket(&ll);
    int one = 1;
    /* on lo every frame would otherwise arrive twice: once leaving, once arriving */
    if (setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one))
        die("PACKET_IGNORE_OUTGOING");
    attach_token_filter(fd, ETH_HLEN);
    if (bind(fd, (struct sockaddr *)&ll, sizeof ll))
        die("bind %s", o.dev);
    ready(-1);
    long count = o.count < 0 ? 1 : o.count;
    soft_timeout = count == 0;
    if (!sigsetjmp(finish, 1)) {
        for (long done = 0; count == 0 || done < count; done++) {
            long r;
            while ((r = chk(recv(fd, buf, CHUNK, 0), "recv")) < 0)
                ;
            g.recv += r;
            g.payload += r - ETH_HLEN;
            g.dgram_recv++;
        }
    }
    close(fd);
}

/* Local IPC that a network monitor must leave out: it is neither a domain nor an IP. */
static void unix_first(long n)
{
    int types[] = {SOCK_STREAM, SOCK_DGRAM};
    for (int t = 0; t < 2; t++) {
        int sv[2];
        if (socketpair(AF_UNIX, types[t], 0, sv) < 0)
            die("socketpair");
        for (long done = 0; done < n;) {
            long w = chk(write(sv[0], buf, n - done < 1024 ? n - done : 1024), "unix write");
            if (w <= 0)
                continue;
            for (long r = 0, k; r < w; r += k > 0 ? k : 0)
                k = chk(read(sv[1], buf, w - r), "unix read");
            for (long r = 0, k; r < w; r += k > 0 ? k : 0)
                k = chk(write(sv[1], buf, w - r), "unix write back");
            for (long r = 0, k; r < w; r += k > 0 ? k : 0)
                k = chk(read(sv[0], buf, w - r), "unix read back");
            done += w;
        }
        close(sv[0]);
        close(sv[1]);
    }
    int nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (nl < 0)
        die("netlink socket");
    struct { struct nlmsghdr h; struct ifinfomsg i; } req = {
        .h = {.nlmsg_len = sizeof req, .nlmsg_type = RTM_GETLINK, .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP, .nlmsg_seq = 1},
        .i = {.ifi_family = AF_UNSPEC}};
    while (chk(send(nl, &req, sizeof req, 0), "netlink send") < 0)
        ;
    for (int done = 0; !done;) {
        int k = (int)chk(recv(nl, buf, sizeof buf, 0), "netlink recv");
        for (struct nlmsghdr *h = (struct nlmsghdr *)buf; k > 0 && NLMSG_OK(h, (unsigned)k); h = NLMSG_NEXT(h, k))
            if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR)
                done = 1;
    }
    close(nl);
}

/* ---- main ---- */

static const struct { const char *name; void (*run)(void); int server; } modes[] = {
    {"tcp-sink", tcp_server, 1},    {"tcp-source", tcp_server, 1}, {"tcp-echo", tcp_server, 1},
    {"udp-echo", udp_server, 1},    {"udp-sink", udp_server, 1},   {"raw-recv", raw_recv, 1},
    {"packet-recv", packet_recv, 1},
    {"tcp-send", tcp_client, 0},    {"tcp-recv", tcp_client, 0},   {"tcp-duplex", tcp_client, 0},
    {"tcp-connect", tcp_client, 0}, {"udp", udp_client, 0},        {"icmp", icmp_client, 0},
    {"raw-send", raw_send, 0},      {"packet-send", packet_send, 0},
};

static void parse_args(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fputs(usage_text, argc < 2 ? stderr : stdout);
        exit(argc < 2);
    }
    o.mode = argv[1];
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int flag = 1;
        if (!strcmp(a, "--connect")) o.connect = 1;
        else if (!strcmp(a, "--no-reply")) o.no_reply = 1;
        else if (!strcmp(a, "--fork")) o.fork = 1;
        else if (!strcmp(a, "--then-fork")) o.then_fork = 1;
        else flag = 0;
        if (flag)
            continue;
        if (!v)
            fail("option %s needs a value (see tgen --help)", a);
        i++;
        if (!strcmp(a, "--to")) {
            if (o.nto == MAX_PEERS)
                fail("at most %d --to", MAX_PEERS);
            o.to[o.nto++] = v;
        } else if (!strcmp(a, "--listen")) o.listen = v;
        else if (!strcmp(a, "--src")) o.src = v;
        else if (!strcmp(a, "--dev")) o.dev = v;
        else if (!strcmp(a, "--via")) o.via = v;
        else if (!strcmp(a, "--file")) o.file = v;
        else if (!strcmp(a, "--bytes")) o.bytes = num(v, a);
        else if (!strcmp(a, "--count")) o.count = num(v, a);
        else if (!strcmp(a, "--conns")) o.conns = num(v, a);
        else if (!strcmp(a, "--size")) o.size = num(v, a);
        else if (!strcmp(a, "--timeout")) o.timeout = num(v, a);
        else if (!strcmp(a, "--hold")) o.hold = num(v, a);
        else if (!strcmp(a, "--unix-first")) o.unix_first = num(v, a);
        else if (!strcmp(a, "--then-exec")) o.then_exec = v;
        else if (!strcmp(a, "--fd")) o.fd = num(v, a);
        else if (!strcmp(a, "--prior")) o.prior = num(v, a);
        else if (!strcmp(a, "--proto")) o.proto = num(v, a);
        else if (!strcmp(a, "--ethertype")) o.ethertype = num(v, a);
        else if (!strcmp(a, "--token")) {
            long long t = num(v, a);
            if (t > 0xffffffffLL)
                fail("--token must fit in 32 bits");
            o.token = t;
        }
        else fail("unknown option %s (see tgen --help)", a);
    }
    static const char *vias[] = {"write", "uring", "sendfile", "splice", "mmsg"};
    int ok = 0;
    for (size_t i = 0; i < sizeof vias / sizeof *vias; i++)
        ok |= !strcmp(o.via, vias[i]);
    if (!ok)
        fail("unknown --via %s", o.via);
    if (o.timeout < 1 || o.timeout > 600)
        fail("--timeout must be 1..600 seconds");
    if (o.proto < 1 || o.proto > 255 || o.ethertype > 0xffff || o.ethertype < 0x600)
        fail("--proto must be 1..255, --ethertype 0x600..0xffff");
}

int main(int argc, char **argv)
{
    parse_args(argc, argv);
    int m = -1;
    for (size_t i = 0; i < sizeof modes / sizeof *modes; i++)
        if (!strcmp(o.mode, modes[i].name))
            m = i;
    if (m < 0)
        fail("unknown mode (see tgen --help)");
    if (modes[m].server && !o.listen && strcmp(o.mode, "packet-recv"))
        fail("needs --listen");
    signal(SIGPIPE, SIG_IGN);
    if (o.fork) {
        fflush(NULL);
        pid_t child = fork();
        if (child < 0)
            die("fork");
        if (child > 0) { /* the parent only relays the child's outcome */
            int st;
            while (waitpid(child, &st, 0) < 0)
                if (errno != EINTR)
                    die("waitpid");
            if (WIFSIGNALED(st))
                fail("child %d killed by signal %d", child, WTERMSIG(st));
            return WEXITSTATUS(st);
        }
    }
    struct sigaction sa = {.sa_handler = on_alarm}; /* no SA_RESTART: blocking calls return EINTR */
    sigaction(SIGALRM, &sa, NULL);
    alarm(o.timeout);
    memset(buf, 'p', sizeof buf);
    if (o.unix_first > 0)
        unix_first(o.unix_first);
    memset(buf, 'p', sizeof buf);
    modes[m].run();
    alarm(0);

    char exe[4096] = "", ns[64] = "";
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[n > 0 ? n : 0] = 0;
    n = readlink("/proc/self/ns/pid", ns, sizeof ns - 1); /* "pid:[4026531836]" */
    ns[n > 0 ? n : 0] = 0;
    jstr("exe", exe);
    jx(",\"pidns\":%lld", strchr(ns, '[') ? atoll(strchr(ns, '[') + 1) : 0LL);
    if (!strncmp(o.mode, "raw-", 4) || !strncmp(o.mode, "packet-", 7))
        jx(",\"payload\":%lld", g.payload); /* without IPv4 or Ethernet headers */
    if (!strcmp(o.via, "splice"))
        jx(",\"file_bytes\":%lld", g.file_bytes);
    printf("{\"pid\":%d,\"ppid\":%d,\"mode\":\"%s\",\"via\":\"%s\",\"sent\":%lld,\"recv\":%lld,"
           "\"conns\":%ld,\"datagrams_sent\":%ld,\"datagrams_recv\":%ld%s}\n",
           getpid(), getppid(), o.mode, o.via, g.sent, g.recv, g.conns, g.dgram_sent,
           g.dgram_recv, extra);
    if (fflush(stdout) || ferror(stdout))
        die("writing the result");
    return 0;
}
