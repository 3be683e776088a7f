/* ng_mnl.h: the only place netgate talks netlink to nf_tables.
 *
 * Sends a batch built by ng_batch.c and reads the kernel's answers, and
 * reads our table back into a struct ng_state.
 */
#ifndef NETGATE_NG_MNL_H
#define NETGATE_NG_MNL_H

#include "ng_state.h"

struct mnl_socket;
struct nftnl_batch;

int ng_mnl_open(struct mnl_socket **out);
void ng_mnl_close(struct mnl_socket *nl);

/* Send one batch; 0 when the kernel took all of it, else the first error
 * it reported as -errno (-ERESTART: the ruleset changed since the genid
 * the batch carries). */
int ng_mnl_send(struct mnl_socket *nl, struct nftnl_batch *b);

/* Read our table (bindings, profile chains, maps) and the generation id.
 * Returns 0 (st->table is 0 when there is no table), or -errno. */
int ng_mnl_read_state(struct mnl_socket *nl, struct ng_state *st);

#endif
