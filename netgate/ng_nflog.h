/* ng_nflog.h: AppArmor-format lines for the packets netgate's rules log.
 *
 * Deny and audit rules carry `log group 2718 prefix "capgate KIND
 * PROFILE"` (ng_plan.h). `netgate log` binds that nflog group and turns
 * each packet into an audit line (common/audit.h), for example
 *   apparmor="DENIED" operation="connect" class="net" error=-13
 *   profile="web" laddr=10.0.0.1 lport=40000 faddr=10.0.0.2 fport=22
 *   family="inet" sock_type="stream" protocol="tcp"
 * The operation comes from the hook and the packet: a TCP SYN is
 * "connect" on output and "accept" on input, other packets "sendmsg" /
 * "recvmsg". pid and comm are not known at packet level.
 */
#ifndef NETGATE_NG_NFLOG_H
#define NETGATE_NG_NFLOG_H

#include <stddef.h>
#include <stdint.h>

#include "audit.h"

struct ng_logged {
	enum audit_kind kind;
	char profile[128];
	const char *operation, *family, *sock_type, *protocol;
	char protonum[8];
	char laddr[46], faddr[46];
	int lport, fport; /* -1: none */
	int error;
};

/* Decode one logged packet: its prefix, the hook (NF_INET_LOCAL_OUT or
 * NF_INET_LOCAL_IN) and the payload from the network header on. Pure.
 * -EINVAL when the prefix is not ours or the packet is malformed. */
int ng_nflog_decode(const char *prefix, int hook, const uint8_t *pkt, size_t len,
		    struct ng_logged *out);

/* An audit event that points into `l` (valid while l is). */
void ng_logged_event(const struct ng_logged *l, struct audit_event *ev);

/* Bind nflog group NG_LOG_GROUP in the current network namespace and
 * write a line to `sink` per logged packet, until an error (-errno).
 * -EBUSY: another process has the group. */
int ng_nflog_run(struct audit_sink *sink);

#endif
