/* cg_capaudit.h: capability lines ("capable") for `capgate exec`.
 *
 * Capabilities are dropped to the profile's set (cg_caps.c), so the kernel
 * itself refuses the others; this module makes those refusals visible, as
 * AppArmor's audit lines:
 *   apparmor="DENIED" operation="capable" class="cap" profile="foo"
 *   pid=42 comm="chown" capability=0  capname="chown"
 * A BPF tracing program on the exit of the kernel's cap_capable()
 * (security/commoncap.c) sends the checks that may need a line to a ring
 * buffer: only from tasks in the instance's cgroup (labels included, the
 * unconfined <id>.ux sibling not), never the kernel's silent probes
 * (CAP_OPT_NOAUDIT), refusals of uid 0 callers, and successes whose
 * capability the caller's profile audits (or, in complain mode, lacks).
 * The launcher decides each line with cg_capaudit_kind() and writes it.
 *
 * Needs BTF and fexit (Linux 5.5 and later, CONFIG_DEBUG_INFO_BTF). Where
 * the kernel refuses tracing programs (a BPF LSM policy, as on some
 * hosted VMs), the capability:cap_capable tracepoint (Linux 6.14) stands
 * in: it lacks cap_capable()'s opts, so silent checks are told by the
 * kernel functions that made them (cg_capaudit.c). Without either,
 * cg_capaudit_open() fails and the sandbox runs without these lines.
 */
#ifndef CAPGATE_CG_CAPAUDIT_H
#define CAPGATE_CG_CAPAUDIT_H

#include <stdbool.h>
#include <stdint.h>

#include "audit.h"
#include "policy.h"
#include "capgate/cg_super.h"

struct cg_capaudit;

struct cg_capaudit_how {
	const char *cgroot;          /* cgroup2 mount point */
	const char *inst;            /* "capgate/<id>", relative to cgroot */
	const struct profile *base;  /* the instance's profile */
	bool complain;               /* --complain */
	struct audit_sink *audit;    /* where lines go */
};

/* Load and attach the program for one instance. 0 or -errno (-ENOENT or
 * -EOPNOTSUPP: no BTF or no fexit here). */
int cg_capaudit_open(struct cg_capaudit **out, const struct cg_capaudit_how *h);

/* A label cgroup (cgrel, relative to cgroot) now holds profile pr: its
 * checks get pr's lines. 0 or -errno (-E2BIG past CG_SUPER_MAX_LABELS). */
int cg_capaudit_label(struct cg_capaudit *ca, const char *cgrel,
		      const struct profile *pr);

/* Put cg_capaudit_label() in front of the supervisor's attach callback:
 * every label cgroup it makes is known here before a process enters it. */
void cg_capaudit_chain(struct cg_capaudit *ca, cg_attach_fn *fn, void **arg);

/* The fd to poll (readable when events are pending), or -1 for NULL. */
int cg_capaudit_fd(const struct cg_capaudit *ca);

/* Turn pending events into lines. */
void cg_capaudit_drain(struct cg_capaudit *ca);

/* Detach, write the last lines and free. NULL is fine. */
void cg_capaudit_close(struct cg_capaudit *ca);

/* Pure: the line a capability check gets under profile pr (an
 * audit_kind), or -1 for none. ret is cap_capable()'s result, uid the
 * caller's. As AppArmor's audit_caps(): a success is logged AUDIT when
 * the profile audits the capability (or has flags=(audit)), ALLOWED in
 * complain mode when the profile lacks it; a refusal is logged DENIED
 * when the profile lacks the capability, unless a plain `deny` rule
 * quiets it. Only refusals AppArmor itself would have made are logged:
 * for a caller that is not root, or a capability the profile allows, the
 * refusal is the kernel's own (the caller never held it), which AppArmor
 * never sees. */
int cg_capaudit_kind(const struct profile *pr, bool complain, int cap, int ret,
		     uint32_t uid);

/* Pure: the capabilities whose successful checks need a line (the
 * program's in-kernel filter for a cgroup of profile pr). */
uint64_t cg_capaudit_success_mask(const struct profile *pr, bool complain);

#endif
