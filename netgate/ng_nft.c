/* ng_nft.c: one netlink message or expression per call, for ng_batch.c.
 * Pure: fills a libnftnl batch in memory. */
#include <arpa/inet.h>
#include <errno.h>
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
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include "ng_nft.h"
#include "ng_state.h"

#define TYPE_CGROUPV2 46  /* nft's datatype number, so `nft list` prints it */
#define BYTEORDER_HOST 1  /* nft's byteorder for the set's key */


/* Start a message in the batch. */
struct nlmsghdr *ngx_msg(struct ngx_batch *x, int type, uint16_t flags)
{
	x->last = nftnl_nlmsg_build_hdr(nftnl_batch_buffer(x->b), (uint16_t)type,
					NFPROTO_INET, flags, x->seq++);
	return x->last;
}

void ngx_done(struct ngx_batch *x)
{
	x->nmsg++;
	if (nftnl_batch_update(x->b) < 0)
		x->err = -ENOMEM;
}

/* ---- expressions ---- */

void ngx_add(struct nftnl_rule *r, struct nftnl_expr *e)
{
	nftnl_rule_add_expr(r, e);
}

struct nftnl_expr *ngx_expr(const char *name)
{
	struct nftnl_expr *e = nftnl_expr_alloc(name);
	if (!e)
		abort(); /* a few bytes: treat like the rest of libnftnl's allocs */
	return e;
}

void ngx_meta(struct nftnl_rule *r, uint32_t key)
{
	struct nftnl_expr *e = ngx_expr("meta");
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
	ngx_add(r, e);
}

void ngx_cmp(struct nftnl_rule *r, uint32_t op, const void *data, uint32_t len)
{
	struct nftnl_expr *e = ngx_expr("cmp");
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
	nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
	ngx_add(r, e);
}

void ngx_payload(struct nftnl_rule *r, uint32_t base, uint32_t off, uint32_t len)
{
	struct nftnl_expr *e = ngx_expr("payload");
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, off);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
	ngx_add(r, e);
}

void ngx_ct(struct nftnl_rule *r, uint32_t key)
{
	struct nftnl_expr *e = ngx_expr("ct");
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, NFT_REG_1);
	ngx_add(r, e);
}

void ngx_bitwise(struct nftnl_rule *r, uint32_t mask)
{
	uint32_t zero = 0;
	struct nftnl_expr *e = ngx_expr("bitwise");
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, sizeof mask);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, &mask, sizeof mask);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, &zero, sizeof zero);
	ngx_add(r, e);
}

void ngx_verdict(struct nftnl_rule *r, int verdict, const char *chain)
{
	struct nftnl_expr *e = ngx_expr("immediate");
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, (uint32_t)verdict);
	if (chain)
		nftnl_expr_set_str(e, NFTNL_EXPR_IMM_CHAIN, chain);
	ngx_add(r, e);
}

void ngx_counter(struct nftnl_rule *r)
{
	ngx_add(r, ngx_expr("counter"));
}

void ngx_log(struct nftnl_rule *r, const char *prefix)
{
	struct nftnl_expr *e = ngx_expr("log");
	nftnl_expr_set_str(e, NFTNL_EXPR_LOG_PREFIX, prefix);
	nftnl_expr_set_u16(e, NFTNL_EXPR_LOG_GROUP, NG_LOG_GROUP);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOG_SNAPLEN, 128); /* headers suffice */
	ngx_add(r, e);
}

void ngx_reject(struct nftnl_rule *r, uint32_t type, uint8_t code)
{
	struct nftnl_expr *e = ngx_expr("reject");
	nftnl_expr_set_u32(e, NFTNL_EXPR_REJECT_TYPE, type);
	nftnl_expr_set_u8(e, NFTNL_EXPR_REJECT_CODE, code);
	ngx_add(r, e);
}

void ngx_match_u8(struct nftnl_rule *r, uint32_t metakey, uint8_t v)
{
	ngx_meta(r, metakey);
	ngx_cmp(r, NFT_CMP_EQ, &v, 1);
}

void ngx_match_l4(struct nftnl_rule *r, uint8_t proto)
{
	ngx_match_u8(r, NFT_META_L4PROTO, proto);
}

/* ---- objects ---- */

struct nftnl_rule *ngx_rule_new(const char *chain)
{
	struct nftnl_rule *r = nftnl_rule_alloc();
	if (!r)
		abort();
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, NG_TABLE);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_INET);
	return r;
}

void ngx_rule_put(struct ngx_batch *x, struct nftnl_rule *r)
{
	struct nlmsghdr *nlh = ngx_msg(x, NFT_MSG_NEWRULE, NLM_F_APPEND | NLM_F_CREATE);
	nftnl_rule_nlmsg_build_payload(nlh, r);
	nftnl_rule_free(r);
	ngx_done(x);
}

void ngx_chain_put(struct ngx_batch *x, int type, const char *name, const char *comment,
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
	struct nlmsghdr *nlh = ngx_msg(x, type, type == NFT_MSG_NEWCHAIN ? NLM_F_CREATE : 0);
	nftnl_chain_nlmsg_build_payload(nlh, c);
	nftnl_chain_free(c);
	nftnl_udata_buf_free(ud);
	ngx_done(x);
}

/* Flush a chain: DELRULE with no handle removes all its rules. */
void ngx_chain_flush(struct ngx_batch *x, const char *name)
{
	struct nftnl_rule *r = ngx_rule_new(name);
	struct nlmsghdr *nlh = ngx_msg(x, NFT_MSG_DELRULE, 0);
	nftnl_rule_nlmsg_build_payload(nlh, r);
	nftnl_rule_free(r);
	ngx_done(x);
}

void ngx_map_put(struct ngx_batch *x, int type, const char *name, uint32_t id)
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
	struct nlmsghdr *nlh = ngx_msg(x, type, type == NFT_MSG_NEWSET ? NLM_F_CREATE : 0);
	nftnl_set_nlmsg_build_payload(nlh, s);
	nftnl_set_free(s);
	nftnl_udata_buf_free(ud);
	ngx_done(x);
}

void ngx_batch_begin(struct ngx_batch *x, uint32_t genid)
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
