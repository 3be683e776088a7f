/* parse_classes.c: the per-class tables and checks of the rule classes
 * capgate validates but does not enforce. Each check follows upstream's
 * rule constructor (dbus.cc, signal.cc, ptrace.cc, af_unix.cc, mqueue.cc,
 * io_uring.cc, userns.cc, all_rule.cc): which conditionals exist, how many
 * values they take, which accesses go with which conditionals. Mount rules
 * are in parse_mount.c. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse_other.h"

/* ---- permission words, upstream's bits ---- */

enum {
	DB_BIND = 1u << 4,
	DB_EAVESDROP = 1u << 5,
	PT_READBY = 1u << 4,
	PT_TRACEDBY = 1u << 3,
	/* unix: network.h AA_NET_* */
	UX_CREATE = 0x10,
	UX_SHUTDOWN = 0x20,
	UX_CONNECT = 0x40,
	UX_SETATTR = 0x100,
	UX_GETATTR = 0x200,
	UX_ACCEPT = 0x100000,
	UX_BIND = 0x200000,
	UX_LISTEN = 0x400000,
	UX_SETOPT = 0x1000000,
	UX_GETOPT = 0x2000000,
	/* accesses that make sense towards a peer (AA_PEER_NET_PERMS) */
	UX_PEER_OK = OP_READ | OP_WRITE | UX_CONNECT | UX_ACCEPT,
};

static const struct pword pw_signal[] = {
	{ "send", OP_WRITE }, { "write", OP_WRITE },
	{ "receive", OP_READ }, { "read", OP_READ }, { NULL, 0 },
};
static const struct pword pw_ptrace[] = {
	{ "trace", OP_WRITE }, { "write", OP_WRITE }, { "read", OP_READ },
	{ "readby", PT_READBY }, { "tracedby", PT_TRACEDBY }, { NULL, 0 },
};
static const struct pword pw_dbus[] = {
	{ "send", OP_WRITE }, { "write", OP_WRITE }, { "receive", OP_READ },
	{ "read", OP_READ }, { "bind", DB_BIND }, { "eavesdrop", DB_EAVESDROP },
	{ NULL, 0 },
};
static const struct pword pw_unix[] = {
	{ "send", OP_WRITE }, { "write", OP_WRITE }, { "receive", OP_READ },
	{ "read", OP_READ }, { "create", UX_CREATE }, { "shutdown", UX_SHUTDOWN },
	{ "connect", UX_CONNECT }, { "setattr", UX_SETATTR },
	{ "getattr", UX_GETATTR }, { "accept", UX_ACCEPT }, { "bind", UX_BIND },
	{ "listen", UX_LISTEN }, { "setopt", UX_SETOPT }, { "getopt", UX_GETOPT },
	{ NULL, 0 },
};
static const struct pword pw_mqueue[] = {
	{ "write", OP_WRITE }, { "read", OP_READ }, { "create", 0x10 },
	{ "delete", 0x20 }, { "open", 0x40 }, { "setattr", 0x100 },
	{ "getattr", 0x200 }, { NULL, 0 },
};
static const struct pword pw_uring[] = {
	{ "override_creds", 0x8 }, { "sqpoll", 0x10 }, { NULL, 0 },
};
static const struct pword pw_userns[] = { { "create", 0x10 }, { NULL, 0 } };

/* ---- helpers ---- */

/* upstream's move_conditional_value(): each slot is set once */
static int take_once(struct parser *P, const char *klass, const struct ocond *c,
		     const struct ocond **slot)
{
	if (*slot) {
		diag_add(P->d, &c->loc, 0,
			 "%s rule: conditional '%s' can only be given once", klass, c->name);
		return -EINVAL;
	}
	*slot = c;
	return 0;
}

static int bad_cond(struct parser *P, const char *klass, const struct ocond *c)
{
	diag_add(P->d, &c->loc, 0, "invalid %s%s rule conditional '%s'",
		 c->peer ? "peer " : "", klass, c->name);
	return -EINVAL;
}

static int glob_val(struct parser *P, const char *klass, const struct ocond *c)
{
	char what[64];
	snprintf(what, sizeof(what), "%s %s", klass, c->name);
	for (size_t i = 0; i < c->nvals; i++)
		if (glob_check(P, what, c->vals[i], &c->vlocs[i]) < 0)
			return -EINVAL;
	return 0;
}

/* A class's conditionals as a table: each needs '=', some take one value
 * or may appear once (upstream's move_conditional_value), and `value`
 * checks the values. */
enum { CS_ONCE = 1u << 0, CS_SINGLE = 1u << 1, CS_PEER = 1u << 2 /* peer=() only */ };
struct cspec {
	const char *name;
	unsigned flags;
	int (*value)(struct parser *P, const char *klass, const struct ocond *c);
};
#define CS_MAX 8

static int check_conds(struct parser *P, const char *klass, const struct orule *o,
		       const struct cspec *spec, const struct ocond **found)
{
	for (size_t i = 0; i < o->nconds; i++) {
		const struct ocond *c = &o->conds[i];
		size_t k;
		for (k = 0; spec[k].name && strcmp(spec[k].name, c->name); k++)
			;
		if (!spec[k].name)
			return bad_cond(P, klass, c);
		if (spec[k].flags & CS_PEER && !c->peer) {
			diag_add(P->d, &c->loc, 0,
				 "%s rule: '%s' can only be used inside peer=(...)", klass, c->name);
			return -EINVAL;
		}
		if ((spec[k].flags & CS_SINGLE ? cond_single(P, klass, c) :
						 cond_eq_only(P, klass, c)) < 0)
			return -EINVAL;
		if (spec[k].flags & CS_ONCE && take_once(P, klass, c, &found[k]) < 0)
			return -EINVAL;
		found[k] = c;
		if (spec[k].value && spec[k].value(P, klass, c) < 0)
			return -EINVAL;
	}
	return 0;
}

static int v_glob(struct parser *P, const char *klass, const struct ocond *c)
{
	return glob_val(P, klass, c);
}

/* ---- signal ---- */

/* signal.cc signal_map (no "lost": the kernel has no such signal) */
static const char *const signames[] = { "hup", "int", "quit", "ill", "trap",
	"abrt", "bus", "fpe", "kill", "usr1", "segv", "usr2", "pipe", "alrm",
	"term", "stkflt", "chld", "cont", "stop", "stp", "tstp", "ttin", "ttou",
	"urg", "xcpu", "xfsz", "vtalrm", "prof", "winch", "io", "poll", "pwr",
	"sys", "emt", "exists", NULL };

static bool signal_ok(const char *s)
{
	if (strncmp(s, "rtmin+", 6) == 0) {
		const char *d = s + 6;
		if (!*d)
			return false;
		for (const char *p = d; *p; p++)
			if (!isdigit((unsigned char)*p))
				return false;
		while (d[0] == '0' && d[1])
			d++; /* rtmin+001 is rtmin+1 */
		return strlen(d) <= 2 && atoi(d) <= 32; /* MAXRT_SIG */
	}
	for (size_t i = 0; signames[i]; i++)
		if (!strcmp(signames[i], s))
			return true;
	return false;
}

static int v_signals(struct parser *P, const char *klass, const struct ocond *c)
{
	for (size_t j = 0; j < c->nvals; j++) {
		if (signal_ok(c->vals[j]))
			continue;
		diag_add(P->d, &c->vlocs[j], 0, "unknown signal '%s'", c->vals[j]);
		return -EINVAL;
	}
	return 0;
}

static const struct cspec signal_conds[] = {
	{ "set", 0, v_signals }, /* may repeat: the sets add up */
	{ "peer", CS_ONCE, v_glob },
	{ NULL, 0, NULL },
};

static int check_signal(struct parser *P, struct orule *o, struct rule *r)
{
	const struct ocond *found[CS_MAX] = { 0 };
	(void)r;
	return check_conds(P, "signal", o, signal_conds, found);
}

/* ---- ptrace ---- */

static const struct cspec ptrace_conds[] = {
	{ "peer", CS_ONCE, v_glob },
	{ NULL, 0, NULL },
};

static int check_ptrace(struct parser *P, struct orule *o, struct rule *r)
{
	const struct ocond *found[CS_MAX] = { 0 };
	(void)r;
	return check_conds(P, "ptrace", o, ptrace_conds, found);
}

/* ---- dbus ---- */

enum { DS_BUS, DS_NAME, DS_LABEL, DS_PATH, DS_IFACE, DS_MEMBER, DS_MAX };
/* in DS_* order; one slot each, shared by the rule and its peer=() */
static const struct cspec dbus_conds[] = {
	{ "bus", CS_ONCE | CS_SINGLE, v_glob },
	{ "name", CS_ONCE | CS_SINGLE, v_glob },
	{ "label", CS_ONCE | CS_SINGLE | CS_PEER, v_glob },
	{ "path", CS_ONCE | CS_SINGLE, v_glob },
	{ "interface", CS_ONCE | CS_SINGLE, v_glob },
	{ "member", CS_ONCE | CS_SINGLE, v_glob },
	{ NULL, 0, NULL },
};

/* dbus.cc dbus_rule::dbus_rule(): a rule is about messages (path,
 * interface, member, a peer) or about owning a name, not both, and the
 * accesses must fit. */
static int check_dbus(struct parser *P, struct orule *o, struct rule *r)
{
	const struct ocond *slot[CS_MAX] = { 0 };
	(void)r;
	if (o->has_group && strcmp(o->group, "peer")) {
		diag_add(P->d, &o->group_loc, 0, "dbus rule: invalid conditional group %s=()",
			 o->group);
		return -EINVAL;
	}
	if (check_conds(P, "dbus", o, dbus_conds, slot) < 0)
		return -EINVAL;
	bool subject_name = slot[DS_NAME] && !slot[DS_NAME]->peer;
	bool message = slot[DS_PATH] || slot[DS_IFACE] || slot[DS_MEMBER] ||
		       slot[DS_LABEL] || (slot[DS_NAME] && !subject_name);
	if (message && subject_name) {
		diag_add(P->d, &o->kwloc, 0,
			 "dbus rule mixes message conditionals (path, interface, member, peer) "
			 "with a service name= conditional");
		return -EINVAL;
	}
	if (!o->has_perms || !o->perms)
		return 0;
	const char *msg = NULL;
	if (message && (o->perms & DB_BIND))
		msg = "dbus 'bind' access cannot be used with message conditionals";
	else if (subject_name && (o->perms & (OP_READ | OP_WRITE)))
		msg = "dbus 'send' and 'receive' accesses cannot be used with a service name= conditional";
	else if ((o->perms & DB_EAVESDROP) &&
		 (message || slot[DS_NAME]))
		msg = "dbus 'eavesdrop' access can only have a bus= conditional";
	if (!msg)
		return 0;
	diag_add(P->d, &o->perm_loc, 0, "%s", msg);
	return -EINVAL;
}

/* ---- unix ---- */

static const char *const sock_types[] = { "stream", "dgram", "raw", "rdm",
	"seqpacket", "dccp", "packet", NULL };

static int unix_addr(struct parser *P, const struct ocond *c)
{
	const char *a = c->vals[0];
	if (a[0] == '@' || !strcmp(a, "none") || !strcmp(a, "auto"))
		return glob_val(P, "unix", c);
	diag_add(P->d, &c->vlocs[0], 0,
		 "unix rule: invalid addr '%s' (an abstract '@name', 'none' or 'auto')", a);
	return -EINVAL;
}

static int unix_type(struct parser *P, const struct ocond *c)
{
	for (size_t k = 0; sock_types[k]; k++)
		if (!strcmp(sock_types[k], c->vals[0]))
			return 0;
	diag_add(P->d, &c->vlocs[0], 0, "unix rule: invalid socket type '%s'", c->vals[0]);
	return -EINVAL;
}

static int unix_label(struct parser *P, const struct ocond *c)
{
	return glob_val(P, "unix", c);
}

/* af_rule.cc / af_unix.cc supported_conds: where each may appear */
enum { U_LOCAL = 1, U_PEER = 2 };
static const struct {
	const char *name;
	int sides;
	int (*value)(struct parser *P, const struct ocond *c); /* NULL: unsupported */
} unix_conds[] = {
	{ "addr", U_LOCAL | U_PEER, unix_addr },
	{ "type", U_LOCAL, unix_type },
	{ "protocol", U_LOCAL, NULL },
	{ "label", U_PEER, unix_label },
};
#define N_UNIX_CONDS (sizeof(unix_conds) / sizeof(unix_conds[0]))

/* af_unix.cc unix_rule: each conditional once per side, single valued;
 * accesses that only concern the local socket cannot name a peer. */
static int check_unix(struct parser *P, struct orule *o, struct rule *r)
{
	const struct ocond *slot[N_UNIX_CONDS][2] = { { 0 } };
	bool peer = false;
	(void)r;
	if (o->has_group && strcmp(o->group, "peer")) {
		diag_add(P->d, &o->group_loc, 0, "unix rule: invalid conditional group %s=()",
			 o->group);
		return -EINVAL;
	}
	for (size_t i = 0; i < o->nconds; i++) {
		const struct ocond *c = &o->conds[i];
		size_t k;
		for (k = 0; k < N_UNIX_CONDS && strcmp(unix_conds[k].name, c->name); k++)
			;
		if (k == N_UNIX_CONDS)
			return bad_cond(P, "unix", c);
		if (!(unix_conds[k].sides & (c->peer ? U_PEER : U_LOCAL))) {
			diag_add(P->d, &c->loc, 0, c->peer ?
				 "unix rule: '%s' is not allowed inside peer=(...)" :
				 "unix rule: '%s' is only valid inside peer=(...)", c->name);
			return -EINVAL;
		}
		if (!unix_conds[k].value) {
			diag_add(P->d, &c->loc, 0, "unix rule: '%s' is not supported", c->name);
			return -EINVAL;
		}
		if (cond_single(P, "unix", c) < 0 ||
		    take_once(P, "unix", c, &slot[k][c->peer]) < 0 ||
		    unix_conds[k].value(P, c) < 0)
			return -EINVAL;
		peer |= c->peer;
	}
	if (o->perms & ~UX_PEER_OK && peer) {
		diag_add(P->d, &o->perm_loc, 0,
			 "unix rule: create, shutdown, setattr, getattr, bind, listen, setopt "
			 "and getopt cannot be used with peer conditionals");
		return -EINVAL;
	}
	return 0;
}

/* ---- mqueue ---- */

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

static int v_mq_type(struct parser *P, const char *klass, const struct ocond *c)
{
	if (!strcmp(c->vals[0], "posix") || !strcmp(c->vals[0], "sysv"))
		return 0;
	diag_add(P->d, &c->vlocs[0], 0, "%s rule: invalid type '%s' (posix or sysv)",
		 klass, c->vals[0]);
	return -EINVAL;
}

static const struct cspec mqueue_conds[] = {
	{ "label", CS_ONCE, v_glob },
	{ "type", CS_ONCE, v_mq_type },
	{ NULL, 0, NULL },
};

/* mqueue.cc: posix queues are named /name, sysv ones by a number */
static int check_mqueue(struct parser *P, struct orule *o, struct rule *r)
{
	const struct ocond *found[CS_MAX] = { 0 }, *type;
	(void)r;
	if (check_conds(P, "mqueue", o, mqueue_conds, found) < 0)
		return -EINVAL;
	type = found[1];
	if (!o->has_id)
		return 0;
	const char *q = o->id.text;
	bool sysv = type && !strcmp(type->vals[0], "sysv");
	bool posix = type && !strcmp(type->vals[0], "posix");
	const char *msg = NULL;
	if (q[0] == '/') {
		if (sysv)
			msg = "type=sysv message queues are named by a positive integer";
		else if (glob_check(P, "mqueue name", q, &o->id.loc) < 0)
			return -EINVAL;
	} else if (all_digits(q)) {
		if (posix)
			msg = "type=posix message queue names must begin with '/'";
	} else {
		msg = "message queue names must begin with '/' or be a positive integer";
	}
	if (!msg)
		return 0;
	diag_add(P->d, &o->id.loc, 0, "mqueue rule: invalid name '%s': %s", q, msg);
	return -EINVAL;
}

/* ---- io_uring, userns, all ---- */

/* io_uring.cc: the group's conditionals go through the same check */
static const struct cspec uring_conds[] = {
	{ "label", CS_ONCE | CS_SINGLE, v_glob },
	{ NULL, 0, NULL },
};

static int check_uring(struct parser *P, struct orule *o, struct rule *r)
{
	const struct ocond *found[CS_MAX] = { 0 };
	(void)r;
	return check_conds(P, "io_uring", o, uring_conds, found);
}

static int check_none(struct parser *P, struct orule *o, struct rule *r)
{
	(void)P;
	(void)o;
	(void)r;
	return 0;
}

static int check_all(struct parser *P, struct orule *o, struct rule *r)
{
	(void)o;
	/* all_rule.h valid_prefix() */
	if (r->qual & Q_PRIORITY) {
		diag_add(P->d, &r->loc, 0, "priority prefix not allowed on all rules");
		return -EINVAL;
	}
	return 0;
}

/* name, px, perms, rw_modes, paren_perms, list_unknown_ok, group, conds,
 * id, arrow, check */
static const struct klass classes[] = {
	{ "dbus", PX_DBUS, pw_dbus, true, true, false, true, true, false, 0, check_dbus },
	{ "signal", PX_SIGNAL, pw_signal, true, true, false, false, true, false, 0, check_signal },
	{ "ptrace", PX_PTRACE, pw_ptrace, true, true, false, false, true, false, 0, check_ptrace },
	{ "unix", PX_UNIX, pw_unix, true, true, false, true, true, false, 0, check_unix },
	{ "mqueue", PX_MQUEUE, pw_mqueue, true, true, false, false, true, true, 0, check_mqueue },
	/* upstream lexes io_uring in its initial mode: no r/w modes */
	{ "io_uring", PX_IO_URING, pw_uring, false, true, true, true, true, false, 0, check_uring },
	/* USERNS_MODE knows only "create" and ',' */
	{ "userns", PX_USERNS_CREATE, pw_userns, false, false, false, false, false, false, 0, check_none },
	{ "all", PX_ALL, NULL, false, false, false, false, false, false, 0, check_all },
	{ "mount", PX_MOUNT, NULL, false, false, false, false, true, true, 1, check_mount },
	{ "remount", PX_MOUNT, NULL, false, false, false, false, true, true, 0, check_mount },
	{ "umount", PX_MOUNT, NULL, false, false, false, false, true, true, 0, check_mount },
	{ "unmount", PX_MOUNT, NULL, false, false, false, false, true, true, 0, check_mount },
	{ "pivot_root", PX_PIVOT_ROOT, NULL, false, false, false, false, true, true, 2, check_pivot_root },
	{ NULL, 0, NULL, false, false, false, false, false, false, 0, NULL },
};

const struct klass *klass_find(const char *name)
{
	for (const struct klass *k = classes; k->name; k++)
		if (!strcmp(k->name, name))
			return k;
	return NULL;
}
