/* ng_plan.h: a profile's network rules, planned as nftables chains.
 *
 * Pure: from the compiled profile (or a plain array of struct net_rule) to
 * a list of chains of simple matches; ng_batch.c turns a plan into netlink
 * messages. No I/O here.
 *
 * Packets are judged against the profile of the socket's cgroup. Each
 * packet falls in one class, from the hook and conntrack; a rule applies to
 * the packet when its access list shares a bit with the class's set:
 *
 *   output, locally started flow, first TCP packet     connect
 *   output, locally started flow, first other packet   connect send
 *   output, locally started flow, later packets        connect send
 *   output, remotely started flow (replies we send)    bind listen accept send
 *   input,  remotely started flow, first TCP packet    bind listen accept
 *   input,  remotely started flow, first other packet  bind receive
 *   input,  remotely started flow, later packets       bind listen accept receive
 *   input,  locally started flow (replies we get)      connect receive
 *
 * Deny wins: every deny rule that applies rejects; otherwise an allow rule
 * that applies accepts; otherwise the packet is rejected (AppArmor's
 * default deny). Local ip=/port= match the source on output and the
 * destination on input; peer=(ip= port=) the other end.
 */
#ifndef NETGATE_NG_PLAN_H
#define NETGATE_NG_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "policy.h"

enum ng_dir { NG_OUT, NG_IN, NG_DIR_MAX };

enum ng_class {
	NG_C_NEW_TCP,   /* first packet of a flow, TCP */
	NG_C_NEW_OTHER, /* first packet of a flow, other protocols */
	NG_C_LOCAL,     /* later packets of a flow this socket started */
	NG_C_REMOTE,    /* later packets of a flow the peer started */
	NG_CLASS_MAX
};

enum ng_verdict { NG_V_ACCEPT, NG_V_REJECT, NG_VERDICT_MAX };

enum ng_log {
	NG_LOG_NONE,
	NG_LOG_DENIED,  /* "capgate DENIED <profile>" */
	NG_LOG_AUDIT,   /* "capgate AUDIT <profile>": audit rule, allowed */
	NG_LOG_ALLOWED, /* "capgate ALLOWED <profile>": complain mode */
	NG_LOG_MAX
};

/* One nft rule: every field that is set must match. */
struct ng_match {
	uint8_t nfproto;  /* 0: any, else NFPROTO_IPV4 / NFPROTO_IPV6 */
	uint8_t l4proto;  /* 0: any, else IPPROTO_* */
	uint8_t has_saddr, has_daddr;
	uint8_t saddr[16], daddr[16]; /* 4 or 16 bytes used, by nfproto */
	uint16_t sport_lo, sport_hi;  /* 0..65535: any; ports imply l4proto */
	uint16_t dport_lo, dport_hi;
	uint8_t verdict;  /* enum ng_verdict */
	uint8_t log;      /* enum ng_log */
};

struct ng_chain {
	struct ng_match *m;
	size_t n;
};

/* Limits on what one profile may produce. */
#define NG_MAX_RULES 4096           /* net rules in one profile */
#define NG_MAX_MATCHES (1u << 16)   /* matches in one plan */
#define NG_LOG_GROUP 2718           /* nflog group of our log expressions */
#define NG_PREFIX_MAX 127           /* nft log prefix, without the NUL */

struct ng_plan {
	char *profile;   /* profile name */
	uint64_t hash;   /* of everything below and the name: names chains */
	/* Which chain judges each class; chains[] holds the distinct ones.
	 * When a direction has one distinct chain, every class points at it. */
	uint8_t class_chain[NG_DIR_MAX][NG_CLASS_MAX];
	struct ng_chain chains[NG_DIR_MAX * NG_CLASS_MAX];
	size_t nchains;
};

/* Plan from an array of rules. `complain`: denials accepted and logged
 * (flags=(complain)); `default_allow`: no rule matched means accept
 * (flags=(default_allow), or an `all,` rule). -EINVAL for a bad rule,
 * -E2BIG past the limits, -ENOMEM. */
int ng_plan_rules(const char *profile, const struct net_rule *rules, size_t n,
		  int complain, int default_allow, struct ng_plan **out);

/* Plan from a compiled profile; complain: as if it had flags=(complain). */
int ng_plan_profile(const struct profile *pr, int complain, struct ng_plan **out);

void ng_plan_free(struct ng_plan *p);

/* Access bits (NET_*) that make a rule apply to a class in a direction. */
uint32_t ng_class_access(enum ng_dir dir, enum ng_class c);

/* Chain names: "p<16 hex>o" / "p<16 hex>i" for a direction's entry, and
 * "p<16 hex>o<k>" for the k-th class chain. */
#define NG_CHAIN_NAME_MAX 24
void ng_chain_name(uint64_t hash, enum ng_dir dir, int k, char *buf);

#endif
