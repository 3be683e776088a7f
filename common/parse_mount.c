/* parse_mount.c: mount, remount, umount and pivot_root rules, checked the
 * way upstream's mount.cc builds them:
 *   mount [conds] [SOURCE] [-> MOUNTPOINT],   remount [conds] [MOUNTPOINT],
 *   umount [conds] [MOUNTPOINT],   pivot_root [oldroot=OLD] [NEWROOT] [-> PROFILE]
 * options=(...) must all hold (one required flag set per conditional),
 * options in (...) may hold; a rule whose flags ask for an operation its
 * other parts rule out (a bind mount of an fstype, a propagation change
 * with both a source and a mount point, ...) grants nothing, which upstream
 * refuses ("Encoding of mount rule failed"), and so do we. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "parse_other.h"

/* mount.h: flag bits as upstream numbers them (not the kernel's) */
enum {
	MS_RDONLY = 1u << 0,
	MS_NOSUID = 1u << 1,
	MS_NODEV = 1u << 2,
	MS_NOEXEC = 1u << 3,
	MS_SYNCHRONOUS = 1u << 4,
	MS_REMOUNT = 1u << 5,
	MS_MAND = 1u << 6,
	MS_DIRSYNC = 1u << 7,
	MS_NOSYMFOLLOW = 1u << 8,
	MS_NOATIME = 1u << 10,
	MS_NODIRATIME = 1u << 11,
	MS_BIND = 1u << 12,
	MS_MOVE = 1u << 13,
	MS_REC = 1u << 14,
	MS_SILENT = 1u << 15,
	MS_ACL = 1u << 16,
	MS_UNBINDABLE = 1u << 17,
	MS_PRIVATE = 1u << 18,
	MS_SLAVE = 1u << 19,
	MS_SHARED = 1u << 20,
	MS_RELATIME = 1u << 21,
	MS_IVERSION = 1u << 23,
	MS_STRICTATIME = 1u << 24,
	MS_LAZYTIME = 1u << 25,
	MS_NOUSER = 1u << 31,
	MS_ALL = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_SYNCHRONOUS |
		 MS_REMOUNT | MS_MAND | MS_DIRSYNC | MS_NOSYMFOLLOW | MS_NOATIME |
		 MS_NODIRATIME | MS_BIND | MS_REC | MS_MOVE | MS_SILENT | MS_ACL |
		 MS_UNBINDABLE | MS_PRIVATE | MS_SLAVE | MS_SHARED | MS_RELATIME |
		 MS_IVERSION | MS_STRICTATIME | MS_LAZYTIME,
	MS_MAKE_CMDS = MS_UNBINDABLE | MS_PRIVATE | MS_SLAVE | MS_SHARED,
	MS_CMDS = MS_MOVE | MS_REMOUNT | MS_BIND | MS_REC | MS_MAKE_CMDS,
	MS_REMOUNT_FLAGS = MS_ALL & ~MS_MOVE,
};

struct mnt_opt {
	const char *name;
	uint32_t set, clear;
};

/* mount.cc mnt_opts_table */
static const struct mnt_opt mnt_opts[] = {
	{ "ro", MS_RDONLY, 0 }, { "r", MS_RDONLY, 0 }, { "read-only", MS_RDONLY, 0 },
	{ "rw", 0, MS_RDONLY }, { "w", 0, MS_RDONLY },
	{ "suid", 0, MS_NOSUID }, { "nosuid", MS_NOSUID, 0 },
	{ "dev", 0, MS_NODEV }, { "nodev", MS_NODEV, 0 },
	{ "exec", 0, MS_NOEXEC }, { "noexec", MS_NOEXEC, 0 },
	{ "sync", MS_SYNCHRONOUS, 0 }, { "async", 0, MS_SYNCHRONOUS },
	{ "remount", MS_REMOUNT, 0 },
	{ "mand", MS_MAND, 0 }, { "nomand", 0, MS_MAND },
	{ "dirsync", MS_DIRSYNC, 0 },
	{ "symfollow", 0, MS_NOSYMFOLLOW }, { "nosymfollow", MS_NOSYMFOLLOW, 0 },
	{ "atime", 0, MS_NOATIME }, { "noatime", MS_NOATIME, 0 },
	{ "diratime", 0, MS_NODIRATIME }, { "nodiratime", MS_NODIRATIME, 0 },
	{ "bind", MS_BIND, 0 }, { "B", MS_BIND, 0 },
	{ "move", MS_MOVE, 0 }, { "M", MS_MOVE, 0 },
	{ "rbind", MS_BIND | MS_REC, 0 }, { "R", MS_BIND | MS_REC, 0 },
	{ "verbose", MS_SILENT, 0 }, { "silent", MS_SILENT, 0 }, { "loud", 0, MS_SILENT },
	{ "acl", MS_ACL, 0 }, { "noacl", 0, MS_ACL },
	{ "unbindable", MS_UNBINDABLE, 0 }, { "make-unbindable", MS_UNBINDABLE, 0 },
	{ "runbindable", MS_UNBINDABLE | MS_REC, 0 },
	{ "make-runbindable", MS_UNBINDABLE | MS_REC, 0 },
	{ "private", MS_PRIVATE, 0 }, { "make-private", MS_PRIVATE, 0 },
	{ "rprivate", MS_PRIVATE | MS_REC, 0 }, { "make-rprivate", MS_PRIVATE | MS_REC, 0 },
	{ "slave", MS_SLAVE, 0 }, { "make-slave", MS_SLAVE, 0 },
	{ "rslave", MS_SLAVE | MS_REC, 0 }, { "make-rslave", MS_SLAVE | MS_REC, 0 },
	{ "shared", MS_SHARED, 0 }, { "make-shared", MS_SHARED, 0 },
	{ "rshared", MS_SHARED | MS_REC, 0 }, { "make-rshared", MS_SHARED | MS_REC, 0 },
	{ "relatime", MS_RELATIME, 0 }, { "norelatime", 0, MS_RELATIME },
	{ "iversion", MS_IVERSION, 0 }, { "noiversion", 0, MS_IVERSION },
	{ "strictatime", MS_STRICTATIME, 0 }, { "nostrictatime", 0, MS_STRICTATIME },
	{ "lazytime", MS_LAZYTIME, 0 }, { "nolazytime", 0, MS_LAZYTIME },
	{ "user", 0, MS_NOUSER }, { "nouser", MS_NOUSER, 0 },
	{ NULL, 0, 0 },
};

#define MNT_MAX_SETS OR_MAX_CONDS

struct mnt {
	const char *kw;
	bool remount, umount;
	const char *device, *mnt_point; /* NULL: any */
	bool fstype;
	uint32_t flags[MNT_MAX_SETS], opt[MNT_MAX_SETS];
	size_t nflags, nopt;
};

static int opt_flags(struct parser *P, const struct ocond *c, uint32_t *set,
		     uint32_t *clear)
{
	*set = *clear = 0;
	for (size_t i = 0; i < c->nvals; i++) {
		const struct mnt_opt *m;
		for (m = mnt_opts; m->name && strcmp(m->name, c->vals[i]); m++)
			;
		if (!m->name) {
			diag_add(P->d, &c->vlocs[i], 0, "mount rule: unknown mount option '%s'",
				 c->vals[i]);
			return -EINVAL;
		}
		*set |= m->set;
		*clear |= m->clear;
	}
	return 0;
}

/* The conditionals into required and optional flag sets (mnt_rule ctor). */
static int mount_conds(struct parser *P, struct orule *o, struct mnt *m)
{
	for (size_t i = 0; i < o->nconds - o->ndst_conds; i++) {
		const struct ocond *c = &o->conds[i];
		bool opts = !strcmp(c->name, "options") || !strcmp(c->name, "option");
		bool fst = !strcmp(c->name, "fstype") || !strcmp(c->name, "vfstype");
		if (!opts && !fst) {
			diag_add(P->d, &c->loc, 0, "invalid mount conditional '%s'", c->name);
			return -EINVAL;
		}
		if (c->cmp != OC_EQ && c->cmp != OC_IN) {
			diag_add(P->d, &c->loc, 0, "mount rule: only '=' and 'in' are allowed");
			return -EINVAL;
		}
		if (fst) {
			m->fstype = true;
			for (size_t j = 0; j < c->nvals; j++)
				if (glob_check(P, "mount fstype", c->vals[j], &c->vlocs[j]) < 0)
					return -EINVAL;
			continue;
		}
		uint32_t set, clear;
		if (opt_flags(P, c, &set, &clear) < 0)
			return -EINVAL;
		if (c->cmp == OC_IN) {
			/* optional: set or clear mean the same, "may differ" */
			m->opt[m->nopt++] = set | clear;
			continue;
		}
		if (m->remount)
			set |= MS_REMOUNT;
		if (set & clear) {
			diag_add(P->d, &c->loc, 0,
				 "mount rule: conflicting flags in %s=(...) (e.g. ro and rw)",
				 c->name);
			return -EINVAL;
		}
		m->flags[m->nflags++] = set;
	}
	if (!m->nflags && !m->nopt) {
		m->flags[m->nflags++] = m->remount ? MS_REMOUNT : MS_ALL;
		m->opt[m->nopt++] = m->remount ? MS_REMOUNT_FLAGS & ~MS_REMOUNT : MS_ALL;
	} else if (!m->nflags) {
		m->flags[m->nflags++] = m->remount ? MS_REMOUNT : 0;
	} else if (!m->nopt) {
		m->opt[m->nopt++] = 0;
	}
	return 0;
}

/* mount.cc gen_flag_rules(): does this flag set encode anything? NULL if
 * so, else why not. */
static const char *mount_pair(const struct mnt *m, uint32_t flags, uint32_t opt)
{
	if (!flags || flags == MS_ALL)
		return NULL; /* the generic new-mount rule at least */
	if (flags & MS_REMOUNT)
		return m->device || m->fstype ?
			"a remount cannot be conditional on a source or an fstype" : NULL;
	if (flags & MS_BIND)
		return m->fstype ? "a bind mount cannot be conditional on an fstype" : NULL;
	if (flags & MS_MAKE_CMDS)
		return (m->device && m->mnt_point) || m->fstype ?
			"propagation flags (private, slave, shared, unbindable) take the "
			"mount point alone, without a source or an fstype" : NULL;
	if (flags & MS_MOVE)
		return m->fstype ? "a move cannot be conditional on an fstype" : NULL;
	if ((flags | opt) & ~MS_CMDS)
		return NULL;
	return "the flags grant nothing";
}

int check_mount(struct parser *P, struct orule *o, struct rule *r)
{
	struct mnt m = { .kw = o->k->name };
	(void)r;
	m.remount = !strcmp(m.kw, "remount");
	m.umount = !strcmp(m.kw, "umount") || !strcmp(m.kw, "unmount");
	if (o->ndst_conds) {
		diag_add(P->d, &o->dst_loc, 0,
			 "mount rule: mount point conditionals are not supported");
		return -EINVAL;
	}
	if (!strcmp(m.kw, "mount")) {
		m.device = o->has_id ? o->id.text : NULL;
		m.mnt_point = o->has_target ? o->target.text : NULL;
	} else {
		m.mnt_point = o->has_id ? o->id.text : NULL;
	}
	if ((o->has_id && glob_check(P, "mount path", o->id.text, &o->id.loc) < 0) ||
	    (o->has_target && glob_check(P, "mount point", o->target.text, &o->target.loc) < 0))
		return -EINVAL;
	if (mount_conds(P, o, &m) < 0)
		return -EINVAL;
	if (m.umount)
		return 0;
	const char *why = NULL;
	for (size_t i = 0; i < m.nflags; i++) {
		for (size_t j = 0; j < m.nopt; j++) {
			const char *w = mount_pair(&m, m.flags[i], m.opt[j]);
			if (!w)
				return 0;
			if (!why)
				why = w;
		}
	}
	diag_add(P->d, &o->kwloc, 0, "%s rule: %s", m.kw, why);
	return -EINVAL;
}

int check_pivot_root(struct parser *P, struct orule *o, struct rule *r)
{
	(void)r;
	/* parser_yacc.y do_pivot_rule(): oldroot is its only conditional */
	for (size_t i = 0; i < o->nconds; i++) {
		const struct ocond *c = &o->conds[i];
		if (strcmp(c->name, "oldroot")) {
			diag_add(P->d, &c->loc, 0, "invalid pivot_root conditional '%s'",
				 c->name);
			return -EINVAL;
		}
		if (cond_single(P, "pivot_root", c) < 0 ||
		    glob_check(P, "pivot_root oldroot", c->vals[0], &c->vlocs[0]) < 0)
			return -EINVAL;
	}
	if (o->has_id && glob_check(P, "pivot_root new root", o->id.text, &o->id.loc) < 0)
		return -EINVAL;
	return 0;
}
