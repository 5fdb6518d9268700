// SPDX-License-Identifier: GPL-2.0
/*
 * peekd kernel side. Counters are aggregated here, per process instance and
 * flow, so that the cost per send/recv is one counter update (a socket's own
 * slot, or else a hash-map entry) and never a ring buffer record. The ring
 * carries rare events only: exec, first sight of a flow, process exit, TCP
 * close.
 *
 * Sources of truth, one per byte:
 *  - sends of IP and packet sockets (not Unix-domain or netlink: local IPC):
 *    tp_btf/sock_send_length (sock_sendmsg_nosec), which
 *    also covers sendfile/splice-to-socket, io_uring and sendmmsg;
 *  - non-TCP receives: tp_btf/sock_recv_length;
 *  - TCP receives: tp_btf/tcp_rcv_space_adjust, from the socket's own counters,
 *    because splice() from a TCP socket never reaches sock_recvmsg and
 *    MSG_PEEK would otherwise count twice.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "peekd_events.h"

char LICENSE[] SEC("license") = "GPL";

#define AF_INET 2
#define AF_INET6 10
#define AF_PACKET 17
#define IPPROTO_TCP 6
#define IPPROTO_UDP 17
#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define DNS_PORT 53
#define MSG_PEEK 2
#define SOCK_DONE_BIT 1
#define TCP_ESTABLISHED 1
#define TCP_SYN_SENT 2
#define TCP_CLOSE 7

/* Sized by userspace before load (config); these are defaults. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 131072);
	__type(key, struct peekd_flow_key);
	__type(value, struct peekd_flow_val);
} flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	/* 1 MiB, mapped twice into the daemon (about 2 MiB resident). Records are
	 * variable-length, so it holds about 2 500 typical exec records. */
	__uint(max_entries, 1 << 20);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PEEKD_ST_MAX);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

/* Per-socket state: who owns it, and how much TCP payload we already counted. */
struct sk_info {
	__u32 tgid;
	__u32 uid;
	__u64 start_ns;
	__u64 exe_ino;
	__u32 exe_dev;
	__u8 owned;      /* tgid..exe_dev are valid */
	__u8 counted;    /* this socket already added 1 to a flow's conns */
	__u8 rcv_base;   /* rcv_consumed is a valid baseline */
	__u8 want_first; /* a connecting TCP socket whose first payload we want to see */
	__u64 rcv_consumed;
	__u32 udp_seen;  /* a UDP socket's first datagram was looked at (QUIC Initial) */
	/* The fast path. After the first accounted call of an inet socket (which
	 * found or made its flows entry) the socket takes a slot of the slots
	 * array and writes its flow key there once; later calls with the same
	 * key add to the slot's counters: a socket-storage lookup, an array
	 * lookup and two atomic adds instead of hashing the 72-byte key (about
	 * 150 ns measured). Userspace reads the slots in place at every drain,
	 * so no iterator is needed (some kernels refuse them). slot_state goes
	 * EMPTY -> CLAIMING -> OWNED -> GONE (released); CLAIMING falls back to
	 * EMPTY when no slot was free, so a later call may try again. */
	__u32 slot_state;
	__u32 slot;
};

#define SLOT_EMPTY 0
#define SLOT_CLAIMING 1
#define SLOT_OWNED 2
#define SLOT_GONE 3

/* settings[0] is 1 once userspace has attached the release hook and filled
 * free_slots: only then may a socket take a slot. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} settings SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct sk_info);
} sk_infos SEC(".maps");

/* Sized by userspace before load; userspace maps it and reads it in place. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct peekd_slot);
} slots SEC(".maps");

/* Indexes of FREE slots: userspace pushes, the kernel pops. */
struct {
	__uint(type, BPF_MAP_TYPE_QUEUE);
	__uint(max_entries, 16384);
	__type(value, __u32);
} free_slots SEC(".maps");

/* Peer address of an unconnected datagram, handed from the cgroup
 * sendmsg/recvmsg hook to the tracepoint that fires later in the same thread. */
struct pending_addr {
	__u16 family;
	__u16 port;      /* host byte order */
	__u32 pad;
	__u8 addr[16];
};

/* Kept per thread (task storage): no hashing, no locks, no eviction. family
 * 0 means empty; the tracepoint that uses an address clears it. */
struct pending_pair {
	struct pending_addr dst;
	struct pending_addr src;
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct pending_pair);
} pending SEC(".maps");

/* Never written: the zeroed value a new flows entry starts from. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct peekd_flow_val);
} zero_val SEC(".maps");

/* Never read or written: it makes clang emit BTF for every event struct, so
 * the daemon can check its Java layouts against this object at start-up. */
struct layout_anchor {
	struct peekd_event_hdr hdr;
	struct peekd_slot slot;
	struct peekd_payload_event payload;
	struct peekd_gai_event gai;
	struct peekd_exec_event exec;
	struct peekd_flow_event flow;
	struct peekd_exit_event exit;
	struct peekd_close_event close;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct layout_anchor);
} layout_anchor SEC(".maps");

static __always_inline void stat_add(__u32 idx, __u64 n)
{
	__u64 *v = bpf_map_lookup_elem(&stats, &idx);
	if (v)
		*v += n;
}

static __always_inline void fill_proc(struct peekd_flow_key *k)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task_btf();
	k->tgid = bpf_get_current_pid_tgid() >> 32;
	/* The real uid straight from the credentials: the number
	 * bpf_get_current_uid_gid() returns in the initial user namespace, at a
	 * fraction of that helper's cost (measured: about 65 ns per call). */
	k->uid = t->cred->uid.val;
	/* Direct, CO-RE-relocated loads through BTF pointers: each one is a
	 * single instruction, where BPF_CORE_READ would be a helper call. */
	k->start_ns = t->group_leader->start_boottime;
	struct mm_struct *mm = t->mm;
	struct file *exe = mm ? mm->exe_file : 0;
	if (exe) {
		struct inode *ino = exe->f_inode;
		k->exe_ino = ino->i_ino;
		k->exe_dev = ino->i_sb->s_dev;
	}
}

/* Fills family, protocol and both endpoints from the socket. Returns 1 when
 * the socket has a remote peer of its own (connected). */
static __always_inline int fill_sock(struct sock *sk, struct peekd_flow_key *k)
{
	__u16 family = sk->__sk_common.skc_family;
	k->family = family;
	k->proto = sk->sk_protocol;
	k->sk_type = sk->sk_type;
	if (family == AF_INET) {
		__u32 l = sk->__sk_common.skc_rcv_saddr;
		__u32 r = sk->__sk_common.skc_daddr;
		__builtin_memcpy(k->laddr, &l, 4);
		__builtin_memcpy(k->raddr, &r, 4);
	} else if (family == AF_INET6) {
		BPF_CORE_READ_INTO(&k->laddr, sk, __sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8);
		BPF_CORE_READ_INTO(&k->raddr, sk, __sk_common.skc_v6_daddr.in6_u.u6_addr8);
	} else {
		if (family == AF_PACKET)
			k->proto = bpf_ntohs(sk->sk_protocol);
		return 0;
	}
	k->lport = sk->__sk_common.skc_num;
	k->rport = bpf_ntohs(sk->__sk_common.skc_dport);
	__u64 *r64 = (__u64 *)k->raddr;
	return k->rport != 0 || r64[0] != 0 || r64[1] != 0;
}

static __always_inline void emit_flow_event(const struct peekd_flow_key *k)
{
	struct peekd_flow_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		stat_add(PEEKD_ST_RB_DROP_FLOW, 1);
		return;
	}
	struct task_struct *t = (struct task_struct *)bpf_get_current_task_btf();
	e->hdr.type = PEEKD_EV_FLOW;
	e->hdr.cpu = bpf_get_smp_processor_id();
	e->hdr.ts_ns = bpf_ktime_get_boot_ns();
	e->key = *k;
	e->tid = (__u32)bpf_get_current_pid_tgid();
	e->ppid = BPF_CORE_READ(t, real_parent, tgid);
	e->pstart_ns = BPF_CORE_READ(t, real_parent, group_leader, start_boottime);
	e->cgroup_id = bpf_get_current_cgroup_id();
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	bpf_ringbuf_submit(e, 0);
}

/* Finds or creates the counters of a flow. in_task says whether the current
 * task is the flow's process (for the first-sight event). */
static __always_inline struct peekd_flow_val *flow_get(const struct peekd_flow_key *k, int in_task, __u64 sent, __u64 recv)
{
	struct peekd_flow_val *v = bpf_map_lookup_elem(&flows, k);
	if (v)
		return v;
	__u32 zero = 0;
	struct peekd_flow_val *z = bpf_map_lookup_elem(&zero_val, &zero);
	if (!z)
		return 0;
	long err = bpf_map_update_elem(&flows, k, z, BPF_NOEXIST);
	if (err && err != -17 /* EEXIST: another CPU inserted it */) {
		stat_add(PEEKD_ST_MAP_FULL, 1);
		stat_add(PEEKD_ST_MAP_FULL_SENT, sent);
		stat_add(PEEKD_ST_MAP_FULL_RECV, recv);
		return 0;
	}
	if (!err && in_task)
		emit_flow_event(k);
	return bpf_map_lookup_elem(&flows, k);
}

static __always_inline struct sk_info *sk_info_get(struct sock *sk, int create)
{
	struct sk_info *si = bpf_sk_storage_get(&sk_infos, sk, 0, create ? BPF_SK_STORAGE_GET_F_CREATE : 0);
	if (!si && create)
		stat_add(PEEKD_ST_SK_STORAGE_FAIL, 1);
	return si;
}

static __always_inline void set_owner(struct sk_info *si, const struct peekd_flow_key *k)
{
	si->tgid = k->tgid;
	si->uid = k->uid;
	si->start_ns = k->start_ns;
	si->exe_ino = k->exe_ino;
	si->exe_dev = k->exe_dev;
	si->owned = 1;
}

static __always_inline void copy_pending(struct peekd_flow_key *k, const struct pending_addr *p)
{
	if (p->family == k->family) {
		__builtin_memcpy(k->raddr, p->addr, 16);
	} else if (k->family == AF_INET6 && p->family == AF_INET) {
		/* A dual-stack socket sending to a v4-mapped address runs the
		 * IPv4 hook: store the peer as ::ffff:a.b.c.d. */
		__builtin_memset(k->raddr, 0, 10);
		k->raddr[10] = 0xff;
		k->raddr[11] = 0xff;
		__builtin_memcpy(k->raddr + 12, p->addr, 4);
	} else {
		return;
	}
	k->rport = p->port;
}

static __always_inline int same_key(const struct peekd_flow_key *a, const struct peekd_flow_key *b)
{
	const __u64 *x = (const __u64 *)a, *y = (const __u64 *)b;
	__u64 d = 0;
	for (int i = 0; i < (int)(sizeof(*a) / 8); i++)
		d |= x[i] ^ y[i];
	return d == 0;
}

static __always_inline int fast_path_on(void)
{
	__u32 zero = 0;
	__u32 *on = bpf_map_lookup_elem(&settings, &zero);
	return on && *on;
}

/* Counts a call in the socket's slot when k is the slot's flow. No check of
 * settings here: a slot, once taken, is read by every drain until its socket
 * is released, whatever userspace switches. */
static __always_inline int slot_add(struct sk_info *si, const struct peekd_flow_key *k, __u64 bytes, int is_send)
{
	if (!si || si->slot_state != SLOT_OWNED)
		return 0;
	__u32 idx = si->slot;
	struct peekd_slot *s = bpf_map_lookup_elem(&slots, &idx);
	if (!s || !same_key(&s->key, k))
		return 0;
	if (is_send) {
		__sync_fetch_and_add(&s->sent_bytes, bytes);
		__sync_fetch_and_add(&s->sent_calls, 1);
	} else {
		__sync_fetch_and_add(&s->recv_bytes, bytes);
		__sync_fetch_and_add(&s->recv_calls, 1);
	}
	return 1;
}

/* After a slow-path call that created or found the flow entry (so conns and
 * the new-flow event are done): the first key an inet socket is accounted
 * under gets a slot, once. */
static __always_inline void claim_slot(struct sock *sk, struct sk_info *si, const struct peekd_flow_key *k)
{
	if (!si || si->slot_state != SLOT_EMPTY)
		return;
	/* Only sockets that run cgroup/sock_release may take a slot, or it would
	 * never come back: inet sockets of user space (inet_release skips the
	 * hook for kernel sockets). */
	if (k->family != AF_INET && k->family != AF_INET6)
		return;
	if (BPF_CORE_READ_BITFIELD(sk, sk_kern_sock))
		return;
	if (!fast_path_on())
		return;
	if (__sync_val_compare_and_swap(&si->slot_state, SLOT_EMPTY, SLOT_CLAIMING) != SLOT_EMPTY)
		return;
	__u32 idx;
	struct peekd_slot *s = 0;
	if (bpf_map_pop_elem(&free_slots, &idx) == 0)
		s = bpf_map_lookup_elem(&slots, &idx);
	if (!s) {
		stat_add(PEEKD_ST_NO_SLOT, 1);
		__sync_lock_test_and_set(&si->slot_state, SLOT_EMPTY);
		return;
	}
	/* Userspace zeroed the counters before it pushed the index back. */
	s->key = *k;
	/* xchg is a full barrier: the key is in place before userspace or
	 * another call on this socket can see the slot in use. */
	__sync_lock_test_and_set(&s->state, PEEKD_SLOT_ACTIVE);
	si->slot = idx;
	__sync_lock_test_and_set(&si->slot_state, SLOT_OWNED);
}

static __always_inline int account(struct sock *sk, __u64 bytes, int is_send)
{
	struct peekd_flow_key k = {};
	fill_proc(&k);
	int connected = fill_sock(sk, &k);
	int per_socket_conn = connected;
	if (!connected && (k.family == AF_INET || k.family == AF_INET6)) {
		struct pending_pair *pp = bpf_task_storage_get(&pending, bpf_get_current_task_btf(), 0, 0);
		if (pp) {
			struct pending_addr *p = is_send ? &pp->dst : &pp->src;
			if (p->family) {
				copy_pending(&k, p);
				p->family = 0;
			}
		}
	}
	struct sk_info *si = sk_info_get(sk, 1);
	if (slot_add(si, &k, bytes, is_send))
		return 0;
	struct peekd_flow_val *v = flow_get(&k, 1, is_send ? bytes : 0, is_send ? 0 : bytes);
	if (!v)
		return 0;
	if (is_send) {
		v->sent_bytes += bytes;
		v->sent_calls += 1;
	} else {
		v->recv_bytes += bytes;
		v->recv_calls += 1;
	}
	if (si && !si->owned)
		set_owner(si, &k); /* lets DNS answers arriving in softirq name their process */
	if (per_socket_conn) {
		if (si && !si->counted) {
			si->counted = 1;
			v->conns += 1;
		}
	} else if (v->conns == 0) {
		/* An unconnected datagram flow counts once, when first seen. */
		v->conns = 1;
	}
	claim_slot(sk, si, &k);
	return 0;
}

/* Unix-domain and netlink sockets are local IPC (display server, D-Bus, audio,
 * the kernel's own messages): neither a domain nor an IP, and on a desktop they
 * would top every report. Only IP and packet sockets are accounted. */
static __always_inline int network_family(__u16 family)
{
	return family == AF_INET || family == AF_INET6 || family == AF_PACKET;
}

SEC("tp_btf/sock_send_length")
int BPF_PROG(on_send, struct sock *sk, int ret, int flags)
{
	if (ret <= 0 || !network_family(sk->__sk_common.skc_family))
		return 0;
	return account(sk, ret, 1);
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(on_recv, struct sock *sk, int ret, int flags)
{
	if (ret <= 0 || (flags & MSG_PEEK))
		return 0;
	__u16 family = sk->__sk_common.skc_family;
	if (!network_family(family))
		return 0;
	__u16 proto = sk->sk_protocol;
	if ((family == AF_INET || family == AF_INET6) && proto == IPPROTO_TCP)
		return 0; /* counted from the TCP socket's own counters */
	return account(sk, ret, 0);
}

/*
 * Fallback for kernels before 6.3, which lack the sock_*_length tracepoints:
 * the same accounting from fexit on sock_sendmsg/sock_recvmsg. Not loaded
 * unless the daemon picks this hook set ("?" = no autoload). On those kernels
 * sendfile() to a socket went through sendpage, which this does not see.
 */
SEC("?fexit/sock_sendmsg")
int BPF_PROG(on_send_fexit, struct socket *sock, struct msghdr *msg, int ret)
{
	if (ret <= 0)
		return 0;
	struct sock *sk = sock->sk;
	if (!sk || !network_family(sk->__sk_common.skc_family))
		return 0;
	return account(sk, ret, 1);
}

SEC("?fexit/sock_recvmsg")
int BPF_PROG(on_recv_fexit, struct socket *sock, struct msghdr *msg, int flags, int ret)
{
	if (ret <= 0 || (flags & MSG_PEEK))
		return 0;
	struct sock *sk = sock->sk;
	if (!sk)
		return 0;
	__u16 family = sk->__sk_common.skc_family;
	__u16 proto = sk->sk_protocol;
	if (!network_family(family) || ((family == AF_INET || family == AF_INET6) && proto == IPPROTO_TCP))
		return 0;
	return account(sk, ret, 0);
}

/* Payload the application has consumed from this TCP socket so far. The
 * socket counters include the peer's FIN (one sequence number) once it is
 * received; it is consumed when copied_seq reaches rcv_nxt. */
static __always_inline __u64 tcp_consumed(struct sock *sk)
{
	/* A typed tcp_sock pointer (one helper call) lets the three counters be plain loads. */
	struct tcp_sock *tp = bpf_skc_to_tcp_sock(sk);
	if (!tp)
		return 0;
	__u64 received = tp->bytes_received;
	__u32 rcv_nxt = tp->rcv_nxt;
	__u32 copied = tp->copied_seq;
	__u64 consumed = received - (__u32)(rcv_nxt - copied);
	unsigned long flags = sk->__sk_common.skc_flags;
	if ((flags & (1UL << SOCK_DONE_BIT)) && copied == rcv_nxt && consumed > 0)
		consumed -= 1;
	return consumed;
}

SEC("tp_btf/tcp_rcv_space_adjust")
int BPF_PROG(on_tcp_rcv, struct sock *sk)
{
	__u16 family = sk->__sk_common.skc_family;
	if (family != AF_INET && family != AF_INET6)
		return 0;
	struct sk_info *si = sk_info_get(sk, 0);
	__u64 consumed = tcp_consumed(sk);
	if (!si) {
		/* A socket established before we attached: count from here on. */
		si = sk_info_get(sk, 1);
		if (si) {
			si->rcv_consumed = consumed;
			si->rcv_base = 1;
		}
		return 0;
	}
	if (!si->rcv_base) {
		si->rcv_consumed = consumed;
		si->rcv_base = 1;
		return 0;
	}
	if (consumed <= si->rcv_consumed)
		return 0;
	__u64 delta = consumed - si->rcv_consumed;
	si->rcv_consumed = consumed;

	struct peekd_flow_key k = {};
	fill_proc(&k);
	fill_sock(sk, &k);
	if (slot_add(si, &k, delta, 0))
		return 0;
	struct peekd_flow_val *v = flow_get(&k, 1, 0, delta);
	if (!v)
		return 0;
	v->recv_bytes += delta;
	v->recv_calls += 1;
	if (!si->owned)
		set_owner(si, &k);
	if (!si->counted) {
		si->counted = 1;
		v->conns += 1;
	}
	claim_slot(sk, si, &k);
	return 0;
}

static __always_inline void key_from_owner(struct peekd_flow_key *k, const struct sk_info *si)
{
	k->tgid = si->tgid;
	k->uid = si->uid;
	k->start_ns = si->start_ns;
	k->exe_ino = si->exe_ino;
	k->exe_dev = si->exe_dev;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(on_state, struct sock *sk, int oldstate, int newstate)
{
	if (sk->sk_protocol != IPPROTO_TCP)
		return 0;
	if (oldstate == TCP_CLOSE && newstate == TCP_SYN_SENT) {
		/* connect() runs this in the caller's context: remember the owner so
		 * the flow can be recorded even if no byte ever moves. */
		struct sk_info *si = sk_info_get(sk, 1);
		if (!si)
			return 0;
		struct peekd_flow_key k = {};
		fill_proc(&k);
		set_owner(si, &k);
		si->rcv_base = 1;
		si->rcv_consumed = 0;
		si->want_first = 1;
		/* The flow entry itself is created later, in softirq, when the
		 * handshake completes; only here do we see the process, so tell
		 * userspace who it is now (comm, parent, cgroup). The source port
		 * is not chosen yet; userspace uses this record for identity only. */
		fill_sock(sk, &k);
		emit_flow_event(&k);
		return 0;
	}
	if (newstate == TCP_ESTABLISHED) {
		/* Also fires in softirq for accepted children: establish the
		 * receive baseline so their first bytes count. */
		struct sk_info *si = sk_info_get(sk, 1);
		if (!si)
			return 0;
		if (!si->rcv_base) {
			si->rcv_consumed = tcp_consumed(sk);
			si->rcv_base = 1;
		}
		if (oldstate != TCP_SYN_SENT || !si->owned || si->counted)
			return 0;
		struct peekd_flow_key k = {};
		key_from_owner(&k, si);
		fill_sock(sk, &k);
		struct peekd_flow_val *v = flow_get(&k, 0, 0, 0);
		if (v) {
			si->counted = 1;
			v->conns += 1;
		}
		return 0;
	}
	if (newstate == TCP_CLOSE) {
		struct sk_info *si = sk_info_get(sk, 0);
		if (!si || !si->owned)
			return 0;
		struct peekd_flow_key k = {};
		key_from_owner(&k, si);
		fill_sock(sk, &k);
		if (oldstate == TCP_SYN_SENT && !si->counted) {
			/* A refused or timed-out connect still shows up, with 0/0. */
			struct peekd_flow_val *v = flow_get(&k, 0, 0, 0);
			if (v) {
				si->counted = 1;
				v->conns += 1;
			}
		}
		struct peekd_close_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
		if (!e) {
			stat_add(PEEKD_ST_RB_DROP_OTHER, 1);
			return 0;
		}
		e->hdr.type = PEEKD_EV_CLOSE;
		e->hdr.cpu = bpf_get_smp_processor_id();
		e->hdr.ts_ns = bpf_ktime_get_boot_ns();
		e->key = k;
		bpf_ringbuf_submit(e, 0);
	}
	return 0;
}

static __always_inline void remember_addr(struct bpf_sock_addr *ctx, __u16 family, int is_send)
{
	struct pending_pair *pp = bpf_task_storage_get(&pending, bpf_get_current_task_btf(), 0,
						       BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!pp) {
		stat_add(PEEKD_ST_PENDING_FULL, 1);
		return;
	}
	struct pending_addr *p = is_send ? &pp->dst : &pp->src;
	p->port = bpf_ntohs((__u16)ctx->user_port);
	if (family == AF_INET) {
		__u32 a = ctx->user_ip4;
		__builtin_memcpy(p->addr, &a, 4);
	} else {
		__u32 a0 = ctx->user_ip6[0], a1 = ctx->user_ip6[1], a2 = ctx->user_ip6[2], a3 = ctx->user_ip6[3];
		__builtin_memcpy(p->addr, &a0, 4);
		__builtin_memcpy(p->addr + 4, &a1, 4);
		__builtin_memcpy(p->addr + 8, &a2, 4);
		__builtin_memcpy(p->addr + 12, &a3, 4);
	}
	p->family = family;
}

/* These hooks only observe: they always allow the operation. */
SEC("cgroup/sendmsg4")
int on_sendmsg4(struct bpf_sock_addr *ctx) { remember_addr(ctx, AF_INET, 1); return 1; }
SEC("cgroup/sendmsg6")
int on_sendmsg6(struct bpf_sock_addr *ctx) { remember_addr(ctx, AF_INET6, 1); return 1; }
SEC("cgroup/recvmsg4")
int on_recvmsg4(struct bpf_sock_addr *ctx) { remember_addr(ctx, AF_INET, 0); return 1; }
SEC("cgroup/recvmsg6")
int on_recvmsg6(struct bpf_sock_addr *ctx) { remember_addr(ctx, AF_INET6, 0); return 1; }

/* close() of an inet socket's last reference. Every send and receive holds
 * a reference to the socket's file, so no call can add to the slot after
 * this: RELEASED tells userspace the counters are final, and it frees the
 * slot after reading them. */
SEC("cgroup/sock_release")
int on_sock_release(struct bpf_sock *sk)
{
	struct sk_info *si = bpf_sk_storage_get(&sk_infos, sk, 0, 0);
	if (!si || si->slot_state != SLOT_OWNED)
		return 1;
	__u32 idx = si->slot;
	/* The socket forgets the slot first, so that nothing reaches it by this
	 * socket once userspace may hand it to another. */
	__sync_lock_test_and_set(&si->slot_state, SLOT_GONE);
	struct peekd_slot *s = bpf_map_lookup_elem(&slots, &idx);
	if (s)
		__sync_lock_test_and_set(&s->state, PEEKD_SLOT_RELEASED);
	return 1;
}

/* Writes a path leaf-first into buf[PEEKD_PATH_LEN] as NUL-terminated names,
 * crossing mount points, so that even a process that is gone before userspace
 * looks at it has its real executable path and working directory. Returns the
 * bytes used; *truncated stays 1 unless the walk reached the root. One body
 * for both paths, so that the verifier-sensitive bounds live in one place. */
static __always_inline __u16 dentry_path(char *buf, __u8 *truncated, struct dentry *d, struct vfsmount *vm)
{
	struct mount *m = container_of(vm, struct mount, mnt);
	__u32 off = 0;
	*truncated = 1;
	for (int i = 0; i < PEEKD_PATH_DEPTH; i++) {
		struct dentry *root = BPF_CORE_READ(vm, mnt_root);
		if (d == root) {
			struct mount *parent = BPF_CORE_READ(m, mnt_parent);
			if (parent == m) {
				*truncated = 0;
				break;
			}
			d = BPF_CORE_READ(m, mnt_mountpoint);
			m = parent;
			vm = &parent->mnt;
			continue;
		}
		struct dentry *up = BPF_CORE_READ(d, d_parent);
		if (up == d) {
			*truncated = 0;
			break;
		}
		/* off <= 256 and reads of at most 255 bytes keep every write inside buf[512]. */
		if (off > PEEKD_PATH_LEN - 256)
			break;
		const unsigned char *name = BPF_CORE_READ(d, d_name.name);
		long n = bpf_probe_read_kernel_str(buf + off, 255, name);
		if (n <= 0)
			break;
		off += n;
		d = up;
	}
	return off;
}

/* The exec record is built here and sent packed (peekd_events.h): the strings
 * are gathered at fixed places first, because the path walk needs a buffer of
 * known bounds, then copied back to back behind the fixed part. slack only
 * gives the verifier room for the masked offsets; nothing is written there. */
struct exec_work {
	char path[PEEKD_PATH_LEN];
	char filename[PEEKD_PATH_LEN];
	char args[PEEKD_ARGS_LEN];
	char cwd[PEEKD_PATH_LEN];
	struct peekd_exec_event e;
	char slack[PEEKD_EXEC_STRINGS_LEN];
};

/* Per CPU, and safe so: sched_process_exec runs with preemption disabled and
 * a program never re-enters itself on one CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct exec_work);
} exec_work SEC(".maps");

/* Appends n (<= max) bytes of src at strings[off]; returns the new offset. */
static __always_inline __u32 pack(struct exec_work *w, __u32 off, const char *src, __u32 n, __u32 max)
{
	if (n > max)
		n = max;
	/* No-ops at run time (off <= 1536, n <= 512); they bound both for the verifier. */
	off &= PEEKD_EXEC_STRINGS_LEN - 1;
	n &= 1023;
	bpf_probe_read_kernel(w->e.strings + off, n, src);
	return off + n;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(on_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	stat_add(PEEKD_ST_EXEC, 1);
	__u32 zero = 0;
	struct exec_work *w = bpf_map_lookup_elem(&exec_work, &zero);
	if (!w)
		return 0;
	struct peekd_exec_event *e = &w->e;
	e->hdr.type = PEEKD_EV_EXEC;
	e->hdr.cpu = bpf_get_smp_processor_id();
	e->hdr.ts_ns = bpf_ktime_get_boot_ns();
	e->tgid = BPF_CORE_READ(p, tgid);
	e->start_ns = BPF_CORE_READ(p, group_leader, start_boottime);
	e->ppid = BPF_CORE_READ(p, real_parent, tgid);
	e->pstart_ns = BPF_CORE_READ(p, real_parent, group_leader, start_boottime);
	__u64 ug = bpf_get_current_uid_gid();
	e->uid = (__u32)ug;
	e->gid = ug >> 32;
	e->cgroup_id = bpf_get_current_cgroup_id();
	e->pad = 0;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	struct file *f = BPF_CORE_READ(bprm, file);
	e->exe_ino = BPF_CORE_READ(f, f_inode, i_ino);
	e->exe_dev = BPF_CORE_READ(f, f_inode, i_sb, s_dev);
	e->path_len = dentry_path(w->path, &e->path_truncated, BPF_CORE_READ(f, f_path.dentry),
				  BPF_CORE_READ(f, f_path.mnt));
	/* The working directory at exec: an interpreter given a relative script
	 * (bash send.sh) may exit before userspace could read /proc/<pid>/cwd. */
	struct fs_struct *fs = BPF_CORE_READ(p, fs);
	e->cwd_len = 0;
	e->cwd_truncated = 1;
	if (fs)
		e->cwd_len = dentry_path(w->cwd, &e->cwd_truncated, BPF_CORE_READ(fs, pwd.dentry),
					 BPF_CORE_READ(fs, pwd.mnt));
	__builtin_memset(e->pad2, 0, sizeof(e->pad2));
	const char *fname = BPF_CORE_READ(bprm, filename);
	long n = bpf_probe_read_kernel_str(w->filename, sizeof(w->filename), fname);
	e->filename_len = n > 0 ? n : 0;
	unsigned long as = BPF_CORE_READ(p, mm, arg_start);
	unsigned long ae = BPF_CORE_READ(p, mm, arg_end);
	unsigned long len = ae - as;
	if (len > PEEKD_ARGS_LEN)
		len = PEEKD_ARGS_LEN;
	e->args_len = 0;
	if (len > 0 && bpf_probe_read_user(w->args, len & (PEEKD_ARGS_LEN * 2 - 1) & 0x3ff, (void *)as) == 0)
		e->args_len = len;
	__u32 off = pack(w, 0, w->path, e->path_len, PEEKD_PATH_LEN);
	off = pack(w, off, w->filename, e->filename_len, PEEKD_PATH_LEN);
	off = pack(w, off, w->args, e->args_len, PEEKD_ARGS_LEN);
	off = pack(w, off, w->cwd, e->cwd_len, PEEKD_PATH_LEN);
	__u64 size = offsetof(struct peekd_exec_event, strings) + (off & (2 * PEEKD_EXEC_STRINGS_LEN - 1));
	if (bpf_ringbuf_output(&events, e, size, 0))
		stat_add(PEEKD_ST_RB_DROP_EXEC, 1);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(on_exit, struct task_struct *p)
{
	/* signal->live reaches zero before the tracepoint when the whole group
	 * is gone; reading it works on kernels with or without group_dead. */
	if (BPF_CORE_READ(p, signal, live.counter) != 0)
		return 0;
	struct peekd_exit_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		stat_add(PEEKD_ST_RB_DROP_OTHER, 1);
		return 0;
	}
	e->hdr.type = PEEKD_EV_EXIT;
	e->hdr.cpu = bpf_get_smp_processor_id();
	e->hdr.ts_ns = bpf_ktime_get_boot_ns();
	e->tgid = BPF_CORE_READ(p, tgid);
	e->pad = 0;
	e->start_ns = BPF_CORE_READ(p, group_leader, start_boottime);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

/* ---- Domain evidence: DNS answers, first bytes of client flows, getaddrinfo ---- */

/* Reads a context field into a register the compiler may not re-derive from
 * the pointer: the verifier refuses pointer arithmetic on a socket, which
 * clang otherwise emits when it folds a field read into a later copy. */
#define SK_FIELD(sk, f) ({ typeof((sk)->f) __v = (sk)->f; asm volatile("" : "+r"(__v)); __v; })

static __always_inline void key_from_bpf_sock(struct peekd_flow_key *k, struct bpf_sock *sk)
{
	__u32 family = SK_FIELD(sk, family);
	k->family = family;
	k->proto = SK_FIELD(sk, protocol);
	k->sk_type = SK_FIELD(sk, type);
	k->lport = SK_FIELD(sk, src_port);
	k->rport = bpf_ntohs(SK_FIELD(sk, dst_port));
	__u32 w[8];
	if (family == AF_INET) {
		w[0] = SK_FIELD(sk, src_ip4);
		w[4] = SK_FIELD(sk, dst_ip4);
		w[1] = w[2] = w[3] = w[5] = w[6] = w[7] = 0;
	} else {
		w[0] = SK_FIELD(sk, src_ip6[0]);
		w[1] = SK_FIELD(sk, src_ip6[1]);
		w[2] = SK_FIELD(sk, src_ip6[2]);
		w[3] = SK_FIELD(sk, src_ip6[3]);
		w[4] = SK_FIELD(sk, dst_ip6[0]);
		w[5] = SK_FIELD(sk, dst_ip6[1]);
		w[6] = SK_FIELD(sk, dst_ip6[2]);
		w[7] = SK_FIELD(sk, dst_ip6[3]);
	}
	__builtin_memcpy(k->laddr, &w[0], 16);
	__builtin_memcpy(k->raddr, &w[4], 16);
}

/* Where the transport header starts and its first bytes: both ports and,
 * for TCP, the data offset. cgroup_skb programs see the packet from the
 * network header on. */
struct l4_head {
	__u32 off;
	__u16 sport; /* host byte order */
	__u16 dport;
	__u32 hlen;  /* TCP header length (doff * 4); not meaningful for UDP */
};

/* Fills h; returns 0 when this is not an IPv4/IPv6 packet we can parse. Reads
 * the linear part of the packet directly (a few loads) and only falls back to
 * the bpf_skb_load_bytes helper when the headers are not in it. */
static __always_inline int l4_peek(struct __sk_buff *skb, struct l4_head *h)
{
	__u8 b[13];
	__u32 off;
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		__u8 *v = data;
		if ((void *)(v + 1) <= end) {
			off = (*v & 0xf) * 4;
		} else {
			__u8 vihl = 0;
			if (bpf_skb_load_bytes(skb, 0, &vihl, 1))
				return 0;
			off = (vihl & 0xf) * 4;
		}
		if (off < 20)
			return 0;
	} else if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
		off = 40;
	} else {
		return 0;
	}
	__u8 *l4 = data + off;
	if ((void *)(l4 + 13) <= end)
		__builtin_memcpy(b, l4, 13);
	else if (bpf_skb_load_bytes(skb, off, b, 13))
		return 0;
	h->off = off;
	h->sport = ((__u16)b[0] << 8) | b[1];
	h->dport = ((__u16)b[2] << 8) | b[3];
	h->hlen = (b[12] >> 4) * 4;
	return 1;
}

/* Reserves a payload record with room for cap (a power of two) data bytes:
 * the ring takes only constant sizes, so a few size classes keep a DNS answer
 * from costing the 2 KiB a ClientHello may need. */
static __always_inline void emit_payload_cap(struct __sk_buff *skb, __u32 off, __u32 plen,
					     const struct peekd_flow_key *k, __u8 kind, const __u32 cap)
{
	struct peekd_payload_event *e = bpf_ringbuf_reserve(&events, offsetof(struct peekd_payload_event, data) + cap, 0);
	if (!e) {
		stat_add(PEEKD_ST_RB_DROP_DOMAIN, 1);
		return;
	}
	e->hdr.type = PEEKD_EV_PAYLOAD;
	e->hdr.cpu = bpf_get_smp_processor_id();
	e->hdr.ts_ns = bpf_ktime_get_boot_ns();
	e->key = *k;
	e->kind = kind;
	__builtin_memset(e->pad, 0, sizeof(e->pad));
	e->orig_len = plen;
	e->len = 0;
	__u64 n = plen < cap ? plen : cap;
	/* Hide n from clang, then give the verifier a provable range [1, cap]
	 * (n is already in it, so this changes nothing at run time). */
	asm volatile("" : "+r"(n));
	n = ((n - 1) & (cap - 1)) + 1;
	if (bpf_skb_load_bytes(skb, off, e->data, n) == 0)
		e->len = n;
	bpf_ringbuf_submit(e, 0);
}

static __always_inline void emit_payload(struct __sk_buff *skb, __u32 off, const struct peekd_flow_key *k, __u8 kind)
{
	if (skb->len <= off)
		return;
	__u32 plen = skb->len - off;
	if (plen <= 256)
		emit_payload_cap(skb, off, plen, k, kind, 256);
	else if (plen <= 1024)
		emit_payload_cap(skb, off, plen, k, kind, 1024);
	else
		emit_payload_cap(skb, off, plen, k, kind, PEEKD_PAYLOAD_LEN);
}

/* A UDP socket's first datagram, when it goes to port 443: a QUIC Initial
 * carries the ClientHello (and its SNI). Each socket is looked at once. */
static __always_inline int quic_first(struct __sk_buff *skb, struct bpf_sock *sk)
{
	/* Cheap tests first: most datagrams are not to port 443. */
	__u16 rport = bpf_ntohs(SK_FIELD(sk, dst_port));
	if (rport != 0 && rport != 443)
		return 1;
	struct l4_head h;
	if (!l4_peek(skb, &h) || h.dport != 443)
		return 1;
	__u32 off = h.off;
	struct sk_info *si = bpf_sk_storage_get(&sk_infos, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (!si || si->udp_seen)
		return 1;
	si->udp_seen = 1;
	struct peekd_flow_key k = {};
	if (si->owned)
		key_from_owner(&k, si);
	key_from_bpf_sock(&k, sk);
	if (k.rport == 0) {
		/* Unconnected socket: the destination is in the packet. */
		k.rport = 443;
		if (skb->protocol == bpf_htons(ETH_P_IP)) {
			__builtin_memset(k.raddr, 0, 16);
			bpf_skb_load_bytes(skb, 16, k.raddr, 4);
		} else {
			bpf_skb_load_bytes(skb, 24, k.raddr, 16);
		}
	}
	emit_payload(skb, off + 8, &k, PEEKD_PL_FIRST_SEND);
	return 1;
}

/* The first payload a connecting TCP socket sends: TLS ClientHello (SNI) or
 * an HTTP request head (Host, CONNECT). Every other packet returns at the
 * sk_storage check. */
SEC("cgroup_skb/egress")
int on_egress(struct __sk_buff *skb)
{
	struct bpf_sock *sk = skb->sk;
	if (!sk)
		return 1;
	sk = bpf_sk_fullsock(sk);
	if (!sk)
		return 1;
	__u32 proto = SK_FIELD(sk, protocol);
	if (proto == IPPROTO_UDP)
		return quic_first(skb, sk);
	if (proto != IPPROTO_TCP)
		return 1;
	struct l4_head h;
	if (!l4_peek(skb, &h))
		return 1;
	__u32 off = h.off + h.hlen;
	if (skb->len <= off)
		return 1; /* handshake or pure ACK: keep waiting for data */
	/* The socket's own byte counter already includes this segment: unless it
	 * holds exactly this segment's payload, this is not the first data. A
	 * plain load after one helper, where the storage lookup costs far more. */
	struct tcp_sock *tp = bpf_skc_to_tcp_sock(sk);
	if (!tp || tp->bytes_sent != skb->len - off)
		return 1;
	struct sk_info *si = bpf_sk_storage_get(&sk_infos, sk, 0, 0);
	if (!si || !si->want_first)
		return 1;
	si->want_first = 0;
	struct peekd_flow_key k = {};
	key_from_owner(&k, si);
	key_from_bpf_sock(&k, sk);
	emit_payload(skb, off, &k, PEEKD_PL_FIRST_SEND);
	return 1;
}

/* DNS answers on their way into a socket: UDP or TCP from port 53, including
 * a local stub resolver over loopback. */
SEC("cgroup_skb/ingress")
int on_ingress(struct __sk_buff *skb)
{
	struct bpf_sock *sk = skb->sk;
	if (!sk)
		return 1;
	sk = bpf_sk_fullsock(sk);
	if (!sk)
		return 1;
	__u32 proto = SK_FIELD(sk, protocol);
	__u16 rport = bpf_ntohs(SK_FIELD(sk, dst_port));
	if (proto == IPPROTO_TCP) {
		if (rport != DNS_PORT)
			return 1;
	} else if (proto == IPPROTO_UDP) {
		if (rport != DNS_PORT && rport != 0)
			return 1;
	} else {
		return 1;
	}
	struct l4_head h;
	if (!l4_peek(skb, &h) || h.sport != DNS_PORT)
		return 1;
	__u32 off = h.off;
	struct peekd_flow_key k = {};
	struct sk_info *si = bpf_sk_storage_get(&sk_infos, sk, 0, 0);
	if (si && si->owned)
		key_from_owner(&k, si);
	key_from_bpf_sock(&k, sk);
	if (proto == IPPROTO_UDP) {
		if (rport == 0) {
			/* Unconnected socket: the server is the packet's source. */
			k.rport = DNS_PORT;
			if (skb->protocol == bpf_htons(ETH_P_IP)) {
				__builtin_memset(k.raddr, 0, 16);
				bpf_skb_load_bytes(skb, 12, k.raddr, 4);
			} else {
				bpf_skb_load_bytes(skb, 8, k.raddr, 16);
			}
		}
		off += 8;
	} else {
		off += h.hlen;
	}
	emit_payload(skb, off, &k, PEEKD_PL_DNS);
	return 1;
}

/* libc getaddrinfo(): the name a process asked for and every address it got,
 * tied to that process even when the answer came from a cache or a file. */
struct gai_call {
	__u64 node;
	__u64 res;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, struct gai_call);
} gai_calls SEC(".maps");

/* struct addrinfo as glibc lays it out on 64-bit. */
struct user_addrinfo {
	int ai_flags;
	int ai_family;
	int ai_socktype;
	int ai_protocol;
	__u32 ai_addrlen;
	__u32 pad;
	__u64 ai_addr;
	__u64 ai_canonname;
	__u64 ai_next;
};

SEC("uprobe")
int BPF_KPROBE(on_gai_enter, const char *node, const char *service, const void *hints, void **res)
{
	if (!node || !res)
		return 0;
	struct gai_call c = {.node = (__u64)node, .res = (__u64)res};
	__u64 id = bpf_get_current_pid_tgid();
	bpf_map_update_elem(&gai_calls, &id, &c, BPF_ANY);
	return 0;
}

SEC("uretprobe")
int BPF_KRETPROBE(on_gai_exit, int ret)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct gai_call *c = bpf_map_lookup_elem(&gai_calls, &id);
	if (!c)
		return 0;
	struct gai_call call = *c;
	bpf_map_delete_elem(&gai_calls, &id);
	if (ret != 0)
		return 0;
	__u64 ai = 0;
	if (bpf_probe_read_user(&ai, sizeof(ai), (void *)call.res) || !ai)
		return 0;
	struct peekd_gai_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		stat_add(PEEKD_ST_RB_DROP_DOMAIN, 1);
		return 0;
	}
	struct task_struct *t = (struct task_struct *)bpf_get_current_task_btf();
	e->hdr.type = PEEKD_EV_GAI;
	e->hdr.cpu = bpf_get_smp_processor_id();
	e->hdr.ts_ns = bpf_ktime_get_boot_ns();
	e->tgid = id >> 32;
	e->start_ns = BPF_CORE_READ(t, group_leader, start_boottime);
	__builtin_memset(e->family, 0, sizeof(e->family));
	__builtin_memset(e->addrs, 0, sizeof(e->addrs));
	if (bpf_probe_read_user_str(e->name, sizeof(e->name), (void *)call.node) <= 0)
		e->name[0] = 0;
	__u32 n = 0;
	for (int i = 0; i < PEEKD_GAI_ADDRS * 3; i++) {
		struct user_addrinfo a;
		if (!ai || bpf_probe_read_user(&a, sizeof(a), (void *)ai))
			break;
		ai = a.ai_next;
		if (n >= PEEKD_GAI_ADDRS)
			break;
		__u16 fam = 0;
		if (!a.ai_addr || bpf_probe_read_user(&fam, 2, (void *)a.ai_addr))
			continue;
		if (fam == AF_INET)
			bpf_probe_read_user(e->addrs[n & (PEEKD_GAI_ADDRS - 1)], 4, (void *)(a.ai_addr + 4));
		else if (fam == AF_INET6)
			bpf_probe_read_user(e->addrs[n & (PEEKD_GAI_ADDRS - 1)], 16, (void *)(a.ai_addr + 8));
		else
			continue;
		e->family[n & (PEEKD_GAI_ADDRS - 1)] = fam;
		n++;
	}
	e->naddrs = n;
	bpf_ringbuf_submit(e, 0);
	return 0;
}
