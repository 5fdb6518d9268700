/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The one definition of every record that crosses the kernel/user boundary.
 * The Java side (io.peekd.bpf.Layouts) mirrors these structs and checks its
 * layouts against this object's BTF at start-up, so a change here that is not
 * mirrored in Java stops the daemon with a clear message instead of decoding
 * garbage. Keep fields naturally aligned and padding explicit.
 */
#ifndef PEEKD_EVENTS_H
#define PEEKD_EVENTS_H

#define PEEKD_COMM_LEN 16
#define PEEKD_PATH_LEN 512  /* reversed, NUL-separated dentry names */
#define PEEKD_ARGS_LEN 512  /* raw argv area, NUL-separated */
#define PEEKD_PATH_DEPTH 32
#define PEEKD_PAYLOAD_LEN 2048 /* first bytes of a flow, or one DNS message */
#define PEEKD_EXEC_STRINGS_LEN (3 * PEEKD_PATH_LEN + PEEKD_ARGS_LEN)
#define PEEKD_GAI_NAME_LEN 256
#define PEEKD_GAI_ADDRS 8

/* Ring buffer record types. Only rare things travel through the ring. */
enum peekd_event_type {
	PEEKD_EV_EXEC = 1,
	PEEKD_EV_FLOW = 2,   /* first sight of a flow key */
	PEEKD_EV_EXIT = 3,   /* thread group died */
	PEEKD_EV_CLOSE = 4,  /* TCP socket reached CLOSE: its flow may be evicted */
	PEEKD_EV_PAYLOAD = 5, /* DNS message received, or the first bytes a client sent */
	PEEKD_EV_GAI = 6,    /* libc getaddrinfo() returned addresses for a name */
};

enum peekd_payload_kind {
	PEEKD_PL_DNS = 1,         /* a DNS message (UDP payload, or TCP bytes from port 53) */
	PEEKD_PL_FIRST_SEND = 2,  /* first payload a connecting TCP socket sent */
};

/* Indexes into the per-CPU stats array: every loss is counted here. */
enum peekd_stat {
	PEEKD_ST_RB_DROP_EXEC = 0,
	PEEKD_ST_RB_DROP_FLOW = 1,
	PEEKD_ST_RB_DROP_OTHER = 2,
	PEEKD_ST_MAP_FULL = 3,         /* flow map had no room: events */
	PEEKD_ST_MAP_FULL_SENT = 4,    /* ... and the bytes that were not attributed */
	PEEKD_ST_MAP_FULL_RECV = 5,
	PEEKD_ST_SK_STORAGE_FAIL = 6,
	PEEKD_ST_EXEC = 7,
	PEEKD_ST_SEND_CALLS = 8,
	PEEKD_ST_RECV_CALLS = 9,
	PEEKD_ST_PENDING_FULL = 10,    /* no per-thread storage for a datagram's peer address */
	PEEKD_ST_RB_DROP_DOMAIN = 11,  /* DNS/first-bytes/getaddrinfo records dropped */
	PEEKD_ST_NO_SLOT = 12,         /* a call found no free counter slot: not a loss, its socket stays on the hash path */
	PEEKD_ST_MAX = 16,
};

/* One flow as the kernel aggregates it: who (process instance) and where. */
struct peekd_flow_key {
	__u32 tgid;
	__u32 uid;
	__u64 start_ns;     /* group leader start_boottime: (tgid, start_ns) names a process */
	__u64 exe_ino;      /* mm->exe_file inode: separates exec generations */
	__u32 exe_dev;
	__u16 family;       /* AF_INET, AF_INET6, AF_PACKET, ... */
	__u16 proto;        /* sk_protocol: IPPROTO_* or, for AF_PACKET, the ethertype */
	__u8  sk_type;      /* SOCK_STREAM, SOCK_DGRAM, SOCK_RAW */
	__u8  pad[3];
	__u16 lport;        /* host byte order */
	__u16 rport;        /* host byte order */
	__u8  laddr[16];    /* IPv4 in the first four bytes */
	__u8  raddr[16];
};

/* Cumulative counters per CPU; userspace sums CPUs and takes deltas. */
struct peekd_flow_val {
	__u64 sent_bytes;
	__u64 recv_bytes;
	__u64 sent_calls;
	__u64 recv_calls;
	__u64 conns;
};

/* States of a socket counter slot. Only the kernel moves a slot from FREE
 * (popped off free_slots) to ACTIVE and on to RELEASED; only userspace moves
 * it back to FREE, after its final read, and pushes the index again. (1 is
 * not used: the socket's own sk_info holds the claiming state.) */
enum peekd_slot_state {
	PEEKD_SLOT_FREE = 0,
	PEEKD_SLOT_ACTIVE = 2,
	PEEKD_SLOT_RELEASED = 3,
};

/* One socket's counters for its usual flow, in an mmap-able array that
 * userspace reads in place. The counters only grow while the slot is taken,
 * so the drain's deltas are exact without any reset race. 128 bytes: two
 * whole cache lines, so sockets busy on different CPUs never share one. */
struct peekd_slot {
	__u32 state;        /* enum peekd_slot_state */
	__u32 pad;
	struct peekd_flow_key key;  /* written once, before the state turns ACTIVE */
	__u64 sent_bytes;
	__u64 recv_bytes;
	__u64 sent_calls;
	__u64 recv_calls;
	__u64 pad2[2];
};

struct peekd_event_hdr {
	__u32 type;
	__u32 cpu;
	__u64 ts_ns;        /* bpf_ktime_get_boot_ns() */
};

/* On the wire an exec record is variable-length: the fixed part, then the
 * four strings packed back to back in strings[], each taking only its _len
 * bytes, in this order: path, filename, args, cwd. The record ends after the
 * last of them, so a typical exec costs a few hundred bytes of ring, not 2 KiB. */
struct peekd_exec_event {
	struct peekd_event_hdr hdr;
	__u32 tgid;
	__u32 ppid;
	__u64 start_ns;
	__u64 pstart_ns;
	__u32 uid;
	__u32 gid;
	__u64 exe_ino;
	__u32 exe_dev;
	__u16 path_len;     /* bytes of path (<= PEEKD_PATH_LEN): components leaf-first, each NUL-terminated */
	__u8  path_truncated;
	__u8  pad;
	__u64 cgroup_id;
	__u32 args_len;     /* bytes of args (<= PEEKD_ARGS_LEN): the raw argv area, NUL-separated */
	__u32 filename_len; /* bytes of filename (<= PEEKD_PATH_LEN): bprm->filename as passed to execve */
	__u16 cwd_len;      /* bytes of cwd (<= PEEKD_PATH_LEN): working directory at exec, leaf-first like path */
	__u8  cwd_truncated;
	__u8  pad2[5];
	char  comm[PEEKD_COMM_LEN];
	char  strings[PEEKD_EXEC_STRINGS_LEN];
};

struct peekd_flow_event {
	struct peekd_event_hdr hdr;
	struct peekd_flow_key key;
	__u32 ppid;
	__u32 tid;
	__u64 pstart_ns;
	__u64 cgroup_id;
	char  comm[PEEKD_COMM_LEN];
};

struct peekd_exit_event {
	struct peekd_event_hdr hdr;
	__u32 tgid;
	__u32 pad;
	__u64 start_ns;
};

struct peekd_close_event {
	struct peekd_event_hdr hdr;
	struct peekd_flow_key key;
};

/* Evidence for domain attribution. key is the flow as its owner sees it.
 * On the wire the record may end early: after at least len bytes of data. */
struct peekd_payload_event {
	struct peekd_event_hdr hdr;
	struct peekd_flow_key key;
	__u32 len;          /* bytes in data[] */
	__u32 orig_len;     /* payload bytes in the packet */
	__u8  kind;         /* enum peekd_payload_kind */
	__u8  pad[7];
	__u8  data[PEEKD_PAYLOAD_LEN];
};

struct peekd_gai_event {
	struct peekd_event_hdr hdr;
	__u32 tgid;
	__u32 naddrs;
	__u64 start_ns;
	__u16 family[PEEKD_GAI_ADDRS];
	__u8  addrs[PEEKD_GAI_ADDRS][16];
	char  name[PEEKD_GAI_NAME_LEN];
};

#endif
