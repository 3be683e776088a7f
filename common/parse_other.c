/* parse_other.c: rule classes validated with upstream's syntax but not
 * enforced by a mechanism of their own here (dbus, mount, signal, ptrace,
 * unix, mqueue, io_uring, userns, all, pivot_root). The launcher maps a
 * few to seccomp/namespaces through the PX_* bits (see policy.h).
 *
 * Each class is a table: its access words, its key=value conditionals and
 * whether it takes positional paths; a generic walker checks a rule
 * against it. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "parse_int.h"

struct klass {
	const char *name;
	uint32_t extra;          /* PX_* for the launcher */
	const char *const *access;
	const char *const *keys; /* key=value conditionals */
	int positional;          /* how many bare paths/names it takes */
	bool arrow;              /* takes "-> target" */
};

static const char *const acc_signal[] = { "r", "w", "rw", "read", "write",
	"send", "receive", NULL };
static const char *const acc_ptrace[] = { "r", "w", "rw", "read", "write",
	"readby", "trace", "tracedby", NULL };
static const char *const acc_dbus[] = { "r", "w", "rw", "read", "write",
	"send", "receive", "bind", "eavesdrop", NULL };
static const char *const acc_unix[] = { "r", "w", "rw", "read", "write",
	"create", "bind", "listen", "accept", "connect", "shutdown", "getattr",
	"setattr", "getopt", "setopt", "send", "receive", NULL };
static const char *const acc_mqueue[] = { "r", "w", "rw", "read", "write",
	"create", "open", "delete", "getattr", "setattr", NULL };
static const char *const acc_uring[] = { "sqpoll", "override_creds", NULL };
static const char *const acc_userns[] = { "create", NULL };
static const char *const acc_none[] = { NULL };

static const char *const k_signal[] = { "set", "peer", NULL };
static const char *const k_peer[] = { "peer", NULL };
static const char *const k_dbus[] = { "bus", "path", "interface", "member",
	"name", "peer", NULL };
static const char *const k_unix[] = { "type", "protocol", "addr", "label",
	"attr", "opt", "peer", NULL };
static const char *const k_mqueue[] = { "type", "label", NULL };
static const char *const k_uring[] = { "label", NULL };
static const char *const k_mount[] = { "fstype", "vfstype", "options",
	"option", NULL };
static const char *const k_pivot[] = { "oldroot", NULL };
static const char *const k_none[] = { NULL };

static const struct klass classes[] = {
	{ "dbus", PX_DBUS, acc_dbus, k_dbus, 0, false },
	{ "signal", PX_SIGNAL, acc_signal, k_signal, 0, false },
	{ "ptrace", PX_PTRACE, acc_ptrace, k_peer, 0, false },
	{ "unix", PX_UNIX, acc_unix, k_unix, 0, false },
	{ "mqueue", PX_MQUEUE, acc_mqueue, k_mqueue, 1, false },
	{ "io_uring", PX_IO_URING, acc_uring, k_uring, 0, false },
	{ "userns", PX_USERNS_CREATE, acc_userns, k_none, 0, false },
	{ "all", PX_ALL, acc_none, k_none, 0, false },
	{ "mount", PX_MOUNT, acc_none, k_mount, 1, true },
	{ "remount", PX_MOUNT, acc_none, k_mount, 1, false },
	{ "umount", PX_MOUNT, acc_none, k_mount, 1, false },
	{ "unmount", PX_MOUNT, acc_none, k_mount, 1, false },
	{ "pivot_root", PX_PIVOT_ROOT, acc_none, k_pivot, 1, true },
	{ NULL, 0, NULL, NULL, 0, false },
};

static bool in_list(const char *const *l, const char *w)
{
	for (; *l; l++)
		if (!strcmp(*l, w))
			return true;
	return false;
}

/* value after key=: a word/string, or a (list); returns index after it */
static int skip_value(struct parser *P, struct toks *t, size_t *i,
		      const struct ptok *key)
{
	if (*i >= t->n) {
		diag_add(P->d, &key->loc, 0, "%s= needs a value", key->text);
		return -EINVAL;
	}
	if (t->v[*i].type == T_LPAREN) {
		int depth = 0;
		for (; *i < t->n; (*i)++) {
			if (t->v[*i].type == T_LPAREN)
				depth++;
			else if (t->v[*i].type == T_RPAREN && --depth == 0) {
				(*i)++;
				return 0;
			}
		}
		diag_add(P->d, &key->loc, 0, "unterminated '(' after %s=", key->text);
		return -EINVAL;
	}
	if (t->v[*i].type != T_WORD && t->v[*i].type != T_STRING) {
		diag_add(P->d, &t->v[*i].loc, 0, "bad value for %s=", key->text);
		return -EINVAL;
	}
	(*i)++;
	return 0;
}

int parse_other_rule(struct parser *P, const char *kw, struct toks *t,
		     size_t i, struct rule *r)
{
	const struct klass *k;
	for (k = classes; k->name; k++)
		if (!strcmp(k->name, kw))
			break;
	if (!k->name)
		return 0;
	r->klass = k->name;
	r->extra = k->extra;
	int positional = 0;
	bool seen_access = false, seen_arrow = false;
	for (; i < t->n; i++) {
		struct ptok *w = &t->v[i];
		if (w->type == T_LPAREN && !seen_access && k->access[0]) {
			/* (access, list) */
			for (i++; i < t->n && t->v[i].type != T_RPAREN; i++) {
				if (t->v[i].type != T_WORD || !in_list(k->access, t->v[i].text)) {
					diag_add(P->d, &t->v[i].loc, 0, "invalid %s access '%s'",
						 k->name, t->v[i].text);
					return -EINVAL;
				}
			}
			if (i >= t->n) {
				diag_add(P->d, &w->loc, 0, "unterminated access list");
				return -EINVAL;
			}
			seen_access = true;
			continue;
		}
		if (w->type == T_WORD && i + 1 < t->n && t->v[i + 1].type == T_EQ) {
			if (!in_list(k->keys, w->text)) {
				diag_add(P->d, &w->loc, 0, "invalid %s conditional '%s'",
					 k->name, w->text);
				return -EINVAL;
			}
			i += 2;
			if (skip_value(P, t, &i, w) < 0)
				return -EINVAL;
			i--;
			continue;
		}
		if (w->type == T_WORD && !seen_access && in_list(k->access, w->text)) {
			seen_access = true;
			continue;
		}
		if (w->type == T_ARROW && k->arrow && !seen_arrow) {
			seen_arrow = true;
			if (i + 1 >= t->n) {
				diag_add(P->d, &w->loc, 0, "'->' needs a target");
				return -EINVAL;
			}
			i++;
			continue;
		}
		if ((w->type == T_WORD || w->type == T_STRING) &&
		    positional < k->positional && !seen_arrow) {
			positional++;
			continue;
		}
		diag_add(P->d, &w->loc, 0, "syntax error, unexpected '%s' in %s rule",
			 w->text, k->name);
		return -EINVAL;
	}
	return 1;
}

/* ---- change_profile ---- */

static bool is_word(const struct ptok *t, const char *w)
{
	return t->type == T_WORD && strcmp(t->text, w) == 0;
}

/* change_profile [safe|unsafe] [EXEC_COND] [-> TARGET], */
int parse_change_profile_rule(struct parser *P, struct toks *t, size_t i,
			      struct rule *r)
{
	bool mode = false;
	if (i < t->n && (is_word(&t->v[i], "safe") || is_word(&t->v[i], "unsafe"))) {
		mode = true;
		i++;
	}
	if (i < t->n && t->v[i].type != T_ARROW) {
		if (!is_path_token(&t->v[i])) {
			diag_add(P->d, &t->v[i].loc, 0,
				 "change_profile: exec condition must be a path, not '%s'",
				 t->v[i].text);
			return -EINVAL;
		}
		r->path = strdup(t->v[i].text);
		i++;
	} else if (mode && (i >= t->n || t->v[i].type == T_ARROW) && 0) {
		return -EINVAL;
	}
	if (i < t->n && t->v[i].type == T_ARROW) {
		i++;
		if (i >= t->n || (t->v[i].type != T_WORD && t->v[i].type != T_STRING)) {
			diag_add(P->d, &t->v[i - 1].loc, 0, "change_profile '->' needs a target");
			return -EINVAL;
		}
		r->path2 = strdup(t->v[i].text);
		i++;
	}
	if (i < t->n) {
		diag_add(P->d, &t->v[i].loc, 0,
			 "syntax error, unexpected '%s' in change_profile rule", t->v[i].text);
		return -EINVAL;
	}
	r->extra = PX_CHANGE_PROFILE;
	return 0;
}
