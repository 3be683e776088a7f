/* ng_batch.c: build the nftables batch (pure; see ng_batch.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libmnl/libmnl.h>
#include <libnftnl/batch.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include "ng_batch.h"
#include "ng_nft.h"

#define ELEMS_PER_MSG 128 /* keeps each message well under 64 KiB */
#define CT_STATE_NEW (1u << (IP_CT_NEW + 1)) /* NF_CT_STATE_BIT(IP_CT_NEW) */

/* ---- the scaffold: base chains and reject chains ---- */

static void reject_chains(struct ngx_batch *x)
{
	ngx_chain_put(x, NFT_MSG_NEWCHAIN, "reject_out", NULL, -1);
	ngx_chain_put(x, NFT_MSG_NEWCHAIN, "reject_in", NULL, -1);
	ngx_chain_flush(x, "reject_out");
	ngx_chain_flush(x, "reject_in");
	/* Output, TCP: a reset, which the local stack takes at once, so
	 * connect() fails with ECONNREFUSED (a dropped SYN would hang it in
	 * retransmits: tcp_connect() ignores the -EPERM of the drop). */
	struct nftnl_rule *r = ngx_rule_new("reject_out");
	ngx_match_l4(r, IPPROTO_TCP);
	ngx_counter(r);
	ngx_reject(r, NFT_REJECT_TCP_RST, 0);
	ngx_rule_put(x, r);
	/* Output, other protocols: a drop, which the sending call sees as
	 * EPERM right away (nf_hook_slow()'s default for NF_DROP). */
	r = ngx_rule_new("reject_out");
	ngx_counter(r);
	ngx_verdict(r, NF_DROP, NULL);
	ngx_rule_put(x, r);
	/* Input: a reset for TCP, port unreachable for UDP (the peer sees
	 * ECONNREFUSED, as if nothing listened), a drop for the rest. */
	r = ngx_rule_new("reject_in");
	ngx_match_l4(r, IPPROTO_TCP);
	ngx_counter(r);
	ngx_reject(r, NFT_REJECT_TCP_RST, 0);
	ngx_rule_put(x, r);
	r = ngx_rule_new("reject_in");
	ngx_match_l4(r, IPPROTO_UDP);
	ngx_counter(r);
	ngx_reject(r, NFT_REJECT_ICMPX_UNREACH, NFT_REJECT_ICMPX_PORT_UNREACH);
	ngx_rule_put(x, r);
	r = ngx_rule_new("reject_in");
	ngx_counter(r);
	ngx_verdict(r, NF_DROP, NULL);
	ngx_rule_put(x, r);
}

/* Packets that only end or refuse a flow are let through on input before
 * any profile is asked: TCP resets (including the ones reject_out sends
 * to the local socket, which must arrive for connect() to fail at once)
 * and ICMP errors (the socket lookup finds the socket of the packet they
 * quote). They carry no data. Matched on their headers, not on conntrack:
 * a ruleset of coarse profiles then needs no conntrack at all. */
static void bypass_rule(struct ngx_batch *x, uint8_t l4, uint32_t off, uint8_t mask,
			uint8_t lo, uint8_t hi)
{
	struct nftnl_rule *r = ngx_rule_new("input");
	ngx_match_l4(r, l4);
	ngx_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, off, 1);
	if (mask) {
		uint8_t zero = 0;
		struct nftnl_expr *e = ngx_expr("bitwise");
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, 1);
		nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, &mask, 1);
		nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, &zero, 1);
		ngx_add(r, e);
		ngx_cmp(r, NFT_CMP_NEQ, &zero, 1);
	} else {
		ngx_cmp(r, NFT_CMP_GTE, &lo, 1);
		ngx_cmp(r, NFT_CMP_LTE, &hi, 1);
	}
	ngx_verdict(r, NF_ACCEPT, NULL);
	ngx_rule_put(x, r);
}

static void input_bypass(struct ngx_batch *x)
{
	bypass_rule(x, IPPROTO_TCP, 13, 0x04, 0, 0);       /* tcp flags rst */
	bypass_rule(x, IPPROTO_ICMP, 0, 0, 3, 5);          /* unreachable, quench, redirect */
	bypass_rule(x, IPPROTO_ICMP, 0, 0, 11, 12);        /* time exceeded, parameter problem */
	bypass_rule(x, IPPROTO_ICMPV6, 0, 0, 1, 127);      /* ICMPv6 errors (RFC 4443) */
}

static void base_chains(struct ngx_batch *x, uint64_t levels, const uint32_t *set_ids)
{
	static const char *const names[NG_DIR_MAX] = { "output", "input" };
	static const int hooks[NG_DIR_MAX] = { NF_INET_LOCAL_OUT, NF_INET_LOCAL_IN };
	for (int d = 0; d < NG_DIR_MAX; d++) {
		ngx_chain_put(x, NFT_MSG_NEWCHAIN, names[d], NULL, hooks[d]);
		ngx_chain_flush(x, names[d]);
		if (d == NG_IN)
			input_bypass(x);
		/* Deepest level first: the nearest confined ancestor of the
		 * socket's cgroup decides (a miss falls through to the next). */
		for (int l = NG_CGROUP_LEVEL_MAX; l >= 1; l--) {
			if (!((levels >> l) & 1))
				continue;
			char set[16];
			snprintf(set, sizeof set, "%s%d", d == NG_OUT ? "out" : "in", l);
			struct nftnl_rule *r = ngx_rule_new(names[d]);
			struct nftnl_expr *e = ngx_expr("socket");
			nftnl_expr_set_u32(e, NFTNL_EXPR_SOCKET_KEY, NFT_SOCKET_CGROUPV2);
			nftnl_expr_set_u32(e, NFTNL_EXPR_SOCKET_DREG, NFT_REG_1);
			nftnl_expr_set_u32(e, NFTNL_EXPR_SOCKET_LEVEL, (uint32_t)l);
			ngx_add(r, e);
			e = ngx_expr("lookup");
			nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
			nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_DREG, NFT_REG_VERDICT);
			nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, set);
			if (set_ids[l * 2 + d])
				nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SET_ID, set_ids[l * 2 + d]);
			ngx_add(r, e);
			ngx_rule_put(x, r);
		}
	}
}

/* ---- a plan's chains ---- */

static const char *log_kind(uint8_t log)
{
	switch (log) {
	case NG_LOG_DENIED: return "DENIED";
	case NG_LOG_AUDIT: return "AUDIT";
	case NG_LOG_ALLOWED: return "ALLOWED";
	default: return NULL;
	}
}

static void port_match(struct nftnl_rule *r, uint32_t off, uint16_t lo, uint16_t hi)
{
	if (lo == 0 && hi == 65535)
		return;
	ngx_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, off, 2);
	uint16_t nlo = htons(lo), nhi = htons(hi);
	if (lo == hi) {
		ngx_cmp(r, NFT_CMP_EQ, &nlo, 2);
	} else {
		/* Ports are big-endian: cmp compares bytes, so this orders them
		 * numerically. */
		if (lo > 0)
			ngx_cmp(r, NFT_CMP_GTE, &nlo, 2);
		if (hi < 65535)
			ngx_cmp(r, NFT_CMP_LTE, &nhi, 2);
	}
}

static void match_rule(struct ngx_batch *x, const char *chain, const struct ng_match *m,
		       enum ng_dir dir, const char *profile)
{
	struct nftnl_rule *r = ngx_rule_new(chain);
	if (m->nfproto)
		ngx_match_u8(r, NFT_META_NFPROTO, m->nfproto);
	const int v6 = m->nfproto == NFPROTO_IPV6;
	if (m->has_saddr) {
		ngx_payload(r, NFT_PAYLOAD_NETWORK_HEADER, v6 ? 8 : 12, v6 ? 16 : 4);
		ngx_cmp(r, NFT_CMP_EQ, m->saddr, v6 ? 16 : 4);
	}
	if (m->has_daddr) {
		ngx_payload(r, NFT_PAYLOAD_NETWORK_HEADER, v6 ? 24 : 16, v6 ? 16 : 4);
		ngx_cmp(r, NFT_CMP_EQ, m->daddr, v6 ? 16 : 4);
	}
	if (m->l4proto)
		ngx_match_l4(r, m->l4proto);
	port_match(r, 0, m->sport_lo, m->sport_hi);
	port_match(r, 2, m->dport_lo, m->dport_hi);
	const char *kind = log_kind(m->log);
	if (kind) {
		char prefix[NG_PREFIX_MAX + 1];
		snprintf(prefix, sizeof prefix, "capgate %s %s", kind, profile);
		ngx_log(r, prefix);
	}
	if (m->verdict == NG_V_ACCEPT) {
		if (m->log)
			ngx_counter(r);
		ngx_verdict(r, NF_ACCEPT, NULL);
	} else {
		ngx_verdict(r, NFT_GOTO, dir == NG_OUT ? "reject_out" : "reject_in");
	}
	ngx_rule_put(x, r);
}

static void chain_rules(struct ngx_batch *x, const char *name, const struct ng_chain *c,
			enum ng_dir dir, const char *profile)
{
	for (size_t i = 0; i < c->n; i++)
		match_rule(x, name, &c->m[i], dir, profile);
}

static void dispatch(struct ngx_batch *x, const char *name, const struct ng_plan *p,
		     enum ng_dir dir)
{
	char target[NG_CHAIN_NAME_MAX];
	const int own = dir == NG_OUT ? NG_C_LOCAL : NG_C_REMOTE;
	const int other = dir == NG_OUT ? NG_C_REMOTE : NG_C_LOCAL;
	uint32_t st_new = CT_STATE_NEW;
	/* ct state new, TCP */
	struct nftnl_rule *r = ngx_rule_new(name);
	ngx_ct(r, NFT_CT_STATE);
	ngx_bitwise(r, st_new);
	uint32_t zero = 0;
	ngx_cmp(r, NFT_CMP_NEQ, &zero, 4);
	ngx_match_l4(r, IPPROTO_TCP);
	ng_chain_name(p->hash, dir, p->class_chain[dir][NG_C_NEW_TCP], target);
	ngx_verdict(r, NFT_GOTO, target);
	ngx_rule_put(x, r);
	/* ct state new, other */
	r = ngx_rule_new(name);
	ngx_ct(r, NFT_CT_STATE);
	ngx_bitwise(r, st_new);
	ngx_cmp(r, NFT_CMP_NEQ, &zero, 4);
	ng_chain_name(p->hash, dir, p->class_chain[dir][NG_C_NEW_OTHER], target);
	ngx_verdict(r, NFT_GOTO, target);
	ngx_rule_put(x, r);
	/* ct direction: original is "started by this side" on output and
	 * "started by the peer" on input. */
	uint8_t reply = 1; /* IP_CT_DIR_REPLY */
	r = ngx_rule_new(name);
	ngx_ct(r, NFT_CT_DIRECTION);
	ngx_cmp(r, NFT_CMP_EQ, &reply, 1);
	ng_chain_name(p->hash, dir, p->class_chain[dir][other], target);
	ngx_verdict(r, NFT_GOTO, target);
	ngx_rule_put(x, r);
	/* original direction, and untracked packets */
	r = ngx_rule_new(name);
	ng_chain_name(p->hash, dir, p->class_chain[dir][own], target);
	ngx_verdict(r, NFT_GOTO, target);
	ngx_rule_put(x, r);
}

static void plan_chains(struct ngx_batch *x, const struct ng_plan *p)
{
	char name[NG_CHAIN_NAME_MAX];
	for (int d = 0; d < NG_DIR_MAX; d++) {
		int single = 1;
		for (int c = 1; c < NG_CLASS_MAX; c++)
			single &= p->class_chain[d][c] == p->class_chain[d][0];
		if (!single)
			for (size_t k = 0; k < p->nchains; k++)
				for (int c = 0; c < NG_CLASS_MAX; c++)
					if (p->class_chain[d][c] == k) {
						ng_chain_name(p->hash, d, (int)k, name);
						ngx_chain_put(x, NFT_MSG_NEWCHAIN, name, p->profile, -1);
						chain_rules(x, name, &p->chains[k], d, p->profile);
						break;
					}
		ng_chain_name(p->hash, d, -1, name);
		ngx_chain_put(x, NFT_MSG_NEWCHAIN, name, p->profile, -1);
		if (single)
			chain_rules(x, name, &p->chains[p->class_chain[d][0]], d, p->profile);
		else
			dispatch(x, name, p, d);
	}
}

/* ---- elements ---- */

static void elems(struct ngx_batch *x, int type, const struct ng_bind *const *bs, size_t n,
		  int level, enum ng_dir dir)
{
	char set[16];
	snprintf(set, sizeof set, "%s%d", dir == NG_OUT ? "out" : "in", level);
	for (size_t i = 0; i < n; i += ELEMS_PER_MSG) {
		struct nftnl_set *s = nftnl_set_alloc();
		if (!s)
			abort();
		nftnl_set_set_str(s, NFTNL_SET_TABLE, NG_TABLE);
		nftnl_set_set_str(s, NFTNL_SET_NAME, set);
		nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_INET);
		for (size_t j = i; j < n && j < i + ELEMS_PER_MSG; j++) {
			struct nftnl_set_elem *e = nftnl_set_elem_alloc();
			if (!e)
				abort();
			nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, &bs[j]->id, sizeof bs[j]->id);
			if (type == NFT_MSG_NEWSETELEM) {
				char chain[NG_CHAIN_NAME_MAX];
				ng_chain_name(bs[j]->hash, dir, -1, chain);
				nftnl_set_elem_set_u32(e, NFTNL_SET_ELEM_VERDICT, NFT_JUMP);
				nftnl_set_elem_set_str(e, NFTNL_SET_ELEM_CHAIN, chain);
				struct nftnl_udata_buf *ud = nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN);
				if (!ud)
					abort();
				nftnl_udata_put_strz(ud, NFTNL_UDATA_SET_ELEM_COMMENT, bs[j]->path);
				nftnl_set_elem_set(e, NFTNL_SET_ELEM_USERDATA,
						   nftnl_udata_buf_data(ud), nftnl_udata_buf_len(ud));
				nftnl_udata_buf_free(ud);
			}
			nftnl_set_elem_add(s, e);
		}
		struct nlmsghdr *nlh = ngx_msg(x, type, type == NFT_MSG_NEWSETELEM ? NLM_F_CREATE : 0);
		nftnl_set_elems_nlmsg_build_payload(nlh, s);
		nftnl_set_free(s);
		ngx_done(x);
	}
}

/* ---- the whole batch ---- */

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static int cmp_bind_ptr(const void *a, const void *b)
{
	const struct ng_bind *x = *(const struct ng_bind *const *)a;
	const struct ng_bind *y = *(const struct ng_bind *const *)b;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* Bindings sorted by id, for lookups in O(log n): a batch for 1,000
 * bindings must not cost a million comparisons. */
struct bindex {
	const struct ng_bind **v;
	size_t n;
};

static int bindex_make(struct bindex *ix, const struct ng_bind *b, size_t n)
{
	ix->v = calloc(n + 1, sizeof *ix->v);
	ix->n = n;
	if (!ix->v)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		ix->v[i] = &b[i];
	qsort(ix->v, n, sizeof *ix->v, cmp_bind_ptr);
	return 0;
}

static const struct ng_bind *find_bind(const struct bindex *ix, uint64_t id)
{
	struct ng_bind key = { .id = id };
	const struct ng_bind *kp = &key;
	const struct ng_bind **r = bsearch(&kp, ix->v, ix->n, sizeof *ix->v, cmp_bind_ptr);
	return r ? *r : NULL;
}

static int has_u64(const uint64_t *v, size_t n, uint64_t x)
{
	return bsearch(&x, v, n, sizeof *v, cmp_u64) != NULL;
}

static int same_bind(const struct ng_bind *a, const struct ng_bind *b)
{
	return a->id == b->id && a->level == b->level && a->hash == b->hash &&
	       strcmp(a->path, b->path) == 0;
}

/* What a batch changes, computed from cur and want. */
struct diff {
	const struct ng_bind **del, **add; /* elements to remove / to add */
	size_t ndel, nadd;
	uint64_t *newh;  /* hashes whose chains are to be made */
	size_t nnew;
	uint64_t *curh, *wanth, *planh; /* sorted hashes, for lookups */
	uint64_t levels; /* levels in use afterwards */
	struct bindex icur, iwant;
};

static void diff_free(struct diff *d)
{
	free(d->del);
	free(d->add);
	free(d->newh);
	free(d->curh);
	free(d->wanth);
	free(d->planh);
	free(d->icur.v);
	free(d->iwant.v);
}

static int diff_make(const struct ng_state *cur, const struct ng_bind *want, size_t nwant,
		     struct ng_plan *const *plans, size_t nplans, struct diff *d)
{
	memset(d, 0, sizeof *d);
	d->curh = calloc(cur->nc + 1, sizeof *d->curh);
	d->wanth = calloc(nwant + 1, sizeof *d->wanth);
	d->planh = calloc(nplans + 1, sizeof *d->planh);
	d->del = calloc(cur->nb + 1, sizeof *d->del);
	d->add = calloc(nwant + 1, sizeof *d->add);
	d->newh = calloc(nwant + 1, sizeof *d->newh);
	if (!d->curh || !d->wanth || !d->planh || !d->del || !d->add || !d->newh ||
	    bindex_make(&d->icur, cur->b, cur->nb) < 0 ||
	    bindex_make(&d->iwant, want, nwant) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < cur->nc; i++)
		d->curh[i] = ng_pchain_hash(cur->c[i].name);
	qsort(d->curh, cur->nc, sizeof *d->curh, cmp_u64);
	for (size_t i = 0; i < nwant; i++)
		d->wanth[i] = want[i].hash;
	qsort(d->wanth, nwant, sizeof *d->wanth, cmp_u64);
	for (size_t i = 0; i < nplans; i++)
		d->planh[i] = plans[i]->hash;
	qsort(d->planh, nplans, sizeof *d->planh, cmp_u64);
	for (size_t i = 0; i < cur->nb; i++) {
		const struct ng_bind *w = find_bind(&d->iwant, cur->b[i].id);
		if (!w || !same_bind(w, &cur->b[i]))
			d->del[d->ndel++] = &cur->b[i];
	}
	for (size_t i = 0; i < nwant; i++) {
		const struct ng_bind *c = find_bind(&d->icur, want[i].id);
		if (!c || !same_bind(c, &want[i]))
			d->add[d->nadd++] = &want[i];
		d->levels |= 1ull << want[i].level;
		if (has_u64(d->curh, cur->nc, want[i].hash))
			continue;
		if (!has_u64(d->planh, nplans, want[i].hash))
			return -EINVAL; /* every new hash needs a plan */
		d->newh[d->nnew++] = want[i].hash;
	}
	qsort(d->newh, d->nnew, sizeof *d->newh, cmp_u64);
	size_t uniq = 0;
	for (size_t i = 0; i < d->nnew; i++)
		if (uniq == 0 || d->newh[uniq - 1] != d->newh[i])
			d->newh[uniq++] = d->newh[i];
	d->nnew = uniq;
	return 0;
}

static void table_msg(struct ngx_batch *x, int type, uint16_t flags)
{
	struct nftnl_table *t = nftnl_table_alloc();
	if (!t)
		abort();
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, NG_TABLE);
	nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, NFPROTO_INET);
	struct nlmsghdr *nlh = ngx_msg(x, type, flags);
	nftnl_table_nlmsg_build_payload(nlh, t);
	nftnl_table_free(t);
	ngx_done(x);
}

/* Maps for levels in `want` but not in `have` (type NEWSET, ids noted
 * for the lookups in the same batch), or the reverse (DELSET). */
static void maps(struct ngx_batch *x, int type, uint64_t want, uint64_t have, uint32_t *ids)
{
	uint32_t next_id = 1;
	for (int l = 1; l <= NG_CGROUP_LEVEL_MAX; l++) {
		if (!((want >> l) & 1) || ((have >> l) & 1))
			continue;
		for (int d = 0; d < NG_DIR_MAX; d++) {
			char name[16];
			snprintf(name, sizeof name, "%s%d", d == NG_OUT ? "out" : "in", l);
			if (ids)
				ids[l * 2 + d] = next_id;
			ngx_map_put(x, type, name, ids ? next_id++ : 0);
		}
	}
}

/* Elements: old ones out, then new ones in, level by level. */
static int elements(struct ngx_batch *x, const struct diff *df)
{
	for (int pass = 0; pass < 2; pass++) {
		const struct ng_bind **v = pass ? df->add : df->del;
		size_t n = pass ? df->nadd : df->ndel;
		const struct ng_bind **lv = calloc(n + 1, sizeof *lv);
		if (!lv)
			return -ENOMEM;
		for (int l = 1; l <= NG_CGROUP_LEVEL_MAX; l++) {
			size_t m = 0;
			for (size_t i = 0; i < n; i++)
				if (v[i]->level == l)
					lv[m++] = v[i];
			for (int d = 0; m && d < NG_DIR_MAX; d++)
				elems(x, pass ? NFT_MSG_NEWSETELEM : NFT_MSG_DELSETELEM, lv, m, l, d);
		}
		free(lv);
	}
	return 0;
}

/* Profile chains no binding uses: entry chains first (their rules
 * reference the class chains), then class chains. */
static void unused_chains(struct ngx_batch *x, const struct ng_state *cur,
			  const struct diff *df, size_t nwant)
{
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < cur->nc; i++) {
			const char *name = cur->c[i].name;
			if (has_u64(df->wanth, nwant, ng_pchain_hash(name)) ||
			    (pass == 0) != (name[18] == '\0'))
				continue;
			ngx_chain_put(x, NFT_MSG_DELCHAIN, name, NULL, -1);
		}
}

int ng_batch_build(const struct ng_state *cur, const struct ng_bind *want,
		   size_t nwant, struct ng_plan *const *plans, size_t nplans,
		   uint32_t genid, uint32_t seq, struct nftnl_batch **out,
		   size_t *nmsg)
{
	*out = NULL;
	*nmsg = 0;
	for (size_t i = 0; i < nwant; i++)
		if (want[i].level < 1 || want[i].level > NG_CGROUP_LEVEL_MAX)
			return -EINVAL;
	struct ngx_batch x = { .seq = seq };
	struct diff df;
	int r = diff_make(cur, want, nwant, plans, nplans, &df);
	if (r < 0)
		goto out;
	if (!(x.b = nftnl_batch_alloc(1 << 17, 1 << 16))) {
		r = -ENOMEM;
		goto out;
	}
	ngx_batch_begin(&x, genid);
	if (nwant == 0) {
		if (cur->table) /* the last binding goes: so does the table */
			table_msg(&x, NFT_MSG_DELTABLE, 0);
	} else {
		table_msg(&x, NFT_MSG_NEWTABLE, NLM_F_CREATE);
		reject_chains(&x);
		/* New profile chains, before anything jumps to them. */
		for (size_t k = 0; k < df.nnew; k++)
			for (size_t j = 0; j < nplans; j++)
				if (plans[j]->hash == df.newh[k]) {
					plan_chains(&x, plans[j]);
					break;
				}
		/* New maps, then the dispatch rules that look them up. */
		uint32_t set_ids[(NG_CGROUP_LEVEL_MAX + 1) * 2] = { 0 };
		maps(&x, NFT_MSG_NEWSET, df.levels, cur->levels, set_ids);
		base_chains(&x, df.levels, set_ids);
		if ((r = elements(&x, &df)) < 0)
			goto out;
		maps(&x, NFT_MSG_DELSET, cur->levels, df.levels, NULL);
		unused_chains(&x, cur, &df, nwant);
	}
	if (x.nmsg) {
		/* The last message asks for an ack, so success is reported
		 * (errors are reported whatever the flags). Pages of the batch
		 * stay put, so the pointer is still good. */
		x.last->nlmsg_flags |= NLM_F_ACK;
		nftnl_batch_end(nftnl_batch_buffer(x.b), x.seq++);
		if (nftnl_batch_update(x.b) < 0)
			x.err = -ENOMEM;
	}
	r = x.err;
out:
	diff_free(&df);
	if (r < 0) {
		if (x.b)
			nftnl_batch_free(x.b);
		return r;
	}
	*out = x.b;
	*nmsg = x.nmsg;
	return 0;
}
