/* policy_int.h: the inside of a compiled policy, shared by compile.c,
 * decide.c and cache.c only. Enforcement points see policy.h. */
#ifndef CAPGATE_POLICY_INT_H
#define CAPGATE_POLICY_INT_H

#include "dfa.h"
#include "policy.h"

/* Link permissions, by accept id of the pair automaton. */
struct link_perms {
	uint8_t allow, deny, subset, audit;
};

struct profile {
	char *name;   /* full name: "a//b" for children and hats */
	char *attach; /* expanded attachment glob, or NULL */
	uint32_t flags, extra;
	struct cap_set caps;
	struct net_rule *net;
	size_t nnet;
	struct rlimit_rule *rl;
	size_t nrl;
	struct dfa *file;         /* accept id i -> perms[i]; 0 = nothing */
	struct file_perms *perms; /* x.target point into `strings` */
	size_t nperms;
	struct dfa *link; /* newpath NUL target -> lperms[i] */
	struct link_perms *lperms;
	size_t nlperms;
	char *strings; /* NUL-separated exec targets */
	size_t nstrings;
	struct profile **kids;
	size_t nkids;
	struct dfa *kid_attach; /* exec path -> 1 + index of the best child */
	struct profile *parent;
};

struct policy {
	struct profile **profiles; /* top level, in source order */
	size_t nprofiles;
	struct dfa *attach; /* exec path -> 1 + index of the best profile */
	uint8_t digest[32]; /* of the sources */
};

struct profile *profile_alloc(void);
void profile_free(struct profile *pr);
/* The attachment automata of p (compile.c); a cache load rebuilds them. */
int policy_build_attach(struct policy *p, struct diags *d);
/* A digest of every file of a policy directory (cache.c), the cache key. */
void policy_dir_digest(const char *dir, uint8_t out[32]);

#endif
