/* ng_bindbpf.c: bind(2) control with a cgroup sock_addr program. */
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ng_bindbpf.h"

struct prog {
	struct bpf_insn *v;
	size_t n, max;
	int err;
};

static size_t emit(struct prog *p, uint8_t code, uint8_t dst, uint8_t src, int16_t off,
		   int32_t imm)
{
	if (p->n >= p->max) {
		p->err = -E2BIG;
		return p->n;
	}
	struct bpf_insn *i = &p->v[p->n];
	memset(i, 0, sizeof *i);
	i->code = code;
	i->dst_reg = dst & 15;
	i->src_reg = src & 15;
	i->off = off;
	i->imm = imm;
	return p->n++;
}

#define R0 0
#define R1 1
#define R2 2
#define R6 6

static void ld_ctx(struct prog *p, size_t off)
{
	emit(p, BPF_LDX | BPF_MEM | BPF_W, R2, R6, (int16_t)off, 0);
}

/* A 32-bit compare that jumps to the end of the rule's block when it
 * fails; the offset is patched by end_block(). */
struct block {
	size_t jumps[16];
	size_t nj;
};

static void jfail(struct prog *p, struct block *b, uint8_t op, uint32_t imm)
{
	size_t at = emit(p, BPF_JMP32 | op | BPF_K, R2, 0, 0, (int32_t)imm);
	if (b->nj < 16)
		b->jumps[b->nj++] = at;
	else
		p->err = -E2BIG;
}

static void end_block(struct prog *p, struct block *b)
{
	for (size_t i = 0; i < b->nj && p->err == 0; i++)
		p->v[b->jumps[i]].off = (int16_t)(p->n - b->jumps[i] - 1);
}

static uint32_t word(const uint8_t *b)
{
	uint32_t w;
	memcpy(&w, b, 4); /* as the program loads it: bytes in memory order */
	return w;
}

static int full_ports(const struct net_addr *a)
{
	return a->port_lo == 0 && a->port_hi == 65535;
}

/* Does the rule speak about bind() on `family` sockets at all? */
static int applies(const struct net_rule *r, int family)
{
	if (!(r->access & NET_BIND))
		return 0;
	if (r->family && r->family != family)
		return 0;
	if (r->peer.has_ip || !full_ports(&r->peer)) /* bind has no peer */
		return 0;
	if (r->local.has_ip == 2)
		return 0;
	if (r->local.has_ip == 1 && r->local.ip_family != family)
		return 0;
	return 1;
}

int ng_bind_prog(const struct net_rule *rules, size_t n, int complain,
		 int default_allow, int family, struct bpf_insn *out, size_t max,
		 size_t *len, int *trivial)
{
	struct prog p = { out, 0, max, 0 };
	*trivial = 0;
	emit(&p, BPF_ALU64 | BPF_MOV | BPF_X, R6, R1, 0, 0);
	int decided = 0; /* an unconditional rule ended the program */
	for (int pass = 0; pass < 2 && !decided; pass++) {
		for (size_t i = 0; i < n && !decided; i++) {
			const struct net_rule *r = &rules[i];
			if ((pass == 0) != (r->deny != 0) || !applies(r, family))
				continue;
			struct block b = { .nj = 0 };
			if (r->type) {
				ld_ctx(&p, offsetof(struct bpf_sock_addr, type));
				jfail(&p, &b, BPF_JNE, r->type);
			}
			if (r->protocol) {
				ld_ctx(&p, offsetof(struct bpf_sock_addr, protocol));
				jfail(&p, &b, BPF_JNE, r->protocol);
			}
			if (r->local.has_ip == 1) {
				if (family == AF_INET) {
					ld_ctx(&p, offsetof(struct bpf_sock_addr, user_ip4));
					jfail(&p, &b, BPF_JNE, word(r->local.ip));
				} else {
					for (int w = 0; w < 4; w++) {
						ld_ctx(&p, offsetof(struct bpf_sock_addr, user_ip6) + 4u * w);
						jfail(&p, &b, BPF_JNE, word(r->local.ip + 4 * w));
					}
				}
			}
			if (!full_ports(&r->local)) {
				ld_ctx(&p, offsetof(struct bpf_sock_addr, user_port));
				/* network order in the low 16 bits: to host order */
				emit(&p, BPF_ALU | BPF_END | BPF_TO_BE, R2, 0, 0, 16);
				if (r->local.port_lo > 0)
					jfail(&p, &b, BPF_JLT, r->local.port_lo);
				if (r->local.port_hi < 65535)
					jfail(&p, &b, BPF_JGT, r->local.port_hi);
			}
			int allow = !r->deny || complain;
			emit(&p, BPF_ALU64 | BPF_MOV | BPF_K, R0, 0, 0, allow);
			emit(&p, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
			end_block(&p, &b);
			if (b.nj == 0) {
				decided = 1;
				if (allow && p.n == 3)
					*trivial = 1;
			}
		}
	}
	if (!decided) {
		int allow = complain || default_allow;
		emit(&p, BPF_ALU64 | BPF_MOV | BPF_K, R0, 0, 0, allow);
		emit(&p, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
		if (allow && p.n == 3)
			*trivial = 1;
	}
	*len = p.n;
	return p.err;
}

static long sys_bpf(int cmd, union bpf_attr *a)
{
	return syscall(SYS_bpf, cmd, a, sizeof *a);
}

static const int attach_types[2] = { BPF_CGROUP_INET4_BIND, BPF_CGROUP_INET6_BIND };

static int detach_fd(int cg)
{
	for (int k = 0; k < 2; k++) {
		union bpf_attr a;
		memset(&a, 0, sizeof a);
		a.target_fd = (uint32_t)cg;
		a.attach_type = (uint32_t)attach_types[k];
		if (sys_bpf(BPF_PROG_DETACH, &a) < 0 && errno != ENOENT)
			return -errno;
	}
	return 0;
}

int ng_bind_detach(const char *dir)
{
	int cg = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg < 0)
		return errno == ENOENT ? 0 : -errno;
	int r = detach_fd(cg);
	close(cg);
	return r;
}

/* A loaded program for attach type k and these instructions: from the
 * batch's cache (owned by it, *owned = 0), or loaded now (*owned = 1: the
 * caller closes it once attached). -errno on failure. */
static int load_prog(struct ng_bind_progs *c, int k, const struct bpf_insn *insns,
		     size_t len, int *owned)
{
	for (size_t i = 0; c && i < c->n; i++)
		if (c->e[i].k == k && c->e[i].len == len &&
		    memcmp(c->e[i].insns, insns, len * sizeof *insns) == 0) {
			*owned = 0;
			return c->e[i].fd;
		}
	union bpf_attr a;
	memset(&a, 0, sizeof a);
	a.prog_type = BPF_PROG_TYPE_CGROUP_SOCK_ADDR;
	a.expected_attach_type = (uint32_t)attach_types[k];
	a.insns = (uint64_t)(uintptr_t)insns;
	a.insn_cnt = (uint32_t)len;
	a.license = (uint64_t)(uintptr_t)"GPL";
	memcpy(a.prog_name, k ? "capgate_bind6" : "capgate_bind4", 14);
	int fd = (int)sys_bpf(BPF_PROG_LOAD, &a);
	if (fd < 0)
		return -errno;
	*owned = 1;
	struct bpf_insn *copy;
	if (c && c->n < NG_BIND_PROGS_MAX && (copy = malloc(len * sizeof *insns))) {
		memcpy(copy, insns, len * sizeof *insns);
		c->e[c->n].k = k;
		c->e[c->n].len = len;
		c->e[c->n].insns = copy;
		c->e[c->n].fd = fd;
		c->n++;
		*owned = 0;
	}
	return fd;
}

void ng_bind_progs_free(struct ng_bind_progs *c)
{
	for (size_t i = 0; i < c->n; i++) {
		close(c->e[i].fd);
		free(c->e[i].insns);
	}
	c->n = 0;
}

int ng_bind_attach(const char *dir, const struct profile *pr, int complain, int fresh,
		   struct ng_bind_progs *progs)
{
	const struct net_rule *rules = NULL;
	size_t n = profile_net_rules(pr, &rules);
	uint32_t fl = profile_flags(pr);
	complain = complain || (fl & PF_COMPLAIN) != 0;
	int allow_all = (fl & (PF_DEFAULT_ALLOW | PF_UNCONFINED)) || (profile_extra(pr) & PX_ALL);
	static const int fams[2] = { AF_INET, AF_INET6 };
	struct bpf_insn *insns[2] = { calloc(NG_BIND_MAX_INSNS, sizeof(struct bpf_insn)),
				      calloc(NG_BIND_MAX_INSNS, sizeof(struct bpf_insn)) };
	size_t len[2];
	int trivial[2], r = 0, cg = -1;
	if (!insns[0] || !insns[1]) {
		r = -ENOMEM;
		goto out;
	}
	for (int k = 0; k < 2; k++)
		if ((r = ng_bind_prog(rules, n, complain, allow_all, fams[k], insns[k],
				      NG_BIND_MAX_INSNS, &len[k], &trivial[k])) < 0)
			goto out;
	cg = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg < 0) {
		r = -errno;
		goto out;
	}
	if (trivial[0] && trivial[1]) {
		/* every bind allowed: nothing to attach, and nothing of ours to
		 * take away from a cgroup that had no binding */
		r = fresh ? 0 : detach_fd(cg);
		goto out;
	}
	for (int k = 0; k < 2 && r == 0; k++) {
		int owned;
		int fd = load_prog(progs, k, insns[k], len[k], &owned);
		if (fd < 0) {
			r = fd;
			break;
		}
		union bpf_attr a;
		memset(&a, 0, sizeof a);
		a.target_fd = (uint32_t)cg;
		a.attach_bpf_fd = (uint32_t)fd;
		a.attach_type = (uint32_t)attach_types[k];
		a.attach_flags = BPF_F_ALLOW_OVERRIDE; /* replaces ours; nearest decides */
		if (sys_bpf(BPF_PROG_ATTACH, &a) < 0)
			r = -errno;
		if (owned)
			close(fd); /* the cgroup holds the program now */
	}
out:
	if (cg >= 0)
		close(cg);
	free(insns[0]);
	free(insns[1]);
	return r;
}
