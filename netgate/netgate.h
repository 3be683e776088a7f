/* netgate.h: confine cgroups' network use with nftables (the launcher's
 * and the netgate CLI's API).
 *
 * ng_attach() makes every socket created in the cgroup (and its
 * descendants) subject to the profile's network rules, ng_detach() lifts
 * that. Both are idempotent, take effect in one atomic nftables
 * transaction, and keep all their state in the kernel's ruleset (table
 * `inet capgate`, see ng_state.h), in the caller's network namespace.
 * Bindings whose cgroup no longer exists are dropped on the way; the table
 * goes with the last binding. Return 0 or -errno.
 */
#ifndef NETGATE_NETGATE_H
#define NETGATE_NETGATE_H

#include <stddef.h>

struct profile;
struct ng_state;

/* cgroup_path: absolute under the cgroup2 mount, or relative to it. */
int ng_attach(const char *cgroup_path, const struct profile *pr);
int ng_detach(const char *cgroup_path);

/* The same over a netlink socket the caller keeps across calls (ng_open).
 * Why: the release of a NETLINK_NETFILTER socket after a commit waits for
 * an RCU grace period (~10 ms; nf_tables' NETLINK_URELEASE handler flushes
 * the work that frees committed transactions after synchronize_rcu()),
 * while the commit itself is complete when the kernel acks it. A caller
 * that must not wait (capgate exec) keeps one socket and picks the moment,
 * and the process, that releases it. */
struct mnl_socket;
int ng_open(struct mnl_socket **nl);
void ng_close(struct mnl_socket *nl);
int ng_attach_on(struct mnl_socket *nl, const char *cgroup_path, const struct profile *pr);
/* The same in complain mode (capgate exec --complain): nothing is
 * refused, would-be denials are logged as ALLOWED. */
int ng_attach_complain_on(struct mnl_socket *nl, const char *cgroup_path,
			  const struct profile *pr);
int ng_detach_on(struct mnl_socket *nl, const char *cgroup_path);

struct ng_target {
	const char *cgroup;
	const struct profile *pr;
	int complain; /* as if flags=(complain): accept, log ALLOWED */
};
/* Timings of one call, microseconds. */
struct ng_stats {
	long read_us;   /* reading the table back */
	long build_us;  /* planning and building the batch */
	long commit_us; /* the kernel taking the batch */
	size_t messages;
	size_t tries;   /* > 1 when another writer raced us */
};
/* Several bindings in one transaction (what `netgate attach` with several
 * --cgroup/--profile pairs and the benchmark use). stats may be NULL. */
int ng_attach_many(const struct ng_target *t, size_t n, struct ng_stats *stats);

/* Detach every binding: the table goes. */
int ng_detach_all(void);

/* The current bindings and profile chains (ng_state_clear() it). */
int ng_list(struct ng_state *st);

#endif
