/* ng_seccomp.c: socket(2)/socketpair(2)/io_uring filter (see ng_seccomp.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <seccomp.h>

#include "ng_seccomp.h"
#include "policy.h"

#define OTHER_PROTO 0x7ffffff0u /* stands for every protocol no rule names */

static void add_proto(uint32_t *v, size_t *n, uint32_t p)
{
	for (size_t i = 0; i < *n; i++)
		if (v[i] == p)
			return;
	if (*n < NG_SC_PROTOS)
		v[(*n)++] = p;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

int ng_socket_allowed(const struct profile *pr, int family, int type, int protocol,
		      bool *audit)
{
	/* `all,`, complain, unconfined and default_allow profiles create any
	 * socket; a profile with unix rules creates unix sockets (their
	 * addresses are the unix rules' business, not socket(2)'s). */
	const uint32_t fl = profile_flags(pr), px = profile_extra(pr);
	*audit = false;
	if ((px & PX_ALL) || (fl & (PF_COMPLAIN | PF_UNCONFINED | PF_DEFAULT_ALLOW)) ||
	    (family == AF_UNIX && (px & PX_UNIX)))
		return 1;
	return decide_socket(pr, family, type, protocol, audit) == 0;
}

/* The protocols that tell sockets apart: the usual ones and every one a
 * rule names; every other one is decided as OTHER_PROTO. */
static int protos(const struct profile *pr, uint32_t *v, size_t *nv)
{
	static const uint32_t usual[] = { 0, 1, 6, 17, 58, 132, 255, 256, 262 };
	*nv = 0;
	for (size_t i = 0; i < sizeof usual / sizeof *usual; i++)
		add_proto(v, nv, usual[i]);
	const struct net_rule *rules = NULL;
	size_t n = profile_net_rules(pr, &rules);
	for (size_t i = 0; i < n; i++) {
		if (*nv >= NG_SC_PROTOS)
			return -E2BIG;
		add_proto(v, nv, rules[i].protocol);
	}
	qsort(v, *nv, sizeof *v, cmp_u32);
	return 0;
}

static bool family_allowed(const struct profile *pr, const uint32_t *v, size_t nv, int f)
{
	for (int ty = 0; ty < NG_SC_TYPES; ty++)
		for (size_t i = 0; i <= nv; i++) {
			uint32_t p = i < nv ? v[i] : OTHER_PROTO;
			bool audit;
			if (ng_socket_allowed(pr, f, ty, (int)p, &audit))
				return true;
		}
	return false;
}

int ng_sock_table(const struct profile *pr, struct ng_sock_table *t)
{
	memset(t, 0, sizeof *t);
	int r = protos(pr, t->protos, &t->nprotos);
	if (r < 0)
		return r;
	for (int f = 0; f < NG_SC_FAMILIES; f++)
		for (int ty = 0; ty < NG_SC_TYPES; ty++)
			for (size_t i = 0; i <= t->nprotos; i++) {
				uint32_t p = i < t->nprotos ? t->protos[i] : OTHER_PROTO;
				bool audit;
				t->allow[f][ty][i] = (uint8_t)ng_socket_allowed(pr, f, ty, (int)p,
										&audit);
			}
	return 0;
}

bool ng_inet_refused(const struct profile *pr)
{
	uint32_t v[NG_SC_PROTOS];
	size_t nv;
	if (protos(pr, v, &nv) < 0)
		return false;
	return !family_allowed(pr, v, nv, AF_INET) && !family_allowed(pr, v, nv, AF_INET6);
}

/* One deny rule for socket and socketpair: the conditions ANDed. `act`:
 * EACCES at once, or a user notification (the launcher's supervisor logs
 * the denial and answers EACCES). */
static int deny(scmp_filter_ctx ctx, uint32_t act, unsigned n, const struct scmp_arg_cmp *c)
{
	static const char *const calls[] = { "socket", "socketpair" };
	for (size_t i = 0; i < 2; i++) {
		int nr = seccomp_syscall_resolve_name(calls[i]);
		if (nr < 0)
			continue;
		int r = seccomp_rule_add_array(ctx, act, nr, n, c);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Deny protocols in [lo, hi] (32-bit values), as aligned blocks: each is
 * one masked equality, at most 62 of them for a range. */
static int deny_range(scmp_filter_ctx ctx, uint32_t act, struct scmp_arg_cmp *c,
		      uint64_t lo, uint64_t hi)
{
	while (lo <= hi) {
		uint64_t size = 1;
		while (size < (1ull << 32) && (lo & (size * 2 - 1)) == 0 && lo + size * 2 - 1 <= hi)
			size *= 2;
		c[2] = SCMP_A2(SCMP_CMP_MASKED_EQ, 0xffffffffull & ~(size - 1), lo);
		int r = deny(ctx, act, 3, c);
		if (r < 0)
			return r;
		lo += size;
	}
	return 0;
}

static int all_same(const uint8_t *v, size_t n, uint8_t x)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] != x)
			return 0;
	return 1;
}

/* io_uring (IORING_OP_SOCKET would bypass socket(2)): EACCES unless the
 * profile has an io_uring rule. */
static int add_ring_rules(scmp_filter_ctx ctx, const struct profile *pr)
{
	if (profile_extra(pr) & (PX_IO_URING | PX_ALL))
		return 0;
	static const char *const ring[] = { "io_uring_setup", "io_uring_enter",
					    "io_uring_register" };
	for (size_t i = 0; i < 3; i++) {
		int nr = seccomp_syscall_resolve_name(ring[i]);
		int r = nr < 0 ? 0 : seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), nr, 0);
		if (r < 0)
			return r;
	}
	return 0;
}

static int add_rules(scmp_filter_ctx ctx, const struct profile *pr, uint32_t act)
{
	struct ng_sock_table *t = malloc(sizeof *t);
	if (!t)
		return -ENOMEM;
	int r = ng_sock_table(pr, t);
	if (r < 0)
		goto out;
	const size_t np = t->nprotos + 1;
	for (uint32_t f = 0; f < NG_SC_FAMILIES; f++) {
		struct scmp_arg_cmp c[3];
		c[0] = SCMP_A0(SCMP_CMP_MASKED_EQ, 0xffffffffu, f);
		int every = 1, none = 1;
		for (int ty = 0; ty < NG_SC_TYPES; ty++) {
			every &= all_same(&t->allow[f][ty][0], np, 1);
			none &= all_same(&t->allow[f][ty][0], np, 0);
		}
		if (every)
			continue;
		if (none) {
			if ((r = deny(ctx, act, 1, c)) < 0)
				goto out;
			continue;
		}
		for (uint32_t ty = 0; ty < NG_SC_TYPES; ty++) {
			const uint8_t *a = &t->allow[f][ty][0];
			c[1] = SCMP_A1(SCMP_CMP_MASKED_EQ, 0xfu, ty);
			if (all_same(a, np, 1))
				continue;
			if (all_same(a, np, 0)) {
				if ((r = deny(ctx, act, 2, c)) < 0)
					goto out;
				continue;
			}
			if (a[t->nprotos]) {
				/* Other protocols allowed: deny the named ones that are not. */
				for (size_t i = 0; i < t->nprotos; i++) {
					if (a[i])
						continue;
					c[2] = SCMP_A2(SCMP_CMP_MASKED_EQ, 0xffffffffu, t->protos[i]);
					if ((r = deny(ctx, act, 3, c)) < 0)
						goto out;
				}
			} else {
				/* Other protocols denied: deny everything between the
				 * allowed ones (protos[] is sorted). */
				uint64_t lo = 0;
				for (size_t i = 0; i < t->nprotos; i++) {
					if (!a[i])
						continue;
					if (t->protos[i] > lo &&
					    (r = deny_range(ctx, act, c, lo, t->protos[i] - 1)) < 0)
						goto out;
					lo = (uint64_t)t->protos[i] + 1;
				}
				if (lo <= 0xffffffffull &&
				    (r = deny_range(ctx, act, c, lo, 0xffffffffull)) < 0)
					goto out;
			}
		}
	}
	r = add_ring_rules(ctx, pr);
out:
	free(t);
	return r;
}

int ng_seccomp_add(void *ctx, const struct profile *pr, int notify)
{
	if (!notify || !(profile_extra(pr) & PX_TRANSITIONS))
		return add_rules(ctx, pr, notify ? SCMP_ACT_NOTIFY : SCMP_ACT_ERRNO(EACCES));
	/* An exec may move the program to another profile, which the filter
	 * (inherited, fixed) cannot follow: every socket(2)/socketpair(2)
	 * goes to the supervisor, which decides by the caller's label. */
	static const char *const calls[] = { "socket", "socketpair" };
	for (size_t i = 0; i < 2; i++) {
		int nr = seccomp_syscall_resolve_name(calls[i]);
		int r = nr < 0 ? 0 : seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, nr, 0);
		if (r < 0)
			return r;
	}
	return add_ring_rules(ctx, pr);
}

static int build(const struct profile *pr, scmp_filter_ctx *out)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx)
		return -ENOMEM;
	int r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	if (r == 0)
		r = add_rules(ctx, pr, SCMP_ACT_ERRNO(EACCES));
	if (r < 0) {
		seccomp_release(ctx);
		return r;
	}
	*out = ctx;
	return 0;
}

int ng_seccomp_export(const struct profile *pr, int fd)
{
	scmp_filter_ctx ctx;
	int r = build(pr, &ctx);
	if (r < 0)
		return r;
	r = seccomp_export_bpf(ctx, fd);
	seccomp_release(ctx);
	return r;
}

int ng_seccomp_load(const struct profile *pr)
{
	scmp_filter_ctx ctx;
	int r = build(pr, &ctx);
	if (r < 0)
		return r;
	r = seccomp_load(ctx);
	seccomp_release(ctx);
	return r;
}
