/* ng_nft.h: message and expression builders behind ng_batch.c.
 *
 * Each call appends one nf_tables message to the batch, or one expression
 * to a rule; allocation failures of libnftnl's small objects abort, a full
 * batch sets err. Internal to netgate.
 */
#ifndef NETGATE_NG_NFT_H
#define NETGATE_NG_NFT_H

#include <stddef.h>
#include <stdint.h>

struct nftnl_batch;
struct nftnl_expr;
struct nftnl_rule;
struct nlmsghdr;

struct ngx_batch {
	struct nftnl_batch *b;
	uint32_t seq;
	size_t nmsg;
	struct nlmsghdr *last; /* the last message: it asks for an ack */
	int err;
};

struct nlmsghdr *ngx_msg(struct ngx_batch *x, int type, uint16_t flags);
void ngx_done(struct ngx_batch *x);
void ngx_add(struct nftnl_rule *r, struct nftnl_expr *e);
struct nftnl_expr *ngx_expr(const char *name);
void ngx_meta(struct nftnl_rule *r, uint32_t key);
void ngx_cmp(struct nftnl_rule *r, uint32_t op, const void *data, uint32_t len);
void ngx_payload(struct nftnl_rule *r, uint32_t base, uint32_t off, uint32_t len);
void ngx_ct(struct nftnl_rule *r, uint32_t key);
void ngx_bitwise(struct nftnl_rule *r, uint32_t mask);
void ngx_verdict(struct nftnl_rule *r, int verdict, const char *chain);
void ngx_counter(struct nftnl_rule *r);
void ngx_log(struct nftnl_rule *r, const char *prefix);
void ngx_reject(struct nftnl_rule *r, uint32_t type, uint8_t code);
void ngx_match_u8(struct nftnl_rule *r, uint32_t metakey, uint8_t v);
void ngx_match_l4(struct nftnl_rule *r, uint8_t proto);
struct nftnl_rule *ngx_rule_new(const char *chain);
void ngx_rule_put(struct ngx_batch *x, struct nftnl_rule *r);
void ngx_chain_put(struct ngx_batch *x, int type, const char *name,
		   const char *comment, int hook);
void ngx_chain_flush(struct ngx_batch *x, const char *name);
void ngx_map_put(struct ngx_batch *x, int type, const char *name, uint32_t id);
void ngx_batch_begin(struct ngx_batch *x, uint32_t genid);

#endif
