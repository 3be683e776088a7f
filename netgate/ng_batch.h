/* ng_batch.h: the nftables batch that takes our table from one state to
 * another, built in memory (pure: no netlink I/O; ng_mnl.c sends it).
 *
 * The kernel applies a batch as one transaction: either every message
 * takes effect at once or none does, so no packet ever sees a half-made
 * change (a policy replaced under traffic has no moment of open access).
 */
#ifndef NETGATE_NG_BATCH_H
#define NETGATE_NG_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "ng_plan.h"
#include "ng_state.h"

struct nftnl_batch;

/* Build the batch from `cur` (what the kernel holds) to the bindings
 * `want` (every binding that should exist afterwards). `plans` must hold a
 * plan for every hash in `want` whose chains `cur` lacks. `genid` (0: none)
 * makes the kernel refuse the batch with ERESTART when the ruleset changed
 * since `cur` was read. *nmsg is the number of messages between the batch
 * begin and end; 0 means there is nothing to do.
 * Returns 0, -EINVAL (a plan is missing), -ENOMEM. */
int ng_batch_build(const struct ng_state *cur, const struct ng_bind *want,
		   size_t nwant, struct ng_plan *const *plans, size_t nplans,
		   uint32_t genid, uint32_t seq, struct nftnl_batch **out,
		   size_t *nmsg);

#endif
