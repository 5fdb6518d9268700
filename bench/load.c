/*
 * load: loopback load generator for bench/overhead.
 *
 *   load tcp SIZE MAX_BYTES SECONDS [-c SEND_CPU,RECV_CPU]
 *   load udp SIZE MAX_DGRAMS SECONDS [-c SEND_CPU,RECV_CPU]
 *
 * tcp: a sender and a receiver process over one 127.0.0.1 connection. The
 *      sender writes SIZE-byte messages, the receiver reads SIZE bytes per
 *      call (so every message costs one send and about one receive, the
 *      path peekd hooks). Throughput is payload bytes over the time from
 *      the first write until the receiver has read the last byte.
 * udp: unconnected sendto()/recvfrom() of SIZE-byte datagrams to and from
 *      127.0.0.1, the path that also runs the cgroup sendmsg/recvmsg hooks.
 *      The rate is datagrams the receiver got per second of the run (the
 *      delivered rate); loopback drops datagrams the receiver cannot keep
 *      up with, and those are reported but not counted.
 *
 * Each run stops at whichever comes first: the byte/datagram count or
 * SECONDS. A watchdog (alarm) kills a run that is still going well after
 * that, so a wedged peer can never hang the benchmark.
 *
 * Output: one line of key=value pairs on stdout, e.g.
 *   mode=tcp size=1024 bytes=... msgs=... seconds=... rate=... unit=MB/s cpu=... wire_sent=...
 * cpu is the user+system CPU seconds of sender and receiver together:
 * loopback does the receive-side protocol work in the sender's context, so
 * the pair's CPU time is the whole cost of the traffic.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_SIZE (1 << 20)
#define UDP_STOP_MAGIC 0x70656b64u /* "pekd": end-of-run marker datagram */

/* What the receiver hands back to the sender through a pipe. */
struct recv_report {
	uint64_t bytes;
	uint64_t msgs;
	double last_ns; /* CLOCK_MONOTONIC of the last payload read */
};

static void die(const char *what)
{
	fprintf(stderr, "load: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: load tcp SIZE MAX_BYTES SECONDS [-c SEND_CPU,RECV_CPU]\n"
		"       load udp SIZE MAX_DGRAMS SECONDS [-c SEND_CPU,RECV_CPU]\n"
		"Loopback (127.0.0.1) throughput between a sender and a receiver process.\n"
		"Stops at the count or after SECONDS, whichever is first; prints one\n"
		"key=value line. -c pins the sender and receiver to these CPUs.\n");
	exit(2);
}

static double now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e9 + t.tv_nsec;
}

static double tv_s(struct timeval t)
{
	return t.tv_sec + t.tv_usec / 1e6;
}

static void pin(int cpu)
{
	if (cpu < 0)
		return;
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) != 0)
		die("sched_setaffinity");
}

static void write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			die("write");
		p += w;
		n -= (size_t)w;
	}
}

static void read_all(int fd, void *buf, size_t n)
{
	char *p = buf;
	while (n > 0) {
		ssize_t r = read(fd, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			fprintf(stderr, "load: receiver died before reporting\n");
			exit(1);
		}
		p += r;
		n -= (size_t)r;
	}
}

/* Binds a socket of this type to 127.0.0.1 on an ephemeral port. */
static int loopback_socket(int type, struct sockaddr_in *addr)
{
	int fd = socket(AF_INET, type, 0);
	if (fd < 0)
		die("socket");
	memset(addr, 0, sizeof(*addr));
	addr->sin_family = AF_INET;
	addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)addr, sizeof(*addr)) != 0)
		die("bind 127.0.0.1");
	socklen_t len = sizeof(*addr);
	if (getsockname(fd, (struct sockaddr *)addr, &len) != 0)
		die("getsockname");
	return fd;
}

/* Forks the receiver; it dies with its parent and reports through *rfd. */
static pid_t spawn(int *rfd, void (*child)(int wfd, void *arg), void *arg, int cpu)
{
	int p[2];
	if (pipe(p) != 0)
		die("pipe");
	pid_t pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(p[0]);
		pin(cpu);
		child(p[1], arg);
		_exit(0);
	}
	close(p[1]);
	*rfd = p[0];
	return pid;
}

struct tcp_arg {
	int listen_fd;
	size_t size;
};

static void tcp_receiver(int wfd, void *argp)
{
	struct tcp_arg *a = argp;
	int fd = accept(a->listen_fd, NULL, NULL);
	if (fd < 0)
		die("accept");
	char *buf = malloc(a->size);
	if (!buf)
		die("malloc");
	struct recv_report rep = {0};
	for (;;) {
		ssize_t r = read(fd, buf, a->size);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			die("tcp read");
		if (r == 0)
			break;
		rep.bytes += (uint64_t)r;
		rep.msgs++;
	}
	rep.last_ns = now_ns();
	close(fd);
	write_all(wfd, &rep, sizeof(rep));
}

/* Collects the receiver's report; returns the CPU seconds of both processes. */
static double finish(const char *mode, pid_t child, int rfd, struct recv_report *rep)
{
	read_all(rfd, rep, sizeof(*rep));
	int status;
	struct rusage cru;
	if (wait4(child, &status, 0, &cru) < 0)
		die("wait4");
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "load: %s receiver failed (status %d)\n", mode, status);
		exit(1);
	}
	struct rusage self;
	getrusage(RUSAGE_SELF, &self);
	return tv_s(self.ru_utime) + tv_s(self.ru_stime) + tv_s(cru.ru_utime) + tv_s(cru.ru_stime);
}

static int run_tcp(size_t size, uint64_t max_bytes, double seconds, int scpu, int rcpu)
{
	struct sockaddr_in addr;
	int lfd = loopback_socket(SOCK_STREAM, &addr);
	if (listen(lfd, 1) != 0)
		die("listen");
	struct tcp_arg a = {lfd, size};
	int rfd;
	pid_t child = spawn(&rfd, tcp_receiver, &a, rcpu);
	close(lfd);
	pin(scpu);

	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		die("socket");
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0)
		die("connect 127.0.0.1");
	char *buf = malloc(size);
	if (!buf)
		die("malloc");
	memset(buf, 'x', size);

	uint64_t sent = 0, msgs = 0;
	double start = now_ns(), deadline = start + seconds * 1e9;
	while (sent < max_bytes) {
		size_t want = size;
		if (max_bytes - sent < want)
			want = (size_t)(max_bytes - sent);
		ssize_t w = write(fd, buf, want);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			die("tcp write");
		sent += (uint64_t)w;
		msgs++;
		/* The clock is cheap (vDSO) but not free: look every 16 writes. */
		if ((msgs & 15) == 0 && now_ns() >= deadline)
			break;
	}
	shutdown(fd, SHUT_WR);
	struct recv_report rep;
	double cpu = finish("tcp", child, rfd, &rep);
	close(fd);
	if (rep.bytes != sent) {
		fprintf(stderr, "load: tcp receiver got %llu of %llu bytes\n",
			(unsigned long long)rep.bytes, (unsigned long long)sent);
		return 1;
	}
	double secs = (rep.last_ns - start) / 1e9;
	printf("mode=tcp size=%zu bytes=%llu msgs=%llu seconds=%.4f rate=%.2f unit=MB/s cpu=%.4f wire_sent=%llu\n",
	       size, (unsigned long long)sent, (unsigned long long)msgs, secs, sent / secs / 1e6, cpu,
	       (unsigned long long)sent);
	return 0;
}

struct udp_arg {
	int fd;
	size_t size;
};

static void udp_receiver(int wfd, void *argp)
{
	struct udp_arg *a = argp;
	/* An idle receive timeout ends the run even if every stop marker is lost. */
	struct timeval tv = {.tv_sec = 0, .tv_usec = 500000};
	if (setsockopt(a->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0)
		die("SO_RCVTIMEO");
	char *buf = malloc(a->size + 16);
	if (!buf)
		die("malloc");
	struct recv_report rep = {0};
	for (;;) {
		struct sockaddr_in from;
		socklen_t flen = sizeof(from);
		ssize_t r = recvfrom(a->fd, buf, a->size + 16, 0, (struct sockaddr *)&from, &flen);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (r < 0)
			die("recvfrom");
		uint32_t magic;
		if (r == sizeof(magic) && (memcpy(&magic, buf, sizeof(magic)), magic == UDP_STOP_MAGIC))
			break;
		rep.bytes += (uint64_t)r;
		rep.msgs++;
		rep.last_ns = now_ns();
	}
	write_all(wfd, &rep, sizeof(rep));
}

static int run_udp(size_t size, uint64_t max_dgrams, double seconds, int scpu, int rcpu)
{
	if (size < 8) {
		fprintf(stderr, "load: udp SIZE must be at least 8\n");
		return 2;
	}
	struct sockaddr_in raddr, saddr;
	int rfd_sock = loopback_socket(SOCK_DGRAM, &raddr);
	/* A deep queue so short scheduling hiccups of the receiver do not drop. */
	int rcvbuf = 8 << 20;
	if (setsockopt(rfd_sock, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) != 0)
		setsockopt(rfd_sock, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	struct udp_arg a = {rfd_sock, size};
	int rfd;
	pid_t child = spawn(&rfd, udp_receiver, &a, rcpu);
	close(rfd_sock);
	pin(scpu);

	int fd = loopback_socket(SOCK_DGRAM, &saddr);
	char *buf = malloc(size);
	if (!buf)
		die("malloc");
	memset(buf, 'u', size);
	uint64_t sent = 0;
	double start = now_ns(), deadline = start + seconds * 1e9;
	while (sent < max_dgrams) {
		ssize_t w = sendto(fd, buf, size, 0, (struct sockaddr *)&raddr, sizeof(raddr));
		if (w < 0 && (errno == EINTR || errno == ENOBUFS || errno == EAGAIN))
			continue;
		if (w < 0)
			die("sendto");
		sent++;
		if ((sent & 15) == 0 && now_ns() >= deadline)
			break;
	}
	double send_end = now_ns();
	/* Several markers, spaced out: a marker may be dropped like any datagram. */
	uint32_t magic = UDP_STOP_MAGIC;
	uint64_t marker_bytes = 0;
	for (int i = 0; i < 20; i++) {
		ssize_t w = sendto(fd, &magic, sizeof(magic), 0, (struct sockaddr *)&raddr, sizeof(raddr));
		if (w > 0)
			marker_bytes += (uint64_t)w;
		usleep(5000);
	}
	struct recv_report rep;
	double cpu = finish("udp", child, rfd, &rep);
	close(fd);
	double end = rep.msgs ? rep.last_ns : send_end;
	double secs = (end - start) / 1e9;
	/* wire_sent: every byte sendto() accepted, markers included, which is
	 * what peekd must attribute to this executable. */
	printf("mode=udp size=%zu sent=%llu msgs=%llu dropped=%llu seconds=%.4f rate=%.0f unit=dgram/s cpu=%.4f wire_sent=%llu\n",
	       size, (unsigned long long)sent, (unsigned long long)rep.msgs,
	       (unsigned long long)(sent - rep.msgs), secs, rep.msgs / secs, cpu,
	       (unsigned long long)(sent * size + marker_bytes));
	return rep.msgs > 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	int scpu = -1, rcpu = -1;
	int n = 0;
	char *pos[4];
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) {
			if (sscanf(argv[++i], "%d,%d", &scpu, &rcpu) != 2)
				usage();
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			usage();
		} else if (n < 4) {
			pos[n++] = argv[i];
		} else {
			usage();
		}
	}
	if (n != 4)
		usage();
	char *end;
	long size = strtol(pos[1], &end, 10);
	if (*end || size < 1 || size > MAX_SIZE)
		usage();
	unsigned long long count = strtoull(pos[2], &end, 10);
	if (*end || count == 0)
		usage();
	double seconds = strtod(pos[3], &end);
	if (*end || seconds <= 0 || seconds > 600)
		usage();
	/* The watchdog: generous, but a hung peer cannot outlive it. */
	alarm((unsigned)seconds + 30);
	setvbuf(stdout, NULL, _IOFBF, 1 << 12);
	if (strcmp(pos[0], "tcp") == 0)
		return run_tcp((size_t)size, count, seconds, scpu, rcpu);
	if (strcmp(pos[0], "udp") == 0)
		return run_udp((size_t)size, count, seconds, scpu, rcpu);
	usage();
	return 2;
}
