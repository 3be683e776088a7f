/* cg_nflog.h: netgate's packet denials, as AppArmor-format lines.
 *
 * netgate's rules log denied (and audited) packets to nflog group
 * NG_LOG_GROUP with the prefix "capgate DENIED <profile>" (or AUDIT). The
 * launcher listens there and writes one audit line per packet to its log.
 * Only one socket can bind an nflog group: when another launcher holds it,
 * cg_nflog_open() returns -EBUSY and that launcher's network lines go to
 * the holder's log (documented in capgate(1)).
 */
#ifndef CAPGATE_CG_NFLOG_H
#define CAPGATE_CG_NFLOG_H

#include <stddef.h>
#include <stdint.h>

#include "audit.h"

/* Strings an event points into. */
struct cg_net_text {
	char profile[256], laddr[64], faddr[64];
};

/* Turn one logged packet into an audit event. Pure. `hook` is the netfilter
 * hook (1 input, 3 output), `pkt` the IP packet from its header on.
 * Returns 0, or -EINVAL for a prefix or packet that is not ours. */
int cg_nflog_event(const char *prefix, int hook, const uint8_t *pkt, size_t len,
		   struct audit_event *ev, struct cg_net_text *txt);

struct cg_nflog;
int cg_nflog_open(struct cg_nflog **out);
int cg_nflog_fd(const struct cg_nflog *l);
/* Read what is pending and emit it. */
void cg_nflog_read(struct cg_nflog *l, struct audit_sink *sink);
void cg_nflog_close(struct cg_nflog *l);

#endif
