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

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "audit.h"

struct cg_nflog;
int cg_nflog_open(struct cg_nflog **out);
int cg_nflog_fd(const struct cg_nflog *l);
/* Read what is pending and emit the lines whose profile `want` accepts
 * (NULL: all). The group is shared by every confined cgroup of the host:
 * the launcher keeps the lines of its own profiles. */
typedef bool (*cg_nflog_want)(const char *profile, void *arg);
void cg_nflog_read(struct cg_nflog *l, struct audit_sink *sink,
		   cg_nflog_want want, void *arg);
/* Give the group up now (the next launcher may bind it), while the
 * socket's slow release is left to another process. */
void cg_nflog_unbind(struct cg_nflog *l);
void cg_nflog_close(struct cg_nflog *l);

#endif
