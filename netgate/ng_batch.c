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

#define TYPE_CGROUPV2 46  /* nft's datatype number, so `nft list` prints it */
#define BYTEORDER_HOST 1  /* nft's byteorder for the set's key */
#define ELEMS_PER_MSG 128 /* keeps each message well under 64 KiB */
#define CT_STATE_NEW (1u << (IP_CT_NEW + 1)) /* NF_CT_STATE_BIT(IP_CT_NEW) */

struct bctx {
	struct nftnl_batch *b;
	uint32_t seq;
	size_t nmsg;
	struct nlmsghdr *last; /* the last message: it asks for an ack */
	int err;
};

/* Start a message in the batch. */
static struct nlmsghdr *msg(struct bctx *x, int type, uint16_t flags)
{
	x->last = nftnl_nlmsg_build_hdr(nftnl_batch_buffer(x->b), (uint16_t)type,
					NFPROTO_INET, flags, x->seq++);
	return x->last;
}

static void done(struct bctx *x)
{
	x->nmsg++;
	if (nftnl_batch_update(x->b) < 0)
		x->err = -ENOMEM;
}

/* ---- expressions ---- */

static void add(struct nftnl_rule *r, struct nftnl_expr *e)
{
	nftnl_rule_add_expr(r, e);
}

static struct nftnl_expr *ex(const char *name)
{
	struct nftnl_expr *e = nftnl_expr_alloc(name);
	if (!e)
		abort(); /* a few bytes: treat like the rest of libnftnl's allocs */
	return e;
}

static void e_meta(struct nftnl_rule *r, uint32_t key)
{
	struct nftnl_expr *e = ex("meta");
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
	add(r, e);
}

static void e_cmp(struct nftnl_rule *r, uint32_t op, const void *data, uint32_t len)
{
	struct nftnl_expr *e = ex("cmp");
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
	nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
	add(r, e);
}

static void e_payload(struct nftnl_rule *r, uint32_t base, uint32_t off, uint32_t len)
{
	struct nftnl_expr *e = ex("payload");
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, off);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
	add(r, e);
}

static void e_ct(struct nftnl_rule *r, uint32_t key)
{
	struct nftnl_expr *e = ex("ct");
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, NFT_REG_1);
	add(r, e);
}

static void e_bitwise(struct nftnl_rule *r, uint32_t mask)
{
	uint32_t zero = 0;
	struct nftnl_expr *e = ex("bitwise");
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, sizeof mask);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, &mask, sizeof mask);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, &zero, sizeof zero);
	add(r, e);
}

static void e_verdict(struct nftnl_rule *r, int verdict, const char *chain)
{
	struct nftnl_expr *e = ex("immediate");
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, (uint32_t)verdict);
	if (chain)
		nftnl_expr_set_str(e, NFTNL_EXPR_IMM_CHAIN, chain);
	add(r, e);
}

static void e_counter(struct nftnl_rule *r)
{
	add(r, ex("counter"));
}

static void e_log(struct nftnl_rule *r, const char *prefix)
{
	struct nftnl_expr *e = ex("log");
	nftnl_expr_set_str(e, NFTNL_EXPR_LOG_PREFIX, prefix);
	nftnl_expr_set_u16(e, NFTNL_EXPR_LOG_GROUP, NG_LOG_GROUP);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOG_SNAPLEN, 128); /* headers suffice */
	add(r, e);
}

static void e_reject(struct nftnl_rule *r, uint32_t type, uint8_t code)
{
	struct nftnl_expr *e = ex("reject");
	nftnl_expr_set_u32(e, NFTNL_EXPR_REJECT_TYPE, type);
	nftnl_expr_set_u8(e, NFTNL_EXPR_REJECT_CODE, code);
	add(r, e);
}

static void m_u8(struct nftnl_rule *r, uint32_t metakey, uint8_t v)
{
	e_meta(r, metakey);
	e_cmp(r, NFT_CMP_EQ, &v, 1);
}

static void m_l4(struct nftnl_rule *r, uint8_t proto)
{
	m_u8(r, NFT_META_L4PROTO, proto);
}

/* ---- objects ---- */

static struct nftnl_rule *rule_new(const char *chain)
{
	struct nftnl_rule *r = nftnl_rule_alloc();
	if (!r)
		abort();
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, NG_TABLE);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_INET);
	return r;
}

static void rule_put(struct bctx *x, struct nftnl_rule *r)
{
	struct nlmsghdr *nlh = msg(x, NFT_MSG_NEWRULE, NLM_F_APPEND | NLM_F_CREATE);
	nftnl_rule_nlmsg_build_payload(nlh, r);
	nftnl_rule_free(r);
	done(x);
}

static void chain_put(struct bctx *x, int type, const char *name, const char *comment,
		      int hook)
{
	struct nftnl_chain *c = nftnl_chain_alloc();
	if (!c)
		abort();
	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, NG_TABLE);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, name);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_FAMILY, NFPROTO_INET);
	if (hook >= 0 && type == NFT_MSG_NEWCHAIN) {
		nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, (uint32_t)hook);
		nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, 0);
		nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, "filter");
		nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, NF_ACCEPT);
	}
	struct nftnl_udata_buf *ud = NULL;
	if (comment && type == NFT_MSG_NEWCHAIN) {
		char cut[NFTNL_UDATA_COMMENT_MAXLEN];
		snprintf(cut, sizeof cut, "%s", comment);
		ud = nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN);
		if (!ud)
			abort();
		nftnl_udata_put_strz(ud, NFTNL_UDATA_CHAIN_COMMENT, cut);
		nftnl_chain_set_data(c, NFTNL_CHAIN_USERDATA, nftnl_udata_buf_data(ud),
				     nftnl_udata_buf_len(ud));
	}
	struct nlmsghdr *nlh = msg(x, type, type == NFT_MSG_NEWCHAIN ? NLM_F_CREATE : 0);
	nftnl_chain_nlmsg_build_payload(nlh, c);
	nftnl_chain_free(c);
	nftnl_udata_buf_free(ud);
	done(x);
}

/* Flush a chain: DELRULE with no handle removes all its rules. */
static void chain_flush(struct bctx *x, const char *name)
{
	struct nftnl_rule *r = rule_new(name);
	struct nlmsghdr *nlh = msg(x, NFT_MSG_DELRULE, 0);
	nftnl_rule_nlmsg_build_payload(nlh, r);
	nftnl_rule_free(r);
	done(x);
}

static void map_put(struct bctx *x, int type, const char *name, uint32_t id)
{
	struct nftnl_set *s = nftnl_set_alloc();
	if (!s)
		abort();
	nftnl_set_set_str(s, NFTNL_SET_TABLE, NG_TABLE);
	nftnl_set_set_str(s, NFTNL_SET_NAME, name);
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_INET);
	struct nftnl_udata_buf *ud = NULL;
	if (type == NFT_MSG_NEWSET) {
		nftnl_set_set_u32(s, NFTNL_SET_ID, id);
		nftnl_set_set_u32(s, NFTNL_SET_FLAGS, NFT_SET_MAP);
		nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, TYPE_CGROUPV2);
		nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, sizeof(uint64_t));
		nftnl_set_set_u32(s, NFTNL_SET_DATA_TYPE, NFT_DATA_VERDICT);
		nftnl_set_set_u32(s, NFTNL_SET_DATA_LEN, 0);
		ud = nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN);
		if (!ud)
			abort();
		nftnl_udata_put_u32(ud, NFTNL_UDATA_SET_KEYBYTEORDER, BYTEORDER_HOST);
		nftnl_set_set_data(s, NFTNL_SET_USERDATA, nftnl_udata_buf_data(ud),
				   nftnl_udata_buf_len(ud));
	}
	struct nlmsghdr *nlh = msg(x, type, type == NFT_MSG_NEWSET ? NLM_F_CREATE : 0);
	nftnl_set_nlmsg_build_payload(nlh, s);
	nftnl_set_free(s);
	nftnl_udata_buf_free(ud);
	done(x);
}

/* ---- the scaffold: base chains and reject chains ---- */

static void reject_chains(struct bctx *x)
{
	chain_put(x, NFT_MSG_NEWCHAIN, "reject_out", NULL, -1);
	chain_put(x, NFT_MSG_NEWCHAIN, "reject_in", NULL, -1);
	chain_flush(x, "reject_out");
	chain_flush(x, "reject_in");
	/* Output, TCP: a reset, which the local stack takes at once, so
	 * connect() fails with ECONNREFUSED (a dropped SYN would hang it in
	 * retransmits: tcp_connect() ignores the -EPERM of the drop). */
	struct nftnl_rule *r = rule_new("reject_out");
	m_l4(r, IPPROTO_TCP);
	e_counter(r);
	e_reject(r, NFT_REJECT_TCP_RST, 0);
	rule_put(x, r);
	/* Output, other protocols: a drop, which the sending call sees as
	 * EPERM right away (nf_hook_slow()'s default for NF_DROP). */
	r = rule_new("reject_out");
	e_counter(r);
	e_verdict(r, NF_DROP, NULL);
	rule_put(x, r);
	/* Input: a reset for TCP, port unreachable for UDP (the peer sees
	 * ECONNREFUSED, as if nothing listened), a drop for the rest. */
	r = rule_new("reject_in");
	m_l4(r, IPPROTO_TCP);
	e_counter(r);
	e_reject(r, NFT_REJECT_TCP_RST, 0);
	rule_put(x, r);
	r = rule_new("reject_in");
	m_l4(r, IPPROTO_UDP);
	e_counter(r);
	e_reject(r, NFT_REJECT_ICMPX_UNREACH, NFT_REJECT_ICMPX_PORT_UNREACH);
	rule_put(x, r);
	r = rule_new("reject_in");
	e_counter(r);
	e_verdict(r, NF_DROP, NULL);
	rule_put(x, r);
}

/* Packets that only end or refuse a flow are let through on input before
 * any profile is asked: TCP resets (including the ones reject_out sends
 * to the local socket, which must arrive for connect() to fail at once)
 * and ICMP errors (the socket lookup finds the socket of the packet they
 * quote). They carry no data. Matched on their headers, not on conntrack:
 * a ruleset of coarse profiles then needs no conntrack at all. */
static void bypass_rule(struct bctx *x, uint8_t l4, uint32_t off, uint8_t mask,
			uint8_t lo, uint8_t hi)
{
	struct nftnl_rule *r = rule_new("input");
	m_l4(r, l4);
	e_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, off, 1);
	if (mask) {
		uint8_t zero = 0;
		struct nftnl_expr *e = ex("bitwise");
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, 1);
		nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, &mask, 1);
		nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, &zero, 1);
		add(r, e);
		e_cmp(r, NFT_CMP_NEQ, &zero, 1);
	} else {
		e_cmp(r, NFT_CMP_GTE, &lo, 1);
		e_cmp(r, NFT_CMP_LTE, &hi, 1);
	}
	e_verdict(r, NF_ACCEPT, NULL);
	rule_put(x, r);
}

static void input_bypass(struct bctx *x)
{
	bypass_rule(x, IPPROTO_TCP, 13, 0x04, 0, 0);       /* tcp flags rst */
	bypass_rule(x, IPPROTO_ICMP, 0, 0, 3, 5);          /* unreachable, quench, redirect */
	bypass_rule(x, IPPROTO_ICMP, 0, 0, 11, 12);        /* time exceeded, parameter problem */
	bypass_rule(x, IPPROTO_ICMPV6, 0, 0, 1, 127);      /* ICMPv6 errors (RFC 4443) */
}

static void base_chains(struct bctx *x, uint64_t levels, const uint32_t *set_ids)
{
	static const char *const names[NG_DIR_MAX] = { "output", "input" };
	static const int hooks[NG_DIR_MAX] = { NF_INET_LOCAL_OUT, NF_INET_LOCAL_IN };
	for (int d = 0; d < NG_DIR_MAX; d++) {
		chain_put(x, NFT_MSG_NEWCHAIN, names[d], NULL, hooks[d]);
		chain_flush(x, names[d]);
		if (d == NG_IN)
			input_bypass(x);
		/* Deepest level first: the nearest confined ancestor of the
		 * socket's cgroup decides (a miss falls through to the next). */
		for (int l = NG_CGROUP_LEVEL_MAX; l >= 1; l--) {
			if (!((levels >> l) & 1))
				continue;
			char set[16];
			snprintf(set, sizeof set, "%s%d", d == NG_OUT ? "out" : "in", l);
			struct nftnl_rule *r = rule_new(names[d]);
			struct nftnl_expr *e = ex("socket");
			nftnl_expr_set_u32(e, NFTNL_EXPR_SOCKET_KEY, NFT_SOCKET_CGROUPV2);
			nftnl_expr_set_u32(e, NFTNL_EXPR_SOCKET_DREG, NFT_REG_1);
			nftnl_expr_set_u32(e, NFTNL_EXPR_SOCKET_LEVEL, (uint32_t)l);
			add(r, e);
			e = ex("lookup");
			nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
			nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_DREG, NFT_REG_VERDICT);
			nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, set);
			if (set_ids[l * 2 + d])
				nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SET_ID, set_ids[l * 2 + d]);
			add(r, e);
			rule_put(x, r);
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
	e_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, off, 2);
	uint16_t nlo = htons(lo), nhi = htons(hi);
	if (lo == hi) {
		e_cmp(r, NFT_CMP_EQ, &nlo, 2);
	} else {
		/* Ports are big-endian: cmp compares bytes, so this orders them
		 * numerically. */
		if (lo > 0)
			e_cmp(r, NFT_CMP_GTE, &nlo, 2);
		if (hi < 65535)
			e_cmp(r, NFT_CMP_LTE, &nhi, 2);
	}
}

static void match_rule(struct bctx *x, const char *chain, const struct ng_match *m,
		       enum ng_dir dir, const char *profile)
{
	struct nftnl_rule *r = rule_new(chain);
	if (m->nfproto)
		m_u8(r, NFT_META_NFPROTO, m->nfproto);
	const int v6 = m->nfproto == NFPROTO_IPV6;
	if (m->has_saddr) {
		e_payload(r, NFT_PAYLOAD_NETWORK_HEADER, v6 ? 8 : 12, v6 ? 16 : 4);
		e_cmp(r, NFT_CMP_EQ, m->saddr, v6 ? 16 : 4);
	}
	if (m->has_daddr) {
		e_payload(r, NFT_PAYLOAD_NETWORK_HEADER, v6 ? 24 : 16, v6 ? 16 : 4);
		e_cmp(r, NFT_CMP_EQ, m->daddr, v6 ? 16 : 4);
	}
	if (m->l4proto)
		m_l4(r, m->l4proto);
	port_match(r, 0, m->sport_lo, m->sport_hi);
	port_match(r, 2, m->dport_lo, m->dport_hi);
	const char *kind = log_kind(m->log);
	if (kind) {
		char prefix[NG_PREFIX_MAX + 1];
		snprintf(prefix, sizeof prefix, "capgate %s %s", kind, profile);
		e_log(r, prefix);
	}
	if (m->verdict == NG_V_ACCEPT) {
		if (m->log)
			e_counter(r);
		e_verdict(r, NF_ACCEPT, NULL);
	} else {
		e_verdict(r, NFT_GOTO, dir == NG_OUT ? "reject_out" : "reject_in");
	}
	rule_put(x, r);
}

static void chain_rules(struct bctx *x, const char *name, const struct ng_chain *c,
			enum ng_dir dir, const char *profile)
{
	for (size_t i = 0; i < c->n; i++)
		match_rule(x, name, &c->m[i], dir, profile);
}

static void dispatch(struct bctx *x, const char *name, const struct ng_plan *p,
		     enum ng_dir dir)
{
	char target[NG_CHAIN_NAME_MAX];
	const int own = dir == NG_OUT ? NG_C_LOCAL : NG_C_REMOTE;
	const int other = dir == NG_OUT ? NG_C_REMOTE : NG_C_LOCAL;
	uint32_t st_new = CT_STATE_NEW;
	/* ct state new, TCP */
	struct nftnl_rule *r = rule_new(name);
	e_ct(r, NFT_CT_STATE);
	e_bitwise(r, st_new);
	uint32_t zero = 0;
	e_cmp(r, NFT_CMP_NEQ, &zero, 4);
	m_l4(r, IPPROTO_TCP);
	ng_chain_name(p->hash, dir, p->class_chain[dir][NG_C_NEW_TCP], target);
	e_verdict(r, NFT_GOTO, target);
	rule_put(x, r);
	/* ct state new, other */
	r = rule_new(name);
	e_ct(r, NFT_CT_STATE);
	e_bitwise(r, st_new);
	e_cmp(r, NFT_CMP_NEQ, &zero, 4);
	ng_chain_name(p->hash, dir, p->class_chain[dir][NG_C_NEW_OTHER], target);
	e_verdict(r, NFT_GOTO, target);
	rule_put(x, r);
	/* ct direction: original is "started by this side" on output and
	 * "started by the peer" on input. */
	uint8_t reply = 1; /* IP_CT_DIR_REPLY */
	r = rule_new(name);
	e_ct(r, NFT_CT_DIRECTION);
	e_cmp(r, NFT_CMP_EQ, &reply, 1);
	ng_chain_name(p->hash, dir, p->class_chain[dir][other], target);
	e_verdict(r, NFT_GOTO, target);
	rule_put(x, r);
	/* original direction, and untracked packets */
	r = rule_new(name);
	ng_chain_name(p->hash, dir, p->class_chain[dir][own], target);
	e_verdict(r, NFT_GOTO, target);
	rule_put(x, r);
}

static void plan_chains(struct bctx *x, const struct ng_plan *p)
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
						chain_put(x, NFT_MSG_NEWCHAIN, name, p->profile, -1);
						chain_rules(x, name, &p->chains[k], d, p->profile);
						break;
					}
		ng_chain_name(p->hash, d, -1, name);
		chain_put(x, NFT_MSG_NEWCHAIN, name, p->profile, -1);
		if (single)
			chain_rules(x, name, &p->chains[p->class_chain[d][0]], d, p->profile);
		else
			dispatch(x, name, p, d);
	}
}

/* ---- elements ---- */

static void elems(struct bctx *x, int type, const struct ng_bind *const *bs, size_t n,
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
		struct nlmsghdr *nlh = msg(x, type, type == NFT_MSG_NEWSETELEM ? NLM_F_CREATE : 0);
		nftnl_set_elems_nlmsg_build_payload(nlh, s);
		nftnl_set_free(s);
		done(x);
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

static void batch_begin(struct bctx *x, uint32_t genid)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(nftnl_batch_buffer(x->b));
	nlh->nlmsg_type = NFNL_MSG_BATCH_BEGIN;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	nlh->nlmsg_seq = x->seq++;
	struct nfgenmsg *nfg = mnl_nlmsg_put_extra_header(nlh, sizeof *nfg);
	nfg->nfgen_family = AF_UNSPEC;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = htons(NFNL_SUBSYS_NFTABLES);
	if (genid)
		mnl_attr_put_u32(nlh, NFNL_BATCH_GENID, htonl(genid));
	if (nftnl_batch_update(x->b) < 0)
		x->err = -ENOMEM;
}

int ng_batch_build(const struct ng_state *cur, const struct ng_bind *want,
		   size_t nwant, struct ng_plan *const *plans, size_t nplans,
		   uint32_t genid, uint32_t seq, struct nftnl_batch **out,
		   size_t *nmsg)
{
	*out = NULL;
	*nmsg = 0;
	struct bctx x = { .seq = seq };
	const struct ng_bind **del = NULL, **addv = NULL;
	uint64_t *newh = NULL, *curh = NULL, *wanth = NULL, *planh = NULL;
	struct bindex icur = { 0 }, iwant = { 0 };
	int r = 0;
	for (size_t i = 0; i < nwant; i++)
		if (want[i].level < 1 || want[i].level > NG_CGROUP_LEVEL_MAX)
			return -EINVAL;
	curh = calloc(cur->nc + 1, sizeof *curh);
	wanth = calloc(nwant + 1, sizeof *wanth);
	planh = calloc(nplans + 1, sizeof *planh);
	del = calloc(cur->nb + 1, sizeof *del);
	addv = calloc(nwant + 1, sizeof *addv);
	newh = calloc(nwant + 1, sizeof *newh);
	if (!curh || !wanth || !planh || !del || !addv || !newh ||
	    bindex_make(&icur, cur->b, cur->nb) < 0 || bindex_make(&iwant, want, nwant) < 0) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < cur->nc; i++)
		curh[i] = ng_pchain_hash(cur->c[i].name);
	qsort(curh, cur->nc, sizeof *curh, cmp_u64);
	for (size_t i = 0; i < nwant; i++)
		wanth[i] = want[i].hash;
	qsort(wanth, nwant, sizeof *wanth, cmp_u64);
	for (size_t i = 0; i < nplans; i++)
		planh[i] = plans[i]->hash;
	qsort(planh, nplans, sizeof *planh, cmp_u64);
	/* Every new hash needs a plan. */
	for (size_t i = 0; i < nwant; i++)
		if (!has_u64(curh, cur->nc, want[i].hash) && !has_u64(planh, nplans, want[i].hash)) {
			r = -EINVAL;
			goto out;
		}
	x.b = nftnl_batch_alloc(1 << 17, 1 << 16);
	if (!x.b) {
		r = -ENOMEM;
		goto out;
	}
	batch_begin(&x, genid);

	if (nwant == 0) {
		if (cur->table) {
			struct nftnl_table *t = nftnl_table_alloc();
			if (!t)
				abort();
			nftnl_table_set_str(t, NFTNL_TABLE_NAME, NG_TABLE);
			nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, NFPROTO_INET);
			struct nlmsghdr *nlh = msg(&x, NFT_MSG_DELTABLE, NLM_F_ACK);
			nftnl_table_nlmsg_build_payload(nlh, t);
			nftnl_table_free(t);
			done(&x);
		}
		goto end;
	}

	/* What changes. */
	size_t ndel = 0, nadd = 0, nnew = 0;
	uint64_t levels = 0;
	for (size_t i = 0; i < cur->nb; i++) {
		const struct ng_bind *w = find_bind(&iwant, cur->b[i].id);
		if (!w || !same_bind(w, &cur->b[i]))
			del[ndel++] = &cur->b[i];
	}
	for (size_t i = 0; i < nwant; i++) {
		const struct ng_bind *c = find_bind(&icur, want[i].id);
		if (!c || !same_bind(c, &want[i]))
			addv[nadd++] = &want[i];
		levels |= 1ull << want[i].level;
		if (!has_u64(curh, cur->nc, want[i].hash))
			newh[nnew++] = want[i].hash;
	}
	/* each new hash once */
	qsort(newh, nnew, sizeof *newh, cmp_u64);
	size_t uniq = 0;
	for (size_t i = 0; i < nnew; i++)
		if (uniq == 0 || newh[uniq - 1] != newh[i])
			newh[uniq++] = newh[i];
	nnew = uniq;

	struct nftnl_table *t = nftnl_table_alloc();
	if (!t)
		abort();
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, NG_TABLE);
	nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, NFPROTO_INET);
	struct nlmsghdr *nlh = msg(&x, NFT_MSG_NEWTABLE, NLM_F_CREATE);
	nftnl_table_nlmsg_build_payload(nlh, t);
	nftnl_table_free(t);
	done(&x);
	reject_chains(&x);

	/* New profile chains, before anything jumps to them. */
	for (size_t k = 0; k < nnew; k++)
		for (size_t j = 0; j < nplans; j++)
			if (plans[j]->hash == newh[k]) {
				plan_chains(&x, plans[j]);
				break;
			}

	/* New maps, then the dispatch rules that look them up. */
	uint32_t set_ids[(NG_CGROUP_LEVEL_MAX + 1) * 2] = { 0 };
	uint32_t next_id = 1;
	for (int l = 1; l <= NG_CGROUP_LEVEL_MAX; l++) {
		if (!((levels >> l) & 1) || ((cur->levels >> l) & 1))
			continue;
		char name[16];
		snprintf(name, sizeof name, "out%d", l);
		set_ids[l * 2 + NG_OUT] = next_id;
		map_put(&x, NFT_MSG_NEWSET, name, next_id++);
		snprintf(name, sizeof name, "in%d", l);
		set_ids[l * 2 + NG_IN] = next_id;
		map_put(&x, NFT_MSG_NEWSET, name, next_id++);
	}
	base_chains(&x, levels, set_ids);

	/* Elements: old ones out, new ones in, per level. */
	for (int pass = 0; pass < 2; pass++) {
		const struct ng_bind **v = pass ? addv : del;
		size_t n = pass ? nadd : ndel;
		for (int l = 1; l <= NG_CGROUP_LEVEL_MAX; l++) {
			const struct ng_bind **lv = calloc(n + 1, sizeof *lv);
			size_t m = 0;
			if (!lv) {
				r = -ENOMEM;
				goto out;
			}
			for (size_t i = 0; i < n; i++)
				if (v[i]->level == l)
					lv[m++] = v[i];
			for (int d = 0; m && d < NG_DIR_MAX; d++)
				elems(&x, pass ? NFT_MSG_NEWSETELEM : NFT_MSG_DELSETELEM, lv, m,
				      l, d);
			free(lv);
		}
	}

	/* Maps no binding uses any more. */
	for (int l = 1; l <= NG_CGROUP_LEVEL_MAX; l++) {
		if (!((cur->levels >> l) & 1) || ((levels >> l) & 1))
			continue;
		char name[16];
		snprintf(name, sizeof name, "out%d", l);
		map_put(&x, NFT_MSG_DELSET, name, 0);
		snprintf(name, sizeof name, "in%d", l);
		map_put(&x, NFT_MSG_DELSET, name, 0);
	}

	/* Profile chains no binding uses: entry chains first (their rules
	 * reference the class chains), then class chains. */
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < cur->nc; i++) {
			const char *name = cur->c[i].name;
			int used = has_u64(wanth, nwant, ng_pchain_hash(name));
			if (used || (pass == 0) != (name[18] == '\0'))
				continue;
			chain_put(&x, NFT_MSG_DELCHAIN, name, NULL, -1);
		}

end:
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
	free(del);
	free(addv);
	free(newh);
	free(curh);
	free(wanth);
	free(planh);
	free(icur.v);
	free(iwant.v);
	if (r < 0) {
		if (x.b)
			nftnl_batch_free(x.b);
		return r;
	}
	*out = x.b;
	*nmsg = x.nmsg;
	return 0;
}
