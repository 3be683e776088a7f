/* ng_bindbpf.h: make bind(2) itself fail for a port the profile denies.
 *
 * A packet filter can refuse every connection to a denied port, not the
 * bind(). The kernel's tool for that is a cgroup sock_addr BPF program
 * (BPF_CGROUP_INET4_BIND / INET6_BIND): it runs in bind(2) for the
 * sockets of the cgroup and its descendants, and a 0 makes bind() fail
 * with EPERM. The program is generated from the profile's rules that name
 * the bind access (deny first, then allow, then the default), attached
 * with BPF_F_ALLOW_OVERRIDE so the nearest confined ancestor decides, as
 * with the nftables rules. It stays attached to the cgroup (its state is
 * in the kernel) until detached or the cgroup goes; cgroup programs are
 * not per network namespace. A profile that allows every bind gets none.
 * Raw sockets have their own bind and do not run the hook.
 */
#ifndef NETGATE_NG_BINDBPF_H
#define NETGATE_NG_BINDBPF_H

#include <stddef.h>
#include <stdint.h>

#include "policy.h"

struct bpf_insn;

#define NG_BIND_MAX_INSNS 4096

/* The program for `family` (AF_INET or AF_INET6). *trivial is set when it
 * allows every bind (no need to attach). Pure. -E2BIG past the limit. */
int ng_bind_prog(const struct net_rule *rules, size_t n, int complain,
		 int default_allow, int family, struct bpf_insn *out, size_t max,
		 size_t *len, int *trivial);

/* Load and attach (replacing what was attached) the programs for the
 * cgroup directory `dir` (a full path), or detach them when the profile
 * allows every bind. complain: as if flags=(complain). fresh: the cgroup
 * had no binding, so no program of ours is attached (an allow-every-bind
 * profile then costs no cgroup_mutex round). 0 or -errno. */
/* Programs loaded during one batch, shared by the cgroups whose profiles
 * compile to the same instructions (bind rules often are the same). */
#define NG_BIND_PROGS_MAX 64
struct ng_bind_progs {
	size_t n;
	struct { int k; size_t len; struct bpf_insn *insns; int fd; } e[NG_BIND_PROGS_MAX];
};
void ng_bind_progs_free(struct ng_bind_progs *c);
/* progs: the batch's cache, or NULL. */
int ng_bind_attach(const char *dir, const struct profile *pr, int complain, int fresh,
		   struct ng_bind_progs *progs);

/* Detach both programs; 0 also when none was attached. */
int ng_bind_detach(const char *dir);

#endif
