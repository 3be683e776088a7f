/* parse_other.c: the rule classes validated with upstream's syntax but not
 * enforced by a mechanism of their own here (dbus, mount, signal, ptrace,
 * unix, mqueue, io_uring, userns, all, pivot_root, change_profile). The
 * launcher maps a few to seccomp/namespaces through the PX_* bits.
 *
 * This file reads a rule's tokens into upstream's shape (struct orule, see
 * parse_other.h) and checks what is common to all classes: the qualifier
 * order and the owner prefix. The class checks are table driven, in
 * parse_classes.c and parse_mount.c. A rule that fails is reported at the
 * offending token and dropped by the caller. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "parse_other.h"

/* ---- token helpers ---- */

static bool is_word(const struct ptok *t, const char *w)
{
	return t->type == T_WORD && strcmp(t->text, w) == 0;
}

/* Bytes the token took in the source: words are kept raw by the scanner,
 * strings lost their quotes and the '\' of each \". */
static size_t rawlen(const struct ptok *t)
{
	size_t n = strlen(t->text);
	if (t->type == T_STRING) {
		n += 2;
		for (const char *p = t->text; *p; p++)
			n += *p == '"';
	}
	return n;
}

/* b starts right where a ends: upstream's lexer would have read them as
 * one token (key=a=b, foo) ... */
static bool glued(const struct ptok *a, const struct ptok *b)
{
	return a->loc.file == b->loc.file && a->loc.line == b->loc.line &&
	       (size_t)b->loc.col == (size_t)a->loc.col + rawlen(a);
}

/* upstream's VARIABLE_NAME: what may name a conditional */
static bool is_varname(const char *s)
{
	if (!isalpha((unsigned char)*s))
		return false;
	for (s++; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_')
			return false;
	return true;
}

static const char *tok_desc(const struct ptok *t)
{
	switch (t->type) {
	case T_LPAREN: return "(";
	case T_RPAREN: return ")";
	case T_COMMA: return ",";
	case T_EQ: return "=";
	case T_ARROW: return "->";
	default: return t->text;
	}
}

struct cur {
	struct parser *P;
	struct toks *t;
	size_t i;
	const char *klass;
};

static struct ptok *peek(struct cur *c, size_t ahead)
{
	return c->i + ahead < c->t->n ? &c->t->v[c->i + ahead] : NULL;
}

static int unexpected(struct cur *c, const struct ptok *tk)
{
	if (!tk) {
		diag_add(c->P->d, &c->t->end, 0, "%s rule ends too early", c->klass);
		return -EINVAL;
	}
	diag_add(c->P->d, &tk->loc, 0, "syntax error, unexpected '%s' in %s rule",
		 tok_desc(tk), c->klass);
	return -EINVAL;
}

/* One value: a quoted string, or a word with the words and '=' touching
 * it (upstream reads addr=a=b's value as "a=b"). In a key=( ... ) group a
 * glued '=' means two conditionals were run together: upstream's intent
 * (tests dbus/bad_peer_2, unix/bad_peer_3) is that they be separated. */
static int read_value(struct cur *c, bool in_group, char **out,
		      struct loc *at)
{
	struct ptok *f = peek(c, 0);
	if (!f || (f->type != T_WORD && f->type != T_STRING))
		return unexpected(c, f);
	*at = f->loc;
	size_t len = strlen(f->text), j = c->i + 1;
	if (f->type == T_WORD) {
		for (; j < c->t->n && glued(&c->t->v[j - 1], &c->t->v[j]); j++) {
			struct ptok *g = &c->t->v[j];
			if (g->type != T_WORD && g->type != T_EQ && g->type != T_ARROW &&
			    g->type != T_LE && g->type != T_PLUSEQ)
				break;
			if (in_group && g->type == T_EQ) {
				diag_add(c->P->d, &g->loc, 0,
					 "%s rule: '=' inside the value of a conditional; "
					 "separate conditionals with a space or ','", c->klass);
				return -EINVAL;
			}
			len += strlen(g->text);
		}
	}
	char *s = malloc(len + 1);
	if (!s)
		return -ENOMEM;
	s[0] = '\0';
	for (size_t k = c->i; k < j; k++)
		strcat(s, c->t->v[k].text);
	c->i = j;
	*out = s;
	return 0;
}

static int push_val(struct cur *c, struct ocond *cd, char *v, struct loc at)
{
	if (cd->nvals >= OR_MAX_VALS) {
		free(v);
		diag_add(c->P->d, &at, 0, "%s rule: too many values (limit %d)",
			 c->klass, OR_MAX_VALS);
		return -EINVAL;
	}
	if (cd->nvals % 8 == 0) {
		char **nv = realloc(cd->vals, (cd->nvals + 8) * sizeof(*nv));
		struct loc *nl = nv ? realloc(cd->vlocs, (cd->nvals + 8) * sizeof(*nl)) : NULL;
		if (nv)
			cd->vals = nv;
		if (!nv || !nl) {
			free(v);
			return -ENOMEM;
		}
		cd->vlocs = nl;
	}
	cd->vals[cd->nvals] = v;
	cd->vlocs[cd->nvals++] = at;
	return 0;
}

/* ( v v, v ) after its '(' : values separated by blanks or commas */
static int read_list(struct cur *c, struct ocond *cd, const struct ptok *open)
{
	for (;;) {
		struct ptok *tk = peek(c, 0);
		if (!tk) {
			diag_add(c->P->d, &open->loc, 0, "%s rule: unterminated '('",
				 c->klass);
			return -EINVAL;
		}
		if (tk->type == T_RPAREN) {
			c->i++;
			break;
		}
		if (tk->type == T_COMMA) {
			c->i++;
			continue;
		}
		char *v;
		struct loc at;
		int rc = read_value(c, false, &v, &at);
		if (rc < 0 || (rc = push_val(c, cd, v, at)) < 0)
			return rc;
	}
	if (cd->nvals == 0) {
		diag_add(c->P->d, &open->loc, 0, "%s rule: empty value list for %s",
			 c->klass, cd->name);
		return -EINVAL;
	}
	return 0;
}

/* Is t[i] the start of a conditional: NAME =, NAME in ( ? */
static bool at_cond(struct cur *c)
{
	struct ptok *a = peek(c, 0), *b = peek(c, 1), *d = peek(c, 2);
	if (!a || !b || a->type != T_WORD || !is_varname(a->text))
		return false;
	return b->type == T_EQ || (is_word(b, "in") && d && d->type == T_LPAREN);
}

static int read_cond(struct cur *c, struct ocond *cd, bool in_group)
{
	struct ptok *name = peek(c, 0), *op = peek(c, 1);
	cd->name = strdup(name->text);
	cd->loc = name->loc;
	if (!cd->name)
		return -ENOMEM;
	c->i += 2;
	struct ptok *v = peek(c, 0);
	if (op->type == T_WORD) { /* in ( */
		cd->cmp = OC_IN;
		cd->list = true;
		c->i++;
		return read_list(c, cd, v);
	}
	cd->cmp = OC_EQ;
	if (v && v->type == T_LPAREN) {
		c->i++;
		cd->list = true;
		if (!in_group)
			return read_list(c, cd, v);
		/* upstream's LIST_COND_PAREN_VAL: (v) holds one value */
		int rc = read_list(c, cd, v);
		if (rc == 0 && cd->nvals > 1) {
			diag_add(c->P->d, &cd->vlocs[1], 0,
				 "%s rule: %s=(...) inside a group takes one value",
				 c->klass, cd->name);
			return -EINVAL;
		}
		return rc;
	}
	if (!v || v->type == T_COMMA || v->type == T_RPAREN) {
		diag_add(c->P->d, &op->loc, 0, "%s rule: %s= needs a value", c->klass,
			 cd->name);
		return -EINVAL;
	}
	char *s;
	struct loc at;
	int rc = read_value(c, in_group, &s, &at);
	if (rc < 0)
		return rc;
	return push_val(c, cd, s, at);
}

static struct ocond *new_cond(struct cur *c, struct orule *o,
			      const struct ptok *at)
{
	if (o->nconds >= OR_MAX_CONDS) {
		diag_add(c->P->d, &at->loc, 0, "%s rule: too many conditionals (limit %d)",
			 c->klass, OR_MAX_CONDS);
		return NULL;
	}
	struct ocond *cd = &o->conds[o->nconds++];
	memset(cd, 0, sizeof(*cd));
	return cd;
}

/* KEY=( cond cond, cond ) after KEY=( ; a bare NAME is a conditional
 * without a value (upstream's `cond: TOK_CONDID`), refused by the checks */
static int read_group(struct cur *c, struct orule *o, const struct ptok *open)
{
	for (;;) {
		struct ptok *tk = peek(c, 0);
		if (!tk) {
			diag_add(c->P->d, &open->loc, 0, "%s rule: unterminated '('",
				 c->klass);
			return -EINVAL;
		}
		if (tk->type == T_RPAREN) {
			c->i++;
			return 0;
		}
		if (tk->type == T_COMMA) {
			c->i++;
			continue;
		}
		struct ptok *nx = peek(c, 1);
		if (tk->type != T_WORD || tk->text[0] == '=' ||
		    (nx && nx->type == T_EQ && tk->text[strlen(tk->text) - 1] == ':'))
			return unexpected(c, tk);
		struct ocond *cd = new_cond(c, o, tk);
		if (!cd)
			return -EINVAL;
		cd->peer = true;
		if (nx && nx->type == T_EQ) {
			int rc = read_cond(c, cd, true);
			if (rc < 0)
				return rc;
		} else {
			cd->name = strdup(tk->text);
			if (!cd->name)
				return -ENOMEM;
			cd->loc = tk->loc;
			cd->cmp = OC_NONE;
			c->i++;
		}
	}
}

static const struct pword *find_pword(const struct pword *l, const char *w)
{
	for (; l && l->word; l++)
		if (!strcmp(l->word, w))
			return l;
	return NULL;
}

/* upstream's parse_X_perms: a string of r/w (upper case tolerated) */
static bool rw_string(const char *s, uint32_t *bits)
{
	uint32_t b = 0;
	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s == 'r' || *s == 'R')
			b |= OP_READ;
		else if (*s == 'w' || *s == 'W')
			b |= OP_WRITE;
		else
			return false;
	}
	*bits = b;
	return true;
}

static int read_perm_list(struct cur *c, struct orule *o, const struct ptok *open)
{
	const struct klass *k = o->k;
	for (c->i++;; c->i++) {
		struct ptok *tk = peek(c, 0);
		if (!tk) {
			diag_add(c->P->d, &open->loc, 0, "%s rule: unterminated '('",
				 c->klass);
			return -EINVAL;
		}
		if (tk->type == T_RPAREN)
			break;
		if (tk->type == T_COMMA)
			continue;
		if (tk->type != T_WORD && tk->type != T_STRING)
			return unexpected(c, tk);
		const struct pword *pw = find_pword(k->perms, tk->text);
		uint32_t bits;
		if (pw)
			o->perms |= pw->bits;
		else if (k->rw_modes && rw_string(tk->text, &bits))
			o->perms |= bits;
		else if (!k->list_unknown_ok) {
			diag_add(c->P->d, &tk->loc, 0, "invalid %s access '%s'",
				 c->klass, tk->text);
			return -EINVAL;
		}
	}
	c->i++;
	o->has_perms = true;
	o->perm_loc = open->loc;
	return 0;
}

static int read_perms(struct cur *c, struct orule *o)
{
	const struct klass *k = o->k;
	struct ptok *tk = peek(c, 0);
	if (!tk || !k->perms)
		return 0;
	if (tk->type == T_LPAREN) {
		if (!k->paren_perms)
			return unexpected(c, tk);
		return read_perm_list(c, o, tk);
	}
	if (tk->type != T_WORD || at_cond(c))
		return 0;
	const struct pword *pw = find_pword(k->perms, tk->text);
	if (pw) {
		o->perms = pw->bits;
	} else if (k->rw_modes && (!strcmp(tk->text, "r") || !strcmp(tk->text, "w") ||
				   !strcmp(tk->text, "rw") || !strcmp(tk->text, "wr"))) {
		rw_string(tk->text, &o->perms);
	} else {
		return 0;
	}
	o->has_perms = true;
	o->perm_loc = tk->loc;
	c->i++;
	return 0;
}

static int read_id(struct cur *c, struct oid *id)
{
	struct ptok *tk = peek(c, 0);
	if (!tk || (tk->type != T_WORD && tk->type != T_STRING))
		return unexpected(c, tk);
	id->loc = tk->loc;
	id->text = strdup(tk->text);
	c->i++;
	return id->text ? 0 : -ENOMEM;
}

/* The conditionals in order, and the KEY=( ) group that ends them. */
static int read_conds(struct cur *c, struct orule *o, bool *group_seen)
{
	for (;;) {
		struct ptok *tk = peek(c, 0);
		if (!tk)
			return 0;
		struct ptok *nx = peek(c, 1);
		if (tk->type == T_WORD && nx && nx->type == T_EQ && glued(tk, nx) &&
		    tk->text[strlen(tk->text) - 1] == ':') {
			diag_add(c->P->d, &tk->loc, 0, "%s rule: ':=' is not allowed here",
				 c->klass);
			return -EINVAL;
		}
		if (!at_cond(c))
			return 0;
		struct ptok *third = peek(c, 2);
		if (nx->type == T_EQ && third && third->type == T_LPAREN &&
		    (is_word(tk, "peer") || is_word(tk, "xattrs"))) {
			/* upstream lexes peer=( and xattrs=( as a group */
			if (!o->k->group) {
				diag_add(c->P->d, &tk->loc, 0,
					 "%s rules take no %s=(...) group", c->klass, tk->text);
				return -EINVAL;
			}
			o->has_group = true;
			o->group = strdup(tk->text);
			o->group_loc = tk->loc;
			if (!o->group)
				return -ENOMEM;
			c->i += 3;
			*group_seen = true;
			return read_group(c, o, third);
		}
		if (!o->k->conds) {
			diag_add(c->P->d, &tk->loc, 0, "%s rules take no conditionals",
				 c->klass);
			return -EINVAL;
		}
		struct ocond *cd = new_cond(c, o, tk);
		if (!cd)
			return -EINVAL;
		int rc = read_cond(c, cd, false);
		if (rc < 0)
			return rc;
	}
}

int orule_read(struct parser *P, const struct klass *k, struct toks *t,
	       size_t i, struct orule *o)
{
	struct cur c = { P, t, i, k->name };
	bool group = false;
	int rc;
	memset(o, 0, sizeof(*o));
	o->k = k;
	o->kwloc = i > 0 ? t->v[i - 1].loc : t->end;
	if ((rc = read_perms(&c, o)) < 0 || (rc = read_conds(&c, o, &group)) < 0)
		return rc;
	struct ptok *tk = peek(&c, 0);
	if (!group && k->id && tk && (tk->type == T_WORD || tk->type == T_STRING)) {
		if ((rc = read_id(&c, &o->id)) < 0)
			return rc;
		o->has_id = true;
		tk = peek(&c, 0);
	}
	if (!group && k->arrow && tk && tk->type == T_ARROW) {
		o->arrow = true;
		o->arrow_loc = tk->loc;
		c.i++;
		if (k->arrow == 1) {
			/* mount ... -> [conds] mountpoint: upstream parses the
			 * conditionals and then refuses them */
			size_t before = o->nconds;
			bool g = false;
			if ((tk = peek(&c, 0)) != NULL)
				o->dst_loc = tk->loc;
			if ((rc = read_conds(&c, o, &g)) < 0)
				return rc;
			o->ndst_conds = o->nconds - before;
			if (g)
				o->ndst_conds++;
		}
		if ((rc = read_id(&c, &o->target)) < 0)
			return rc;
		o->has_target = true;
	}
	if (c.i < t->n)
		return unexpected(&c, peek(&c, 0));
	return 0;
}

void orule_free(struct orule *o)
{
	for (size_t i = 0; i < o->nconds; i++) {
		for (size_t j = 0; j < o->conds[i].nvals; j++)
			free(o->conds[i].vals[j]);
		free(o->conds[i].vals);
		free(o->conds[i].vlocs);
		free(o->conds[i].name);
	}
	o->nconds = 0;
	free(o->group);
	free(o->id.text);
	free(o->target.text);
	o->group = o->id.text = o->target.text = NULL;
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
	struct ptok *tk = peek(&c, 0);
	if (tk && (is_word(tk, "safe") || is_word(tk, "unsafe"))) {
		mode = tk;
		c.i++;
		tk = peek(&c, 0);
	}
	if (tk && tk->type != T_ARROW) {
		if (read_value(&c, false, &r->path, &at) < 0)
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
	tk = peek(&c, 0);
	if (tk && tk->type == T_ARROW) {
		c.i++;
		if (!peek(&c, 0)) {
			diag_add(P->d, &tk->loc, 0, "change_profile '->' needs a target");
			return -EINVAL;
		}
		if (read_value(&c, false, &r->path2, &at) < 0)
			return -EINVAL;
		if (glob_check(P, "change_profile target", r->path2, &at) < 0)
			return -EINVAL;
	}
	if (c.i < t->n)
		return unexpected(&c, peek(&c, 0));
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
