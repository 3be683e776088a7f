/* parse_cond.c: conditional expressions of `if` blocks (AppArmor 3/4):
 * not, and, or, parentheses, true/false, $BOOL, defined $X / @{X}, and
 * comparisons of a set variable's value. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "parse_int.h"

static bool is_word(const struct ptok *t, const char *w)
{
	return t->type == T_WORD && strcmp(t->text, w) == 0;
}

struct cond {
	struct parser *P;
	struct toks *t;
	size_t i;
	bool err;
};

static const struct ptok *cpeek(struct cond *c)
{
	return c->i < c->t->n ? &c->t->v[c->i] : NULL;
}

char *parse_var_ref_name(const char *s, char sigil)
{
	/* $X, ${X}, @X, @{X} */
	if (s[0] != sigil)
		return NULL;
	s++;
	size_t n = strlen(s);
	if (s[0] == '{') {
		if (n < 3 || s[n - 1] != '}')
			return NULL;
		return strndup(s + 1, n - 2);
	}
	if (n == 0)
		return NULL;
	return strdup(s);
}

bool parse_valid_var_name(const char *n)
{
	if (!n || !isalpha((unsigned char)n[0]))
		return false;
	for (; *n; n++)
		if (!isalnum((unsigned char)*n) && *n != '_')
			return false;
	return true;
}

static bool cond_expr(struct cond *c);

static bool cond_term(struct cond *c)
{
	const struct ptok *k = cpeek(c);
	if (!k) {
		c->err = true;
		return false;
	}
	if (is_word(k, "not")) {
		c->i++;
		return !cond_term(c);
	}
	if (k->type == T_LPAREN) {
		c->i++;
		bool v = cond_expr(c);
		k = cpeek(c);
		if (!k || k->type != T_RPAREN) {
			c->err = true;
			return false;
		}
		c->i++;
		return v;
	}
	if (is_word(k, "true") || is_word(k, "false")) {
		c->i++;
		return k->text[0] == 't';
	}
	if (is_word(k, "defined")) {
		c->i++;
		k = cpeek(c);
		if (!k || k->type != T_WORD) {
			c->err = true;
			return false;
		}
		c->i++;
		char *n = parse_var_ref_name(k->text, k->text[0]);
		bool ok = (k->text[0] == '$' || k->text[0] == '@') && parse_valid_var_name(n);
		bool v = ok && ast_find_var(c->P->a, n, k->text[0] == '$');
		free(n);
		if (!ok)
			c->err = true;
		return v;
	}
	if (k->type == T_WORD && k->text[0] == '$') {
		c->i++;
		char *n = parse_var_ref_name(k->text, '$');
		struct var *v = parse_valid_var_name(n) ? ast_find_var(c->P->a, n, true) : NULL;
		if (!v) {
			diag_add(c->P->d, &k->loc, 0, "boolean variable %s is not defined",
				 k->text);
			c->err = true;
		}
		free(n);
		return v && v->bval;
	}
	if (k->type == T_WORD && k->text[0] == '@') {
		/* @{X} OP value: compare the variable's value (4.x) */
		c->i++;
		char *n = parse_var_ref_name(k->text, '@');
		struct var *v = parse_valid_var_name(n) ? ast_find_var(c->P->a, n, false) : NULL;
		free(n);
		const struct ptok *op = cpeek(c);
		if (!v || !op) {
			c->err = true;
			return false;
		}
		c->i++;
		const struct ptok *rhs = cpeek(c);
		if (!rhs) {
			c->err = true;
			return false;
		}
		c->i++;
		char obuf[4];
		const char *o = op->type == T_LE ? "<=" : op->type == T_EQ ? "=" : op->text;
		if ((op->type == T_WORD || op->type == T_EQ) && strlen(o) == 1 &&
		    strchr("<>!=", o[0]) && rhs->type == T_EQ) {
			/* the scanner splits ">=" "==" "!=" at '=' */
			obuf[0] = o[0];
			obuf[1] = '=';
			obuf[2] = '\0';
			o = obuf;
			rhs = cpeek(c);
			if (!rhs) {
				c->err = true;
				return false;
			}
			c->i++;
		}
		const char *lv = v->nvals ? v->vals[0] : "";
		char *e1, *e2;
		long a = strtol(lv, &e1, 10), b = strtol(rhs->text, &e2, 10);
		int cmp = (!*e1 && !*e2 && *lv && *rhs->text) ? (a > b) - (a < b)
							     : strcmp(lv, rhs->text);
		if (!strcmp(o, "==") || !strcmp(o, "="))
			return cmp == 0;
		if (!strcmp(o, "!="))
			return cmp != 0;
		if (!strcmp(o, ">="))
			return cmp >= 0;
		if (!strcmp(o, "<="))
			return cmp <= 0;
		if (!strcmp(o, ">"))
			return cmp > 0;
		if (!strcmp(o, "<"))
			return cmp < 0;
		c->err = true;
		return false;
	}
	c->err = true;
	return false;
}

static bool cond_and(struct cond *c)
{
	bool v = cond_term(c);
	while (!c->err && cpeek(c) && is_word(cpeek(c), "and")) {
		c->i++;
		bool w = cond_term(c);
		v = v && w;
	}
	return v;
}

static bool cond_expr(struct cond *c)
{
	bool v = cond_and(c);
	while (!c->err && cpeek(c) && is_word(cpeek(c), "or")) {
		c->i++;
		bool w = cond_and(c);
		v = v || w;
	}
	return v;
}

bool cond_eval(struct parser *P, struct toks *t, bool *err)
{
	struct cond c = { P, t, 1, false };
	bool v = cond_expr(&c);
	if (!c.err && c.i != t->n)
		c.err = true;
	*err = c.err;
	return c.err ? false : v;
}
