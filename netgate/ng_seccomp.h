/* ng_seccomp.h: socket-creation control with seccomp, from the profile.
 *
 * Packets cannot say "no inet6 sockets", "no netlink" or "no packet
 * sockets": socket(2) and socketpair(2) are refused with EACCES for a
 * (domain, type, protocol) the profile does not allow (decide_socket()),
 * SOCK_NONBLOCK|SOCK_CLOEXEC aside. io_uring_setup/enter/register fail
 * with EACCES unless the profile has an io_uring rule, which closes
 * IORING_OP_SOCKET. The filter is built with libseccomp: every comparison
 * is a masked equality on the low 32 bits (the kernel reads these
 * arguments as int), so junk in a register's upper half cannot slip past.
 * Syscalls of other ABIs (i386's socketcall(2) cannot be filtered by its
 * arguments) kill the process.
 */
#ifndef NETGATE_NG_SECCOMP_H
#define NETGATE_NG_SECCOMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct profile;

/* What socket(2) may create: for families 0..63 (the kernel refuses the
 * rest: AF_MAX is 46) and types 0..15 (type & SOCK_TYPE_MASK), per
 * protocol in protos[] and for every other protocol. Pure. */
#define NG_SC_FAMILIES 64
#define NG_SC_TYPES 16
#define NG_SC_PROTOS 64
struct ng_sock_table {
	uint32_t protos[NG_SC_PROTOS]; /* protocols that rules name, and usual ones */
	size_t nprotos;
	/* allow[f][t][i]: protocol protos[i], i == nprotos: any other */
	uint8_t allow[NG_SC_FAMILIES][NG_SC_TYPES][NG_SC_PROTOS + 1];
};
int ng_sock_table(const struct profile *pr, struct ng_sock_table *t);

/* May pr create this socket (decide_socket, plus `all,`, unix rules and
 * the flags that allow everything)? 1 or 0; *audit for an audit rule. */
int ng_socket_allowed(const struct profile *pr, int family, int type, int protocol,
		      bool *audit);

/* Does socket(2) refuse pr every inet and inet6 socket (no rule allows
 * one, and pr is not in complain mode, unconfined or default_allow)? Then
 * no packet can come from a socket of pr's cgroup, and packet rules for
 * it would never match: the launcher binds it no nftables rules. Pure. */
bool ng_inet_refused(const struct profile *pr);

/* Add the rules to a libseccomp filter (a scmp_filter_ctx) of the
 * caller's: refused socket(2)/socketpair(2) calls fail with EACCES or,
 * with `notify`, become user notifications for the caller's supervisor
 * to log and answer (capgate exec); with `notify` and a profile whose
 * execs can change the profile (PX_TRANSITIONS), every socket(2) and
 * socketpair(2) goes to the supervisor, to be decided by the caller's
 * label at the time. 0 or -errno. */
int ng_seccomp_add(void *ctx, const struct profile *pr, int notify);

/* Write the filter's BPF to fd (for tests and `capgate show`). */
int ng_seccomp_export(const struct profile *pr, int fd);

/* Build and load the filter into the calling thread (and set
 * no_new_privs). For the launcher, in the child, just before exec.
 * Returns 0 or -errno. */
int ng_seccomp_load(const struct profile *pr);

#endif
