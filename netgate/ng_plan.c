/* ng_plan.c: net rules -> chains of simple matches (see ng_plan.h). */
#include <errno.h>
#include <netinet/in.h>
#include <linux/netfilter.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "ng_plan.h"

#define PLAN_FORMAT 1 /* bump when the meaning of a plan changes */

uint32_t ng_class_access(enum ng_dir dir, enum ng_class c)
{
	static const uint32_t acc[NG_DIR_MAX][NG_CLASS_MAX] = {
		[NG_OUT] = {
			[NG_C_NEW_TCP] = NET_CONNECT,
			[NG_C_NEW_OTHER] = NET_CONNECT | NET_SEND,
			[NG_C_LOCAL] = NET_CONNECT | NET_SEND,
			[NG_C_REMOTE] = NET_BIND | NET_LISTEN | NET_ACCEPT | NET_SEND,
		},
		[NG_IN] = {
			[NG_C_NEW_TCP] = NET_BIND | NET_LISTEN | NET_ACCEPT,
			[NG_C_NEW_OTHER] = NET_BIND | NET_RECEIVE,
			[NG_C_LOCAL] = NET_CONNECT | NET_RECEIVE,
			[NG_C_REMOTE] = NET_BIND | NET_LISTEN | NET_ACCEPT | NET_RECEIVE,
		},
	};
	return acc[dir][c];
}

void ng_chain_name(uint64_t hash, enum ng_dir dir, int k, char *buf)
{
	char d = dir == NG_OUT ? 'o' : 'i';
	if (k < 0)
		snprintf(buf, NG_CHAIN_NAME_MAX, "p%016llx%c", (unsigned long long)hash, d);
	else
		snprintf(buf, NG_CHAIN_NAME_MAX, "p%016llx%c%u", (unsigned long long)hash, d,
			 (unsigned)k & 0xff);
}

struct mlist {
	struct ng_match *m;
	size_t n, cap;
	size_t total; /* across the whole plan, for the limit */
};

static int push(struct mlist *l, const struct ng_match *m)
{
	if (l->total >= NG_MAX_MATCHES)
		return -E2BIG;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;
		struct ng_match *nm = realloc(l->m, cap * sizeof *nm);
		if (!nm)
			return -ENOMEM;
		l->m = nm;
		l->cap = cap;
	}
	l->m[l->n++] = *m;
	l->total++;
	return 0;
}

static int has_ports(uint8_t proto)
{
	return proto == IPPROTO_TCP || proto == IPPROTO_UDP ||
	       proto == IPPROTO_SCTP || proto == IPPROTO_UDPLITE ||
	       proto == IPPROTO_DCCP;
}

static int port_limited(const struct net_addr *a)
{
	return a->port_lo != 0 || a->port_hi != 65535;
}

/* The address side: 0 ok, 1 the rule cannot match a packet of nfproto. */
static int put_addr(const struct net_addr *a, uint8_t nfproto, uint8_t *has,
		    uint8_t *ip, uint16_t *lo, uint16_t *hi)
{
	*lo = a->port_lo;
	*hi = a->port_hi;
	if (a->has_ip == 0)
		return 0;
	if (a->has_ip != 1) /* ip=none: a packet always has an address */
		return 1;
	uint8_t want = a->ip_family == AF_INET ? NFPROTO_IPV4 : NFPROTO_IPV6;
	if (nfproto != want)
		return 1;
	*has = 1;
	memcpy(ip, a->ip, a->ip_family == AF_INET ? 4 : 16);
	return 0;
}

/* Expand one rule for one direction into matches with the given verdict. */
static int expand(const struct net_rule *r, enum ng_dir dir, uint8_t verdict,
		  uint8_t log, struct mlist *l)
{
	uint8_t fams[2];
	size_t nf = 0;
	if (r->family == 0 || r->family == AF_INET)
		fams[nf++] = NFPROTO_IPV4;
	if (r->family == 0 || r->family == AF_INET6)
		fams[nf++] = NFPROTO_IPV6;
	for (size_t fi = 0; fi < nf; fi++) {
		uint8_t nfp = fams[fi];
		uint8_t protos[4];
		size_t np = 0;
		if (r->protocol) {
			uint16_t p = r->protocol;
			if (p == IPPROTO_ICMP && nfp == NFPROTO_IPV6)
				p = IPPROTO_ICMPV6;
			else if (p == IPPROTO_ICMPV6 && nfp == NFPROTO_IPV4)
				p = IPPROTO_ICMP;
			if (p > 255)
				continue;
			protos[np++] = (uint8_t)p;
		} else {
			switch (r->type) {
			case 0:
				protos[np++] = 0;
				break;
			case SOCK_STREAM:
				protos[np++] = IPPROTO_TCP;
				break;
			case SOCK_DGRAM: /* UDP and ICMP echo ("ping") sockets */
				protos[np++] = IPPROTO_UDP;
				protos[np++] = nfp == NFPROTO_IPV4 ? IPPROTO_ICMP : IPPROTO_ICMPV6;
				break;
			case SOCK_SEQPACKET:
				protos[np++] = IPPROTO_SCTP;
				break;
			case SOCK_RAW:
				/* A raw socket sends any protocol: allowing it
				 * allows any; denying it is seccomp's job (the
				 * packets cannot be told from other sockets'). */
				if (verdict == NG_V_ACCEPT)
					protos[np++] = 0;
				break;
			default:
				break;
			}
		}
		const int ports = port_limited(&r->local) || port_limited(&r->peer);
		for (size_t pi = 0; pi < np; pi++) {
			uint8_t l4s[2];
			size_t nl = 0;
			if (ports && protos[pi] == 0) {
				l4s[nl++] = IPPROTO_TCP;
				l4s[nl++] = IPPROTO_UDP;
			} else if (!ports || has_ports(protos[pi])) {
				l4s[nl++] = protos[pi];
			}
			for (size_t li = 0; li < nl; li++) {
				struct ng_match m;
				memset(&m, 0, sizeof m);
				m.nfproto = r->family || r->local.has_ip || r->peer.has_ip ||
						    protos[pi] == IPPROTO_ICMP ||
						    protos[pi] == IPPROTO_ICMPV6 ? nfp : 0;
				m.l4proto = l4s[li];
				m.verdict = verdict;
				m.log = log;
				const struct net_addr *s = dir == NG_OUT ? &r->local : &r->peer;
				const struct net_addr *d = dir == NG_OUT ? &r->peer : &r->local;
				if (put_addr(s, nfp, &m.has_saddr, m.saddr, &m.sport_lo, &m.sport_hi) ||
				    put_addr(d, nfp, &m.has_daddr, m.daddr, &m.dport_lo, &m.dport_hi))
					continue;
				/* A family-free rule is one match, not one per family. */
				if (m.nfproto == 0 && fi > 0)
					continue;
				int e = push(l, &m);
				if (e < 0)
					return e;
			}
		}
	}
	return 0;
}

static int validate(const struct net_rule *r)
{
	for (int i = 0; i < 2; i++) {
		const struct net_addr *a = i ? &r->peer : &r->local;
		if (a->port_lo > a->port_hi || a->has_ip > 2)
			return -EINVAL;
		if (a->has_ip == 1 && a->ip_family != AF_INET && a->ip_family != AF_INET6)
			return -EINVAL;
	}
	return 0;
}

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

void ng_plan_free(struct ng_plan *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nchains; i++)
		free(p->chains[i].m);
	free(p->profile);
	free(p);
}

static int same_chain(const struct mlist *a, const struct ng_chain *b)
{
	return a->n == b->n && (a->n == 0 || memcmp(a->m, b->m, a->n * sizeof *a->m) == 0);
}

int ng_plan_rules(const char *profile, const struct net_rule *rules, size_t n,
		  int complain, int default_allow, struct ng_plan **out)
{
	*out = NULL;
	if (n > NG_MAX_RULES)
		return -E2BIG;
	for (size_t i = 0; i < n; i++)
		if (validate(&rules[i]) < 0)
			return -EINVAL;
	struct ng_plan *p = calloc(1, sizeof *p);
	if (!p || !(p->profile = strdup(profile))) {
		free(p);
		return -ENOMEM;
	}
	size_t total = 0;
	int e = 0;
	for (int d = 0; d < NG_DIR_MAX; d++) {
		const size_t first = p->nchains;
		for (int c = 0; c < NG_CLASS_MAX; c++) {
			struct mlist l = { .total = total };
			uint32_t acc = ng_class_access(d, c);
			/* Deny rules first: deny wins. */
			for (size_t i = 0; i < n && e == 0; i++) {
				if (!rules[i].deny || !(rules[i].access & acc))
					continue;
				uint8_t v = complain ? NG_V_ACCEPT : NG_V_REJECT;
				uint8_t lg = complain ? NG_LOG_ALLOWED
					     : rules[i].audit ? NG_LOG_DENIED : NG_LOG_NONE;
				e = expand(&rules[i], d, v, lg, &l);
			}
			for (size_t i = 0; i < n && e == 0; i++) {
				if (rules[i].deny || !(rules[i].access & acc))
					continue;
				e = expand(&rules[i], d, NG_V_ACCEPT,
					   rules[i].audit ? NG_LOG_AUDIT : NG_LOG_NONE, &l);
			}
			struct ng_match last;
			memset(&last, 0, sizeof last);
			last.sport_hi = last.dport_hi = 65535;
			if (default_allow) {
				last.verdict = NG_V_ACCEPT;
			} else if (complain) {
				last.verdict = NG_V_ACCEPT;
				last.log = NG_LOG_ALLOWED;
			} else {
				last.verdict = NG_V_REJECT;
				last.log = NG_LOG_DENIED;
			}
			if (e == 0)
				e = push(&l, &last);
			if (e < 0) {
				free(l.m);
				goto fail;
			}
			total = l.total;
			/* Classes with the same rules share one chain (within
			 * a direction: the chains' names carry it). */
			size_t k;
			for (k = first; k < p->nchains; k++)
				if (same_chain(&l, &p->chains[k]))
					break;
			if (k < p->nchains) {
				free(l.m);
			} else {
				p->chains[k].m = l.m;
				p->chains[k].n = l.n;
				p->nchains++;
			}
			p->class_chain[d][c] = (uint8_t)k;
		}
	}
	uint64_t h = 0xcbf29ce484222325ull;
	const uint32_t fmt = PLAN_FORMAT;
	h = fnv(h, &fmt, sizeof fmt);
	h = fnv(h, profile, strlen(profile) + 1);
	h = fnv(h, p->class_chain, sizeof p->class_chain);
	for (size_t k = 0; k < p->nchains; k++) {
		h = fnv(h, &p->chains[k].n, sizeof p->chains[k].n);
		h = fnv(h, p->chains[k].m, p->chains[k].n * sizeof *p->chains[k].m);
	}
	p->hash = h ? h : 1; /* 0 means "not a profile chain" */
	*out = p;
	return 0;
fail:
	ng_plan_free(p);
	return e;
}

int ng_plan_profile(const struct profile *pr, int complain, struct ng_plan **out)
{
	const struct net_rule *rules = NULL;
	size_t n = profile_net_rules(pr, &rules);
	uint32_t fl = profile_flags(pr);
	int allow_all = (fl & PF_DEFAULT_ALLOW) || (profile_extra(pr) & PX_ALL) ||
			(fl & PF_UNCONFINED);
	return ng_plan_rules(profile_name(pr), rules, n,
			     complain || (fl & PF_COMPLAIN) != 0, allow_all, out);
}
