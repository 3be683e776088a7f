/* ng_state.h: what our nftables table holds, as netgate sees it.
 *
 * All of netgate's state lives in the kernel's ruleset, so that a restart
 * loses nothing:
 *   table inet capgate
 *     chain output, input        base chains: one dispatch rule per level,
 *                                `socket cgroupv2 level L vmap @outL`
 *     map outL, inL              cgroup id -> jump p<hash>o / p<hash>i;
 *                                each element's comment is the cgroup path
 *     chain p<hash>o, p<hash>i   a profile's rules (comment: profile name),
 *     chain p<hash>o<k> ...      and its per-class chains, when classes differ
 *     chain reject_out, reject_in  how a denied packet is refused
 * <hash> names the planned rules (ng_plan.h), so equal profiles share chains.
 */
#ifndef NETGATE_NG_STATE_H
#define NETGATE_NG_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "ng_cgroup.h"
#include "ng_plan.h"

#define NG_TABLE "capgate"
#define NG_MAX_BINDINGS 65536

/* One confined cgroup. */
struct ng_bind {
	uint64_t id;    /* cgroup id: the maps' key */
	int level;      /* its depth: which map */
	char path[NG_CGROUP_PATH_MAX + 1]; /* below the cgroup2 root */
	uint64_t hash;  /* the plan its chains come from */
};

/* A profile chain found in the table. */
struct ng_pchain {
	char name[NG_CHAIN_NAME_MAX];
	char comment[NG_PREFIX_MAX + 2]; /* the profile name, maybe cut */
};

struct ng_state {
	int table;       /* our table exists */
	uint32_t genid;  /* ruleset generation the dump was taken at */
	struct ng_bind *b;
	size_t nb;
	struct ng_pchain *c; /* chains named p<hash>... */
	size_t nc;
	uint64_t levels; /* bit L: maps outL/inL exist */
};

void ng_state_clear(struct ng_state *st);

/* Hash from a profile chain's name; 0 when it is not one. */
uint64_t ng_pchain_hash(const char *name);

/* Profile name of the chains of `hash` in st, or NULL. */
const char *ng_state_profile(const struct ng_state *st, uint64_t hash);

#endif
