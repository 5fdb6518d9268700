// SPDX-License-Identifier: GPL-2.0
/*
 * The benchmark floor: the same hooks as peekd.bpf.c with empty bodies. The
 * difference between this and no BPF at all is the kernel's own cost of
 * running a program on each hook; peekd's overhead is judged against it.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

SEC("tp_btf/sock_send_length")
int BPF_PROG(on_send, struct sock *sk, int ret, int flags) { return 0; }
SEC("tp_btf/sock_recv_length")
int BPF_PROG(on_recv, struct sock *sk, int ret, int flags) { return 0; }
SEC("tp_btf/tcp_rcv_space_adjust")
int BPF_PROG(on_tcp_rcv, struct sock *sk) { return 0; }
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(on_state, struct sock *sk, int oldstate, int newstate) { return 0; }
SEC("tp_btf/sched_process_exec")
int BPF_PROG(on_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm) { return 0; }
SEC("tp_btf/sched_process_exit")
int BPF_PROG(on_exit, struct task_struct *p) { return 0; }
SEC("cgroup/sendmsg4")
int on_sendmsg4(struct bpf_sock_addr *ctx) { return 1; }
SEC("cgroup/sendmsg6")
int on_sendmsg6(struct bpf_sock_addr *ctx) { return 1; }
SEC("cgroup/recvmsg4")
int on_recvmsg4(struct bpf_sock_addr *ctx) { return 1; }
SEC("cgroup/recvmsg6")
int on_recvmsg6(struct bpf_sock_addr *ctx) { return 1; }
SEC("cgroup/sock_release")
int on_sock_release(struct bpf_sock *sk) { return 1; }
SEC("cgroup_skb/egress")
int on_egress(struct __sk_buff *skb) { return 1; }
SEC("cgroup_skb/ingress")
int on_ingress(struct __sk_buff *skb) { return 1; }
SEC("uprobe")
int on_gai_enter(void *ctx) { return 0; }
SEC("uretprobe")
int on_gai_exit(void *ctx) { return 0; }
