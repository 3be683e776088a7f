/* parse_other.c: the rule classes validated with upstream's syntax but not
 * enforced by a mechanism of their own here (dbus, mount, signal, ptrace,
 * unix, mqueue, io_uring, userns, all, pivot_root, change_profile). The
 * launcher maps a few to seccomp/namespaces through the PX_* bits.
 *
 * This file holds the entry points and what all classes share: the
 * qualifier order, the owner prefix, upstream's regex syntax check, and
 * change_profile. parse_oread.c reads a rule's tokens into upstream's shape
 * (struct orule, see parse_other.h); the class checks are table driven, in
 * parse_classes.c and parse_mount.c. A rule that fails is reported at the
 * offending token and dropped by the caller. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "parse_other.h"

static bool is_word(const struct ptok *t, const char *w)
{
	return t->type == T_WORD && strcmp(t->text, w) == 0;
}

/* ---- shared checks ---- */

int glob_check(struct parser *P, const char *what, const char *s,
	       const struct loc *at)
{
	enum { MAX_ALT_DEPTH = 50 };
	int depth = 0, items[MAX_ALT_DEPTH] = { 0 };
	bool inclass = false;
	const char *msg = NULL;
	for (const char *p = s; *p && !msg; p++) {
		if (p[0] == '@' && p[1] == '{' && isalpha((unsigned char)p[2])) {
			const char *q = p + 2;
			while (isalnum((unsigned char)*q) || *q == '_')
				q++;
			if (*q == '}') {
				p = q; /* a variable, expanded later */
				continue;
			}
		}
		switch (*p) {
		case '\\':
			if (!p[1])
				msg = "trailing '\\' escape character";
			else
				p++;
			break;
		case '[':
			inclass = true;
			break;
		case ']':
			if (!inclass)
				msg = "']' without a matching '['";
			inclass = false;
			break;
		case '{':
			if (inclass)
				break;
			if (++depth >= MAX_ALT_DEPTH)
				msg = "'{' nested too deeply";
			else
				items[depth] = 0;
			break;
		case '}':
			if (inclass)
				break;
			if (depth == 0)
				msg = "'}' without a matching '{'";
			else if (items[depth--] == 0)
				msg = "'{...}' needs at least two alternatives separated by ','";
			break;
		case ',':
			if (depth > 0 && !inclass)
				items[depth]++;
			break;
		default:
			break;
		}
	}
	if (!msg && (depth > 0 || inclass))
		msg = "unclosed '{' or '['";
	if (!msg)
		return 0;
	diag_add(P->d, at, 0, "%s '%s': %s", what, s, msg);
	return -EINVAL;
}

int cond_eq_only(struct parser *P, const char *klass, const struct ocond *c)
{
	if (c->cmp == OC_EQ)
		return 0;
	if (c->cmp == OC_NONE)
		diag_add(P->d, &c->loc, 0, "%s rule: conditional '%s' needs '=value'",
			 klass, c->name);
	else
		diag_add(P->d, &c->loc, 0, "%s rule: only '=' is allowed in conditionals, not '%s in'",
			 klass, c->name);
	return -EINVAL;
}

int cond_single(struct parser *P, const char *klass, const struct ocond *c)
{
	if (cond_eq_only(P, klass, c) < 0)
		return -EINVAL;
	if (c->nvals <= 1)
		return 0;
	diag_add(P->d, &c->vlocs[1], 0, "%s rule: conditional '%s' takes a single value",
		 klass, c->name);
	return -EINVAL;
}

/* Upstream's prefix order (parser_yacc.y opt_prefix): [priority=N] [audit]
 * [allow|deny] [owner|other]; anything else is a syntax error there. */
static int check_prefix(struct parser *P, struct toks *t, size_t kw,
			const struct rule *r, const char *klass)
{
	int last = -1;
	const char *lastw = NULL;
	for (size_t j = 0; j < kw; j++) {
		const struct ptok *q = &t->v[j];
		int rank;
		if (is_word(q, "priority"))
			rank = 0, j += 2;
		else if (is_word(q, "audit") || is_word(q, "quiet"))
			rank = 1;
		else if (is_word(q, "allow") || is_word(q, "deny"))
			rank = 2;
		else if (is_word(q, "owner") || is_word(q, "other"))
			rank = 3;
		else
			continue;
		if (rank < last) {
			diag_add(P->d, &q->loc, 0,
				 "qualifier '%s' must come before '%s' (order: priority, audit, allow/deny, owner)",
				 q->text, lastw);
			return -EINVAL;
		}
		last = rank;
		lastw = q->text;
	}
	if (r->qual & (Q_OWNER | Q_OTHER)) {
		const struct loc *at = &r->loc;
		for (size_t j = 0; j < kw; j++)
			if (is_word(&t->v[j], "owner") || is_word(&t->v[j], "other"))
				at = &t->v[j].loc;
		diag_add(P->d, at, 0, "owner prefix not allowed on %s rules", klass);
		return -EINVAL;
	}
	return 0;
}

int parse_other_rule(struct parser *P, const char *kw, struct toks *t,
		     size_t i, struct rule *r)
{
	const struct klass *k = klass_find(kw);
	if (!k)
		return 0;
	r->klass = k->name;
	r->extra = 0;
	if (check_prefix(P, t, i > 0 ? i - 1 : 0, r, k->name) < 0)
		return -EINVAL;
	struct orule o;
	int rc = orule_read(P, k, t, i, &o);
	if (rc == 0)
		rc = k->check(P, &o, r);
	orule_free(&o);
	if (rc < 0)
		return rc == -ENOMEM ? rc : -EINVAL;
	/* the launcher maps the PX_* bits; only allow rules grant them */
	if (!(r->qual & Q_DENY))
		r->extra = k->px;
	return 1;
}

/* ---- change_profile ---- */

static bool has_rule(const struct ast_profile *p, const struct rule *r)
{
	return p->nrules && r >= p->rules && r < p->rules + p->nrules;
}

static const struct ast_profile *owner_of(const struct ast_profile *p,
					  const struct rule *r)
{
	if (has_rule(p, r))
		return p;
	for (size_t i = 0; i < p->nkids; i++) {
		const struct ast_profile *o = owner_of(p->kids[i], r);
		if (o)
			return o;
	}
	return NULL;
}

static bool same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Upstream encodes safe and unsafe change_profile exec rules in one
 * automaton, where the same exec and target with both modes conflict
 * (tst: change_profile/onx_conflict_unsafe*). */
static int check_cp_conflict(struct parser *P, const struct rule *r)
{
	const struct ast_profile *pr = NULL;
	for (size_t i = 0; i < P->a->nprofiles && !pr; i++)
		pr = owner_of(P->a->profiles[i], r);
	if (!pr)
		return 0;
	for (const struct rule *o = pr->rules; o < r; o++) {
		if (o->kind != R_CHANGE_PROFILE || !o->path || !same(o->path, r->path) ||
		    !same(o->path2, r->path2) || o->x.flags == r->x.flags)
			continue;
		diag_add(P->d, &r->loc, 0,
			 "change_profile %s -> %s: conflicting safe and unsafe rules (other at line %d)",
			 r->path, r->path2 ? r->path2 : "**", o->loc.line);
		return -EINVAL;
	}
	return 0;
}

/* change_profile [safe|unsafe] [EXEC] [-> TARGET],
 * upstream: parser_yacc.y `change_profile`. */
static int cp_read(struct parser *P, struct toks *t, size_t i, struct rule *r)
{
	struct cur c = { P, t, i, "change_profile" };
	const struct ptok *mode = NULL;
	struct loc at;
	if (check_prefix(P, t, i > 0 ? i - 1 : 0, r, "change_profile") < 0)
		return -EINVAL;
	struct ptok *tk = cur_peek(&c, 0);
	if (tk && (is_word(tk, "safe") || is_word(tk, "unsafe"))) {
		mode = tk;
		c.i++;
		tk = cur_peek(&c, 0);
	}
	if (tk && tk->type != T_ARROW) {
		if (cur_value(&c, false, &r->path, &at) < 0)
			return -EINVAL;
		if (r->path[0] != '/' && strncmp(r->path, "@{", 2) != 0) {
			diag_add(P->d, &at, 0,
				 "change_profile: exec condition must begin with '/', not '%s'",
				 r->path);
			return -EINVAL;
		}
		if (glob_check(P, "change_profile exec condition", r->path, &at) < 0)
			return -EINVAL;
	} else if (mode) {
		diag_add(P->d, &mode->loc, 0,
			 "change_profile: '%s' needs an exec condition (a path)", mode->text);
		return -EINVAL;
	}
	tk = cur_peek(&c, 0);
	if (tk && tk->type == T_ARROW) {
		c.i++;
		if (!cur_peek(&c, 0)) {
			diag_add(P->d, &tk->loc, 0, "change_profile '->' needs a target");
			return -EINVAL;
		}
		if (cur_value(&c, false, &r->path2, &at) < 0)
			return -EINVAL;
		if (glob_check(P, "change_profile target", r->path2, &at) < 0)
			return -EINVAL;
	}
	if (c.i < t->n)
		return cur_unexpected(&c, cur_peek(&c, 0));
	/* safe (the default with an exec condition) scrubs like Px */
	r->x.type = XT_PROFILE;
	r->x.flags = mode && is_word(mode, "unsafe") ? 0 : XF_SCRUB;
	if (r->path && check_cp_conflict(P, r) < 0)
		return -EINVAL;
	r->extra = r->qual & Q_DENY ? 0 : PX_CHANGE_PROFILE;
	return 0;
}

int parse_change_profile_rule(struct parser *P, struct toks *t, size_t i,
			      struct rule *r)
{
	int rc = cp_read(P, t, i, r);
	if (rc < 0) {
		/* the caller drops the rule without freeing it */
		free(r->path);
		free(r->path2);
		r->path = r->path2 = NULL;
	}
	return rc;
}
