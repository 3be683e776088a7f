/* parse_oread.c: reads the tokens of a dbus, signal, ptrace, unix, mqueue,
 * io_uring, userns, all, mount or pivot_root rule into upstream's shape
 * (struct orule, see parse_other.h):
 *     CLASS [PERM | (PERMS)] [key=value | key=(v v) | key in (v v)]...
 *           [key=( conds )] [ID] [-> [conds] ID]
 * Which parts a class takes comes from its struct klass. Tokens that touch
 * are glued back together where upstream's lexer reads one token. */
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

struct ptok *cur_peek(struct cur *c, size_t ahead)
{
	return c->i + ahead < c->t->n ? &c->t->v[c->i + ahead] : NULL;
}

int cur_unexpected(struct cur *c, const struct ptok *tk)
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
int cur_value(struct cur *c, bool in_group, char **out, struct loc *at)
{
	struct ptok *f = cur_peek(c, 0);
	if (!f || (f->type != T_WORD && f->type != T_STRING))
		return cur_unexpected(c, f);
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
	size_t off = 0;
	for (size_t k = c->i; k < j; k++) {
		size_t l = strlen(c->t->v[k].text);
		memcpy(s + off, c->t->v[k].text, l);
		off += l;
	}
	s[off] = '\0';
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
		struct ptok *tk = cur_peek(c, 0);
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
		int rc = cur_value(c, false, &v, &at);
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
	struct ptok *a = cur_peek(c, 0), *b = cur_peek(c, 1), *d = cur_peek(c, 2);
	if (!a || !b || a->type != T_WORD || !is_varname(a->text))
		return false;
	return b->type == T_EQ || (is_word(b, "in") && d && d->type == T_LPAREN);
}

static int read_cond(struct cur *c, struct ocond *cd, bool in_group)
{
	struct ptok *name = cur_peek(c, 0), *op = cur_peek(c, 1);
	cd->name = strdup(name->text);
	cd->loc = name->loc;
	if (!cd->name)
		return -ENOMEM;
	c->i += 2;
	struct ptok *v = cur_peek(c, 0);
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
	int rc = cur_value(c, in_group, &s, &at);
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
		struct ptok *tk = cur_peek(c, 0);
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
		struct ptok *nx = cur_peek(c, 1);
		if (tk->type != T_WORD || tk->text[0] == '=' ||
		    (nx && nx->type == T_EQ && tk->text[strlen(tk->text) - 1] == ':'))
			return cur_unexpected(c, tk);
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
		struct ptok *tk = cur_peek(c, 0);
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
			return cur_unexpected(c, tk);
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
	struct ptok *tk = cur_peek(c, 0);
	if (!tk || !k->perms)
		return 0;
	if (tk->type == T_LPAREN) {
		if (!k->paren_perms)
			return cur_unexpected(c, tk);
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
	struct ptok *tk = cur_peek(c, 0);
	if (!tk || (tk->type != T_WORD && tk->type != T_STRING))
		return cur_unexpected(c, tk);
	id->loc = tk->loc;
	id->text = strdup(tk->text);
	c->i++;
	return id->text ? 0 : -ENOMEM;
}

/* The conditionals in order, and the KEY=( ) group that ends them. */
static int read_conds(struct cur *c, struct orule *o, bool *group_seen)
{
	for (;;) {
		struct ptok *tk = cur_peek(c, 0);
		if (!tk)
			return 0;
		struct ptok *nx = cur_peek(c, 1);
		if (tk->type == T_WORD && nx && nx->type == T_EQ && glued(tk, nx) &&
		    tk->text[strlen(tk->text) - 1] == ':') {
			diag_add(c->P->d, &tk->loc, 0, "%s rule: ':=' is not allowed here",
				 c->klass);
			return -EINVAL;
		}
		if (!at_cond(c))
			return 0;
		struct ptok *third = cur_peek(c, 2);
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
	struct ptok *tk = cur_peek(&c, 0);
	if (!group && k->id && tk && (tk->type == T_WORD || tk->type == T_STRING)) {
		if ((rc = read_id(&c, &o->id)) < 0)
			return rc;
		o->has_id = true;
		tk = cur_peek(&c, 0);
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
			if ((tk = cur_peek(&c, 0)) != NULL)
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
		return cur_unexpected(&c, cur_peek(&c, 0));
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
