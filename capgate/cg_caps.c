/* cg_caps.c: drop capabilities to the profile's (cg_apply.h).
 *
 * Model. The program keeps uid 0 when it ran as root, but holds only the
 * profile's capabilities, in every set:
 *  - bounding = kept: no exec (setuid root, file capabilities) can return
 *    a capability outside it;
 *  - permitted = effective = inheritable = ambient = kept ∩ what we had;
 *  - securebits NOROOT (locked): root's exec no longer refills permitted
 *    from the bounding set, so the capabilities a process carries across
 *    exec are exactly its ambient set. A process can only lower that, so a
 *    transition that lowers it (cg_super.c) sticks for every later exec;
 *  - NO_SETUID_FIXUP and KEEP_CAPS locked off: setuid() away from root
 *    still clears the sets, as usual.
 * PR_SET_NO_NEW_PRIVS (set by the caller) keeps setuid bits and file
 * capabilities from adding anything (stricter than AppArmor, which relies
 * on its own exec mediation).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <linux/securebits.h>
#include <cap-ng.h>

#include "capgate/cg_apply.h"

int cg_apply_caps(const struct cg_plan *p, struct cg_err *e)
{
	if (!p->drop_caps)
		return 0;
	unsigned long bits = SECBIT_NOROOT | SECBIT_NOROOT_LOCKED |
			     SECBIT_NO_SETUID_FIXUP_LOCKED | SECBIT_KEEP_CAPS_LOCKED;
	if (prctl(PR_SET_SECUREBITS, bits, 0, 0, 0) < 0) {
		snprintf(e->what, sizeof e->what, "set securebits");
		return -errno;
	}
	if (capng_get_caps_process() < 0) {
		snprintf(e->what, sizeof e->what, "read capabilities");
		return -EPERM;
	}
	uint64_t had = 0;
	int last = 63;
	while (last > 0 && prctl(PR_CAPBSET_READ, last, 0, 0, 0) < 0)
		last--; /* the kernel's last capability */
	for (int c = 0; c <= last && c < 64; c++)
		if (capng_have_capability(CAPNG_PERMITTED, (unsigned)c))
			had |= 1ull << c;
	uint64_t keep = p->caps & had;
	capng_clear(CAPNG_SELECT_ALL);
	for (int c = 0; c <= last && c < 64; c++) {
		if (!(keep & (1ull << c)))
			continue;
		if (capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED |
					    CAPNG_INHERITABLE | CAPNG_BOUNDING_SET |
					    CAPNG_AMBIENT, (unsigned)c) < 0) {
			snprintf(e->what, sizeof e->what, "capability %d", c);
			return -EINVAL;
		}
	}
	int r = capng_apply(CAPNG_SELECT_ALL);
	if (r < 0) {
		snprintf(e->what, sizeof e->what, "apply capabilities (libcap-ng %d)", r);
		return -EPERM;
	}
	/* Check, do not trust: what the kernel now holds. */
	capng_get_caps_process();
	for (int c = 0; c <= last && c < 64; c++) {
		if (keep & (1ull << c))
			continue;
		if (capng_have_capability(CAPNG_PERMITTED, (unsigned)c) ||
		    capng_have_capability(CAPNG_BOUNDING_SET, (unsigned)c)) {
			snprintf(e->what, sizeof e->what, "capability %d still held", c);
			return -EPERM;
		}
	}
	return 0;
}
