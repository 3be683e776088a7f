/* parse.c: the structure of profile text: preamble, profiles, hats,
 * qualifier blocks, conditionals, and dispatch of rules to their class
 * parsers (parse_rules.c, parse_other.c). Grammar after upstream's
 * parser_yacc.y and apparmor.d(5). */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "parse_int.h"

#define MAX_NESTING 200 /* conditionals and blocks */

/* ---- tokens and AST helpers ---- */

void toks_clear(struct toks *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->v[i].text);
	t->n = 0;
}

int toks_push(struct toks *t, const struct token *tk)
{
	if (t->n == t->cap) {
		size_t nc = t->cap ? t->cap * 2 : 16;
		struct ptok *nv = realloc(t->v, nc * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		t->v = nv;
		t->cap = nc;
	}
	struct ptok *p = &t->v[t->n];
	p->type = tk->type;
	p->text = strndup(tk->text ? tk->text : "", tk->len);
	if (!p->text)
		return -ENOMEM;
	p->loc = tk->loc;
	p->nl_before = tk->nl_before;
	t->n++;
	return 0;
}

struct ast_profile *ast_profile_new(void)
{
	return calloc(1, sizeof(struct ast_profile));
}

void ast_profile_free(struct ast_profile *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nrules; i++) {
		free(p->rules[i].path);
		free(p->rules[i].path2);
		free((char *)p->rules[i].x.target);
	}
	free(p->rules);
	for (size_t i = 0; i < p->nkids; i++)
		ast_profile_free(p->kids[i]);
	free(p->kids);
	free(p->name);
	free(p->attach);
	free(p);
}

void ast_free(struct ast *a)
{
	for (size_t i = 0; i < a->nprofiles; i++)
		ast_profile_free(a->profiles[i]);
	free(a->profiles);
	for (size_t i = 0; i < a->nvars; i++) {
		for (size_t j = 0; j < a->vars[i].nvals; j++)
			free(a->vars[i].vals[j]);
		free(a->vars[i].vals);
		free(a->vars[i].name);
	}
	free(a->vars);
	for (size_t i = 0; i < a->naliases; i++) {
		free(a->aliases[i].from);
		free(a->aliases[i].to);
	}
	free(a->aliases);
	for (size_t i = 0; i < a->nscanners; i++)
		scan_free(a->scanners[i]);
	free(a->scanners);
	memset(a, 0, sizeof(*a));
}

struct rule *ast_add_rule(struct ast_profile *p)
{
	if (p->nrules == p->caprules) {
		size_t nc = p->caprules ? p->caprules * 2 : 16;
		struct rule *nv = realloc(p->rules, nc * sizeof(*nv));
		if (!nv)
			return NULL;
		p->rules = nv;
		p->caprules = nc;
	}
	struct rule *r = &p->rules[p->nrules++];
	memset(r, 0, sizeof(*r));
	return r;
}

static int add_kid(struct ast_profile *parent, struct ast_profile *kid)
{
	struct ast_profile **nv =
		realloc(parent->kids, (parent->nkids + 1) * sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	parent->kids = nv;
	parent->kids[parent->nkids++] = kid;
	kid->parent = parent;
	return 0;
}

static int add_top(struct ast *a, struct ast_profile *p)
{
	struct ast_profile **nv =
		realloc(a->profiles, (a->nprofiles + 1) * sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	a->profiles = nv;
	a->profiles[a->nprofiles++] = p;
	return 0;
}

/* ---- qualifiers ---- */

static bool is_word(const struct ptok *t, const char *w)
{
	return t->type == T_WORD && strcmp(t->text, w) == 0;
}

/* Reads leading qualifiers of t from *i on. Upstream's order: [priority=N]
 * [audit|quiet] [allow|deny] [owner|other]. */
static int parse_quals(struct parser *P, struct toks *t, size_t *i,
		       uint32_t *qual, int *prio)
{
	for (;;) {
		if (*i >= t->n)
			return 0;
		struct ptok *k = &t->v[*i];
		uint32_t q = 0;
		if (is_word(k, "audit"))
			q = Q_AUDIT;
		else if (is_word(k, "quiet"))
			q = Q_QUIET;
		else if (is_word(k, "deny"))
			q = Q_DENY;
		else if (is_word(k, "allow"))
			q = Q_ALLOW;
		else if (is_word(k, "owner"))
			q = Q_OWNER;
		else if (is_word(k, "other"))
			q = Q_OTHER;
		else if (is_word(k, "priority")) {
			if (*i + 2 >= t->n || t->v[*i + 1].type != T_EQ) {
				diag_add(P->d, &k->loc, 0, "priority needs '=N'");
				return -EINVAL;
			}
			char *end;
			long v = strtol(t->v[*i + 2].text, &end, 10);
			if (*end || !t->v[*i + 2].text[0] || v < -1000 || v > 1000) {
				diag_add(P->d, &t->v[*i + 2].loc, 0,
					 "invalid priority '%s' (range -1000..1000)",
					 t->v[*i + 2].text);
				return -EINVAL;
			}
			if (*qual & Q_PRIORITY) {
				diag_add(P->d, &k->loc, 0, "priority given twice");
				return -EINVAL;
			}
			*qual |= Q_PRIORITY;
			*prio = (int)v;
			*i += 3;
			continue;
		} else
			return 0;
		/* upstream's order: priority, audit|quiet, allow|deny, owner|other */
		int rank = (q & (Q_AUDIT | Q_QUIET)) ? 1 : (q & (Q_DENY | Q_ALLOW)) ? 2 : 3;
		int have = (*qual & (Q_OWNER | Q_OTHER)) ? 3 : (*qual & (Q_DENY | Q_ALLOW)) ? 2 :
			   (*qual & (Q_AUDIT | Q_QUIET)) ? 1 : 0;
		if (rank < have && !(*qual & q)) {
			diag_add(P->d, &k->loc, 0,
				 "qualifier '%s' out of order (priority, audit, allow/deny, owner)",
				 k->text);
			return -EINVAL;
		}
		if ((*qual & q) ||
		    ((q & (Q_DENY | Q_ALLOW)) && (*qual & (Q_DENY | Q_ALLOW))) ||
		    ((q & (Q_OWNER | Q_OTHER)) && (*qual & (Q_OWNER | Q_OTHER))) ||
		    ((q & (Q_AUDIT | Q_QUIET)) && (*qual & (Q_AUDIT | Q_QUIET)))) {
			diag_add(P->d, &k->loc, 0, "conflicting or repeated qualifier '%s'",
				 k->text);
			return -EINVAL;
		}
		*qual |= q;
		(*i)++;
	}
}

/* abi <name>, abi "name", abi name: a non-empty name; inside <...> blanks
 * around a bare name are fine, but a "quoted" name must fill the brackets. */
static bool valid_abi(const struct ptok *k)
{
	const char *s = k->text;
	size_t n = strlen(s);
	if (k->type == T_STRING)
		return n > 0;
	if (k->type != T_WORD || n == 0)
		return false;
	if (s[0] != '<')
		return s[0] != '"';
	if (n < 3 || s[n - 1] != '>')
		return false;
	size_t a = 1, b = n - 1;
	if (s[1] == '"')
		return n >= 5 && s[n - 2] == '"';
	while (a < b && isspace((unsigned char)s[a]))
		a++;
	while (b > a && isspace((unsigned char)s[b - 1]))
		b--;
	return b > a && !memchr(s + a, '"', b - a);
}

/* ---- conditionals ---- */

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

static char *var_ref_name(const char *s, char sigil)
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

static bool valid_var_name(const char *n)
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
		char *n = var_ref_name(k->text, k->text[0]);
		bool ok = (k->text[0] == '$' || k->text[0] == '@') && valid_var_name(n);
		bool v = ok && ast_find_var(c->P->a, n, k->text[0] == '$');
		free(n);
		if (!ok)
			c->err = true;
		return v;
	}
	if (k->type == T_WORD && k->text[0] == '$') {
		c->i++;
		char *n = var_ref_name(k->text, '$');
		struct var *v = valid_var_name(n) ? ast_find_var(c->P->a, n, true) : NULL;
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
		char *n = var_ref_name(k->text, '@');
		struct var *v = valid_var_name(n) ? ast_find_var(c->P->a, n, false) : NULL;
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

/* ---- blocks ---- */

enum term { TERM_COMMA, TERM_LBRACE, TERM_RBRACE, TERM_EOF };

/* Collects a rule's tokens up to ',' or '{' outside parentheses, or up to
 * a '}' / end of input that ends the enclosing block (left unconsumed). */
static enum term collect(struct parser *P, struct toks *t, bool keep)
{
	int paren = 0;
	if (!keep)
		toks_clear(t);
	for (;;) {
		const struct token *tk = scan_next(P->s);
		t->end = tk->loc;
		switch (tk->type) {
		case T_EOF:
			return TERM_EOF;
		case T_RBRACE:
			scan_unget(P->s);
			return TERM_RBRACE;
		case T_COMMA:
			if (paren == 0)
				return TERM_COMMA;
			break;
		case T_LBRACE:
			if (paren == 0)
				return TERM_LBRACE;
			break;
		case T_LPAREN:
			paren++;
			break;
		case T_RPAREN:
			paren--;
			break;
		default:
			break;
		}
		if (toks_push(t, tk) < 0)
			return TERM_EOF;
		if (t->n > 100000) {
			diag_add(P->d, &tk->loc, 0, "rule too long");
			return TERM_EOF;
		}
	}
}

/* Skips a balanced block whose '{' was consumed. */
static int skip_block(struct parser *P, const struct loc *open)
{
	int depth = 1;
	for (;;) {
		const struct token *tk = scan_next(P->s);
		if (tk->type == T_EOF) {
			diag_add(P->d, open, 0, "unbalanced '{': missing '}'");
			return -EINVAL;
		}
		if (tk->type == T_LBRACE)
			depth++;
		else if (tk->type == T_RBRACE && --depth == 0)
			return 0;
	}
}

static int parse_items(struct parser *P, struct ast_profile *prof,
		       uint32_t qual, int prio, int nest, const struct loc *open);

static int parse_profile(struct parser *P, struct ast_profile *parent,
			 struct toks *t, size_t i, int nest);

/* `if EXPR {` ... `} [else if EXPR { ... }] [else { ... }]` */
static int parse_cond(struct parser *P, struct ast_profile *prof, uint32_t qual,
		      int prio, struct toks *t, int nest)
{
	struct cond c = { P, t, 1, false };
	struct loc at = t->v[0].loc;
	bool taken = false;
	int rc = 0;

	for (;;) {
		bool v = cond_expr(&c);
		if (!c.err && c.i != t->n)
			c.err = true;
		if (c.err) {
			diag_add(P->d, &at, 0, "invalid conditional expression");
			rc = -EINVAL;
			v = false;
		}
		struct loc open = t->end;
		if (v && !taken) {
			taken = true;
			if (parse_items(P, prof, qual, prio, nest + 1, &open) < 0)
				rc = -EINVAL;
		} else if (skip_block(P, &open) < 0) {
			return -EINVAL;
		}
		/* else? */
		const struct token *tk = scan_peek(P->s);
		if (tk->type != T_WORD || strcmp(tk->text, "else") != 0)
			return rc;
		scan_next(P->s);
		tk = scan_next(P->s);
		if (tk->type == T_LBRACE) {
			struct loc o2 = tk->loc;
			if (!taken) {
				if (parse_items(P, prof, qual, prio, nest + 1, &o2) < 0)
					rc = -EINVAL;
			} else if (skip_block(P, &o2) < 0) {
				return -EINVAL;
			}
			return rc;
		}
		if (tk->type != T_WORD || strcmp(tk->text, "if") != 0) {
			diag_add(P->d, &tk->loc, 0, "expected '{' or 'if' after 'else'");
			return -EINVAL;
		}
		scan_unget(P->s);
		if (collect(P, t, false) != TERM_LBRACE) {
			diag_add(P->d, &at, 0, "'else if' needs a block");
			return -EINVAL;
		}
		c.i = 1;
		c.err = false;
		at = t->v[0].loc;
	}
}

/* A variable or boolean assignment: the first word (@{X} or $X) is
 * already in t; the next token decides. Returns 1 when it was one. */
static int try_assignment(struct parser *P, struct toks *t, int *rc,
			  bool in_profile)
{
	const struct ptok *w = &t->v[0];
	const struct token *op = scan_peek(P->s);
	if (op->type != T_EQ && op->type != T_PLUSEQ && op->type != T_QEQ &&
	    op->type != T_COLONEQ)
		return 0;
	bool append = op->type == T_PLUSEQ, cond = op->type == T_QEQ;
	bool override = op->type == T_COLONEQ;
	scan_next(P->s);
	if (in_profile) {
		/* upstream: variables and booleans are set in the preamble */
		diag_add(P->d, &w->loc, 0, "variable %s assigned inside a profile",
			 w->text);
		free(scan_rest_of_line(P->s));
		*rc = -EINVAL;
		return 1;
	}
	char *n = var_ref_name(w->text, w->text[0]);
	if (!valid_var_name(n)) {
		diag_add(P->d, &w->loc, 0, "invalid variable name '%s'", w->text);
		free(scan_rest_of_line(P->s));
		*rc = -EINVAL;
	} else if (w->text[0] == '$') {
		char *val = scan_rest_of_line(P->s);
		if (append) {
			diag_add(P->d, &w->loc, 0, "'+=' is not allowed on boolean $%s", n);
			*rc = -EINVAL;
		} else if (cond && ast_find_var(P->a, n, true)) {
			/* ?= keeps an existing value */
		} else if (override && ast_find_var(P->a, n, true)) {
			struct var *v = ast_find_var(P->a, n, true);
			char *e = val + strspn(val, " \t");
			v->bval = !strncasecmp(e, "true", 4);
		} else if (vars_assign_bool(P, &w->loc, n, val) < 0) {
			*rc = -EINVAL;
		}
		free(val);
	} else if (cond && ast_find_var(P->a, n, false)) {
		free(scan_rest_of_line(P->s));
	} else if (override && ast_find_var(P->a, n, false)) {
		struct var *v = ast_find_var(P->a, n, false);
		for (size_t j = 0; j < v->nvals; j++)
			free(v->vals[j]);
		v->nvals = 0;
		if (vars_assign(P, &w->loc, n, true, scan_rest_of_line(P->s)) < 0)
			*rc = -EINVAL;
	} else if (vars_assign(P, &w->loc, n, append, scan_rest_of_line(P->s)) < 0) {
		*rc = -EINVAL;
	}
	free(n);
	return 1;
}

static bool valid_signal_name(const char *s)
{
	static const char *const names[] = { "hup", "int", "quit", "ill", "trap",
		"abrt", "bus", "fpe", "kill", "usr1", "segv", "usr2", "pipe", "alrm",
		"term", "stkflt", "chld", "cont", "stop", "stp", "ttin", "ttou",
		"urg", "xcpu", "xfsz", "vtalrm", "prof", "winch", "io", "pwr", "sys",
		"emt", "lost", NULL };
	if (!strncasecmp(s, "SIG", 3))
		s += 3;
	for (int i = 0; names[i]; i++)
		if (!strcasecmp(names[i], s))
			return true;
	return false;
}

static bool valid_errno_name(const char *s)
{
	for (int e = 1; e < 200; e++) {
		const char *n = strerrorname_np(e);
		if (n && !strcmp(n, s))
			return true;
	}
	static const char *const names[] = { "EPERM", "ENOENT", "ESRCH", "EINTR",
		"EIO", "ENXIO", "E2BIG", "ENOEXEC", "EBADF", "ECHILD", "EAGAIN",
		"ENOMEM", "EACCES", "EFAULT", "EBUSY", "EEXIST", "EXDEV", "ENODEV",
		"ENOTDIR", "EISDIR", "EINVAL", "ENFILE", "EMFILE", "ENOTTY", "EFBIG",
		"ENOSPC", "ESPIPE", "EROFS", "EMLINK", "EPIPE", "ENOSYS", "ENOTSUP",
		"EOPNOTSUPP", "ECONNREFUSED", "ENOTCONN", NULL };
	for (int i = 0; names[i]; i++)
		if (!strcmp(names[i], s))
			return true;
	return false;
}

/* Profile flags: flags=(a, b, attach_disconnected.path=/x) */
static int parse_flags(struct parser *P, struct toks *t, size_t *i,
		       struct ast_profile *pr)
{
	static const struct {
		const char *name;
		uint32_t bit;
	} known[] = {
		{ "complain", PF_COMPLAIN }, { "enforce", 0 }, { "kill", PF_KILL },
		{ "unconfined", PF_UNCONFINED }, { "prompt", PF_PROMPT },
		{ "default_allow", PF_DEFAULT_ALLOW }, { "audit", PF_AUDIT },
		{ "debug", 0 }, { "mediate_deleted", PF_MEDIATE_DELETED },
		{ "delegate_deleted", 0 },
		{ "attach_disconnected", PF_ATTACH_DISCONNECTED },
		{ "no_attach_disconnected", 0 },
		{ "chroot_relative", PF_CHROOT_RELATIVE }, { "namespace_relative", 0 },
		{ "chroot_attach", 0 }, { "chroot_no_attach", 0 },
		{ "interruptible", 0 }, { "attach_disconnected.ipc", 0 },
		{ NULL, 0 } };
	struct loc at = t->v[*i].loc;
	if (t->v[*i].type == T_WORD) { /* "flags", else the old bare "(...)" */
		(*i)++;
		if (*i < t->n && t->v[*i].type == T_EQ)
			(*i)++;
	}
	bool paren = *i < t->n && t->v[*i].type == T_LPAREN;
	if (paren)
		(*i)++;
	uint32_t mode = 0;
	int nmode = 0, rc = 0;
	bool chroot_rel = false, ns_rel = false, ch_att = false, ch_noatt = false;
	int nflags = 0, ipc_vals = 0;
	const char *ipc_val = NULL;
	bool med_del = false, del_del = false, att_disc = false, no_att_disc = false;
	for (; *i < t->n; (*i)++) {
		struct ptok *k = &t->v[*i];
		if (k->type == T_WORD)
			nflags++;
		if (k->type == T_RPAREN && paren) {
			(*i)++;
			break;
		}
		if (k->type == T_COMMA && paren)
			continue;
		if (k->type != T_WORD) {
			diag_add(P->d, &k->loc, 0, "unexpected '%s' in flags", k->text);
			return -EINVAL;
		}
		const char *f = k->text;
		if ((!strcmp(f, "attach_disconnected.path") ||
		     !strcmp(f, "attach_disconnected.ipc") ||
		     !strcmp(f, "kill.signal") || !strcmp(f, "error")) &&
		    (*i + 1 < t->n && t->v[*i + 1].type == T_EQ)) {
			if (*i + 2 >= t->n || t->v[*i + 2].type != T_WORD) {
				diag_add(P->d, &k->loc, 0, "flag %s needs a value", f);
				return -EINVAL;
			}
			const char *val = t->v[*i + 2].text;
			att_disc = true;
			if (!strcmp(f, "attach_disconnected.ipc")) {
				/* given twice is fine only with the same value */
				if (!ipc_val || strcmp(ipc_val, val))
					ipc_vals++;
				ipc_val = val;
			}
			if (!strncmp(f, "attach_disconnected", 19)) {
				char *x = vars_expand(P->a, pr, val, &t->v[*i + 2].loc, P->d);
				if (!x || x[0] != '/') {
					if (x)
						diag_add(P->d, &t->v[*i + 2].loc, 0,
							 "%s must be an absolute path", f);
					rc = -EINVAL;
				}
				free(x);
			} else if (!strcmp(f, "kill.signal")) {
				char *e;
				long sig = strtol(val, &e, 10);
				if (*e ? !valid_signal_name(val) : (sig < 1 || sig > 64)) {
					diag_add(P->d, &t->v[*i + 2].loc, 0,
						 "invalid kill.signal '%s'", val);
					rc = -EINVAL;
				}
			} else if (!strcmp(f, "error")) {
				if (!valid_errno_name(val)) {
					diag_add(P->d, &t->v[*i + 2].loc, 0,
						 "invalid error '%s' (an errno name like EPERM)", val);
					rc = -EINVAL;
				}
			}
			*i += 2;
			if (!paren)
				break;
			continue;
		}
		int j;
		for (j = 0; known[j].name; j++)
			if (!strcmp(known[j].name, f))
				break;
		if (!known[j].name) {
			diag_add(P->d, &k->loc, 0, "invalid profile flag: %s", f);
			rc = -EINVAL;
			continue;
		}
		if (!strcmp(f, "complain") || !strcmp(f, "enforce") ||
		    !strcmp(f, "kill") || !strcmp(f, "unconfined") ||
		    !strcmp(f, "prompt") || !strcmp(f, "default_allow")) {
			if (nmode && !(mode & known[j].bit && known[j].bit)) {
				diag_add(P->d, &k->loc, 0,
					 "conflicting profile mode flags");
				rc = -EINVAL;
			}
			nmode++;
			mode |= known[j].bit;
		}
		med_del |= !strcmp(f, "mediate_deleted");
		del_del |= !strcmp(f, "delegate_deleted");
		att_disc |= !strncmp(f, "attach_disconnected", 19);
		no_att_disc |= !strcmp(f, "no_attach_disconnected");
		chroot_rel |= !strcmp(f, "chroot_relative");
		ns_rel |= !strcmp(f, "namespace_relative");
		ch_att |= !strcmp(f, "chroot_attach");
		ch_noatt |= !strcmp(f, "chroot_no_attach");
		pr->flags |= known[j].bit;
		if (!paren) {
			(*i)++;
			break;
		}
	}
	if (paren && nflags == 0) {
		diag_add(P->d, &at, 0, "empty flags=()");
		rc = -EINVAL;
	}
	if ((chroot_rel && ns_rel) || (ch_att && ch_noatt) || (med_del && del_del) ||
	    (att_disc && no_att_disc) || ipc_vals > 1) {
		diag_add(P->d, &at, 0, "conflicting profile flags");
		rc = -EINVAL;
	}
	return rc;
}

static bool name_ok(const char *n)
{
	return n && n[0] != '\0';
}

/* A profile header in t[i..n) followed by '{' (already consumed). Forms:
 *   /path [flags] {        profile NAME [ATTACH] [flags] {
 *   ^hat [flags] {         hat NAME [flags] {   :ns:name ... { */
static int parse_profile(struct parser *P, struct ast_profile *parent,
			 struct toks *t, size_t i, int nest)
{
	struct ast_profile *pr = ast_profile_new();
	int rc = 0;
	if (!pr)
		return -ENOMEM;
	pr->loc = t->v[i].loc;
	struct ptok *k = &t->v[i];
	bool kw_profile = is_word(k, "profile"), kw_hat = is_word(k, "hat");
	if (kw_profile || kw_hat) {
		i++;
		if (i >= t->n || (t->v[i].type != T_WORD && t->v[i].type != T_STRING)) {
			diag_add(P->d, &k->loc, 0, "%s needs a name", k->text);
			rc = -EINVAL;
			goto body;
		}
		pr->name = strdup(t->v[i].text);
		pr->is_hat = kw_hat;
		pr->keyword = kw_profile;
		i++;
		if (kw_profile && i < t->n &&
		    (t->v[i].type == T_STRING ||
		     (t->v[i].type == T_WORD && (t->v[i].text[0] == '/' ||
						 t->v[i].text[0] == '@'))) &&
		    !(i + 1 < t->n && t->v[i + 1].type == T_EQ)) {
			pr->attach = strdup(t->v[i].text);
			i++;
		} else if (kw_profile && (pr->name[0] == '/' || pr->name[0] == '@')) {
			pr->attach = strdup(pr->name);
			pr->attach_from_name = true;
		}
	} else if (k->type == T_WORD && k->text[0] == '^') {
		pr->name = strdup(k->text + 1);
		pr->is_hat = true;
		i++;
		if (!pr->name[0]) {
			diag_add(P->d, &k->loc, 0, "hat needs a name");
			rc = -EINVAL;
		}
	} else if ((k->type == T_WORD &&
		    (k->text[0] == '/' || k->text[0] == '@' || k->text[0] == ':')) ||
		   k->type == T_STRING) {
		pr->name = strdup(k->text);
		i++;
		if (parent) {
			/* upstream: a nested profile needs 'profile' (or is a hat) */
			diag_add(P->d, &k->loc, 0,
				 "syntax error: nested profile '%s' needs the 'profile' keyword",
				 k->text);
			rc = -EINVAL;
		}
		const char *caret = strchr(k->text, '^');
		if (caret && (caret == k->text || caret[-1] != '[')) {
			diag_add(P->d, &k->loc, 0, "invalid profile name '%s'", k->text);
			rc = -EINVAL;
		}
		/* "/name /attach {" and ":ns:name /attach {" name an attachment */
		if (i < t->n && (t->v[i].type == T_STRING ||
				 (t->v[i].type == T_WORD && (t->v[i].text[0] == '/' ||
							     t->v[i].text[0] == '@')))) {
			pr->attach = strdup(t->v[i].text);
			i++;
		} else if (k->text[0] != ':') {
			pr->attach = strdup(k->text);
			pr->attach_from_name = true;
		}
	} else {
		diag_add(P->d, &k->loc, 0, "syntax error, unexpected '%s'", k->text);
		free(pr);
		pr = NULL;
		return skip_block(P, &t->end) < 0 ? -EINVAL : -EINVAL;
	}
	if (pr->is_hat && !parent && pr->name && strstr(pr->name, "//")) {
		/* hat /profile//HAT { }: a hat of a profile defined earlier */
		char *sep = strstr(pr->name, "//");
		for (size_t j = 0; j < P->a->nprofiles; j++)
			if (strlen(P->a->profiles[j]->name) == (size_t)(sep - pr->name) &&
			    !strncmp(P->a->profiles[j]->name, pr->name, (size_t)(sep - pr->name)))
				parent = P->a->profiles[j];
		if (parent) {
			char *short_name = strdup(sep + 2);
			free(pr->name);
			pr->name = short_name;
		}
	}
	if (pr->is_hat && !parent) {
		diag_add(P->d, &k->loc, 0, "hat '%s' outside a profile", pr->name);
		rc = -EINVAL;
	}
	if (pr->is_hat && parent && parent->is_hat) {
		/* upstream: hats cannot have hats */
		diag_add(P->d, &k->loc, 0, "hat '%s' inside hat '%s'", pr->name,
			 parent->name);
		rc = -EINVAL;
	}
	/* [xattrs=(...)] [flags=(...)] [+ identities=(...)] */
	bool seen_flags = false;
	while (i < t->n) {
		struct ptok *w = &t->v[i];
		if (is_word(w, "xattrs") && (seen_flags || pr->is_hat)) {
			diag_add(P->d, &w->loc, 0, pr->is_hat ? "hats take no xattrs"
						: "xattrs=() must come before flags=()");
			rc = -EINVAL;
		}
		if (is_word(w, "+") && !(i + 1 < t->n && is_word(&t->v[i + 1], "identities"))) {
			diag_add(P->d, &w->loc, 0, "'+' must be followed by identities=()");
			rc = -EINVAL;
		}
		if (is_word(w, "identities") && i + 2 < t->n && t->v[i + 2].type == T_LPAREN)
			for (size_t j = i + 3; j < t->n && t->v[j].type != T_RPAREN; j++)
				if ((t->v[j].type == T_STRING && t->v[j].text[0] != '/' &&
				     strpbrk(t->v[j].text, " \t")) ||
				    (t->v[j].type == T_WORD && strchr(t->v[j].text, '\\'))) {
					/* a profile name, or a path (which may hold blanks) */
					diag_add(P->d, &t->v[j].loc, 0, "invalid identity '%s'",
						 t->v[j].text);
					rc = -EINVAL;
				}
		if (is_word(w, "flags") || w->type == T_LPAREN) {
			seen_flags = true;
			if (parse_flags(P, t, &i, pr) < 0)
				rc = -EINVAL;
			continue;
		}
		if (is_word(w, "identities") && !(i > 0 && is_word(&t->v[i - 1], "+"))) {
			diag_add(P->d, &w->loc, 0, "identities=() must follow '+'");
			rc = -EINVAL;
		}
		if ((is_word(w, "xattrs") || is_word(w, "identities")) &&
		    i + 3 < t->n && t->v[i + 2].type == T_LPAREN &&
		    t->v[i + 3].type == T_RPAREN) {
			diag_add(P->d, &w->loc, 0, "empty %s=()", w->text);
			rc = -EINVAL;
		}
		if (is_word(w, "xattrs") || is_word(w, "identities") ||
		    is_word(w, "+")) {
			/* skip keyword and an optional =(...) group */
			i++;
			if (i < t->n && t->v[i].type == T_EQ)
				i++;
			if (i < t->n && t->v[i].type == T_LPAREN) {
				int depth = 0;
				for (; i < t->n; i++) {
					if (t->v[i].type == T_LPAREN)
						depth++;
					else if (t->v[i].type == T_RPAREN && --depth == 0) {
						i++;
						break;
					}
				}
			}
			continue;
		}
		diag_add(P->d, &w->loc, 0, "syntax error, unexpected '%s' in profile header",
			 w->text);
		rc = -EINVAL;
		break;
	}
body:
	if (pr->name && pr->name[0] == ':' && rc == 0) {
		/* :ns:name, the namespace a non-empty [A-Za-z0-9_.-] word */
		const char *e = strchr(pr->name + 1, ':');
		size_t nl = e ? (size_t)(e - pr->name - 1) : 0;
		if (!e || nl == 0 || !e[1] || strcspn(pr->name + 1, "/ \t") < nl) {
			diag_add(P->d, &pr->loc, 0, "invalid profile namespace in '%s'",
				 pr->name);
			rc = -EINVAL;
		}
	}
	if (!name_ok(pr->name) && rc == 0) {
		diag_add(P->d, &pr->loc, 0, "profile needs a name");
		rc = -EINVAL;
	}
	if (pr->is_hat)
		pr->flags |= PF_HAT;
	if (parent)
		add_kid(parent, pr);
	else
		add_top(P->a, pr);
	struct loc open = t->end;
	if (nest > MAX_NESTING) {
		diag_add(P->d, &open, 0, "profiles nested too deeply");
		return -EINVAL;
	}
	if (parse_items(P, pr, 0, 0, nest + 1, &open) < 0)
		rc = -EINVAL;
	return rc;
}

/* Rules whose values are not expanded here must still name only defined
 * variables (upstream expands them all). */
static int check_var_refs(struct parser *P, struct toks *t, size_t i)
{
	static const char *const builtin[] = { "profile_name", "exec_path",
		"attach_path", NULL };
	for (; i < t->n; i++) {
		for (const char *p = strstr(t->v[i].text, "@{"); p; p = strstr(p + 2, "@{")) {
			const char *e = strchr(p, '}');
			if (!e)
				break;
			char *n = strndup(p + 2, (size_t)(e - p - 2));
			if (n && !valid_var_name(n)) {
				free(n); /* @{a,b}: an '@' then an alternation */
				continue;
			}
			bool ok = n && ast_find_var(P->a, n, false);
			for (int b = 0; n && !ok && builtin[b]; b++)
				ok = !strcmp(builtin[b], n);
			if (!ok) {
				diag_add(P->d, &t->v[i].loc, 0,
					 "Found reference to variable %s, but is never declared",
					 n ? n : "?");
				free(n);
				return -EINVAL;
			}
			free(n);
		}
	}
	return 0;
}

/* The rule classes handled by parse_rules.c; returns 1 if handled. */
static int dispatch_rule(struct parser *P, struct ast_profile *prof,
			 uint32_t qual, int prio, struct toks *t, size_t i)
{
	struct rule *r = ast_add_rule(prof);
	if (!r)
		return -ENOMEM;
	r->loc = t->v[0].loc;
	r->qual = qual;
	r->priority = prio;
	struct ptok *k = &t->v[i];
	int rc;
	if ((qual & (Q_OWNER | Q_OTHER)) &&
	    (is_word(k, "capability") || is_word(k, "network") || is_word(k, "set") ||
	     is_word(k, "change_profile") || is_word(k, "dbus") || is_word(k, "signal") ||
	     is_word(k, "ptrace") || is_word(k, "mount") || is_word(k, "umount") ||
	     is_word(k, "remount") || is_word(k, "pivot_root") || is_word(k, "userns") ||
	     is_word(k, "all") || is_word(k, "io_uring"))) {
		diag_add(P->d, &t->v[0].loc, 0, "'%s' qualifier is not allowed on %s rules",
			 qual & Q_OWNER ? "owner" : "other", k->text);
		prof->nrules--;
		return -EINVAL;
	}
	if (is_word(k, "capability")) {
		r->kind = R_CAP;
		rc = parse_cap_rule(P, t, i + 1, r);
	} else if (is_word(k, "network")) {
		r->kind = R_NET;
		rc = parse_net_rule(P, t, i + 1, r);
	} else if (is_word(k, "set")) {
		r->kind = R_RLIMIT;
		rc = parse_rlimit_rule(P, t, i + 1, r);
	} else if (is_word(k, "link")) {
		r->kind = R_LINK;
		rc = parse_link_rule(P, t, i + 1, r);
	} else if (is_word(k, "change_profile")) {
		r->kind = R_CHANGE_PROFILE;
		rc = parse_change_profile_rule(P, t, i + 1, r);
	} else if (is_word(k, "file")) {
		r->kind = R_FILE;
		if (i + 1 == t->n) {
			r->bare = true;
			rc = 0;
		} else {
			rc = parse_file_rule(P, t, i + 1, r);
		}
	} else if (k->type == T_WORD &&
		   (rc = parse_other_rule(P, k->text, t, i + 1, r)) != 0) {
		r->kind = R_OTHER;
		rc = rc < 0 ? rc : 0;
	} else if (is_path_token(k) || (k->type == T_WORD && looks_like_mode(k->text) &&
					 i + 1 < t->n) || is_word(k, "safe") || is_word(k, "unsafe")) {
		r->kind = R_FILE;
		rc = parse_file_rule(P, t, i, r);
	} else {
		diag_add(P->d, &k->loc, 0, "syntax error, unexpected '%s'", k->text);
		rc = -EINVAL;
	}
	if (rc == 0 && (r->kind == R_OTHER || r->kind == R_CHANGE_PROFILE))
		rc = check_var_refs(P, t, i);
	if (rc < 0) {
		/* drop it: never half-applied */
		free(r->path);
		free(r->path2);
		free((char *)r->x.target);
		prof->nrules--;
	}
	return rc;
}

static bool only_quals(struct toks *t, size_t i)
{
	return i == t->n;
}

/* Items of a block until its '}' (consumed), or the end of input at top
 * level (prof == NULL, open == NULL). */
static int parse_items(struct parser *P, struct ast_profile *prof,
		       uint32_t qual, int prio, int nest, const struct loc *open)
{
	struct toks t = { 0 };
	int rc = 0;

	if (nest > MAX_NESTING) {
		diag_add(P->d, open, 0, "blocks nested too deeply");
		return -EINVAL;
	}
	for (;;) {
		const struct token *tk = scan_peek(P->s);
		if (tk->type == T_EOF) {
			scan_next(P->s);
			if (open) {
				diag_add(P->d, open, 0, "unbalanced '{': missing '}'");
				rc = -EINVAL;
			}
			break;
		}
		if (tk->type == T_RBRACE) {
			scan_next(P->s);
			if (!open) {
				diag_add(P->d, &tk->loc, 0, "unbalanced '}'");
				rc = -EINVAL;
				continue;
			}
			break;
		}
		if (tk->type == T_ERROR) {
			scan_next(P->s);
			rc = -EINVAL;
			continue;
		}
		enum term term;
		if (tk->type == T_WORD && (tk->text[0] == '@' || tk->text[0] == '$')) {
			toks_clear(&t);
			toks_push(&t, scan_next(P->s));
			if (try_assignment(P, &t, &rc, prof != NULL))
				continue;
			term = collect(P, &t, true);
		} else {
			term = collect(P, &t, false);
		}
		if (t.n == 0 && term == TERM_COMMA) {
			diag_add(P->d, &t.end, 0, "syntax error, unexpected ','");
			rc = -EINVAL;
			continue;
		}
		if (t.n == 0 && term == TERM_LBRACE) {
			diag_add(P->d, &t.end, 0, "syntax error, unexpected '{'");
			rc = -EINVAL;
			if (skip_block(P, &t.end) < 0)
				break;
			continue;
		}
		if (term == TERM_RBRACE || term == TERM_EOF) {
			if (t.n) {
				diag_add(P->d, &t.v[t.n - 1].loc, 0,
					 "syntax error: missing ',' after '%s'",
					 t.v[t.n - 1].text);
				rc = -EINVAL;
			}
			continue;
		}
		size_t i = 0;
		uint32_t q = qual;
		int pr = prio;
		if (is_word(&t.v[0], "if") && term == TERM_LBRACE) {
			if (parse_cond(P, prof, qual, prio, &t, nest) < 0)
				rc = -EINVAL;
			continue;
		}
		if (term == TERM_COMMA && (is_word(&t.v[0], "abi") ||
					   is_word(&t.v[0], "alias"))) {
			if (is_word(&t.v[0], "alias")) {
				if (prof || t.n != 4 || t.v[2].type != T_ARROW ||
				    !is_path_token(&t.v[1]) || !is_path_token(&t.v[3])) {
					diag_add(P->d, &t.v[0].loc, 0,
						 prof ? "alias rule inside a profile"
						      : "alias needs 'alias /from -> /to,'");
					rc = -EINVAL;
				} else {
					struct alias *na = realloc(P->a->aliases,
						(P->a->naliases + 1) * sizeof(*na));
					if (na) {
						P->a->aliases = na;
						na[P->a->naliases].from = strdup(t.v[1].text);
						na[P->a->naliases].to = strdup(t.v[3].text);
						P->a->naliases++;
					}
				}
			} else if (t.n != 2 || !valid_abi(&t.v[1])) {
				diag_add(P->d, &t.v[0].loc, 0, "abi needs 'abi <name>,'");
				rc = -EINVAL;
			}
			continue;
		}
		if (parse_quals(P, &t, &i, &q, &pr) < 0) {
			rc = -EINVAL;
			if (term == TERM_LBRACE && skip_block(P, &t.end) < 0)
				break;
			continue;
		}
		if (term == TERM_LBRACE) {
			if (only_quals(&t, i)) {
				if (!prof) {
					diag_add(P->d, &t.v[0].loc, 0,
						 "qualifier block outside a profile");
					rc = -EINVAL;
					skip_block(P, &t.end);
					continue;
				}
				struct loc o = t.end;
				if (parse_items(P, prof, q, pr, nest + 1, &o) < 0)
					rc = -EINVAL;
				continue;
			}
			if (q != qual) {
				diag_add(P->d, &t.v[0].loc, 0,
					 "qualifiers are not allowed on profiles");
				rc = -EINVAL;
			}
			if (parse_profile(P, prof, &t, i, nest) < 0)
				rc = -EINVAL;
			continue;
		}
		if (!prof) {
			diag_add(P->d, &t.v[0].loc, 0,
				 "syntax error: rule '%s' outside a profile",
				 t.v[0].text);
			rc = -EINVAL;
			continue;
		}
		if (i == t.n) {
			diag_add(P->d, &t.v[0].loc, 0, "qualifiers without a rule");
			rc = -EINVAL;
			continue;
		}
		if (dispatch_rule(P, prof, q, pr, &t, i) < 0)
			rc = -EINVAL;
	}
	toks_clear(&t);
	free(t.v);
	return rc;
}

static int parse_scanner(struct ast *a, struct scanner *s, struct diags *d)
{
	struct parser P = { s, a, d };
	struct scanner **nv = realloc(a->scanners, (a->nscanners + 1) * sizeof(*nv));
	if (!nv) {
		scan_free(s);
		return -ENOMEM;
	}
	a->scanners = nv;
	a->scanners[a->nscanners++] = s;
	size_t before = d->nerrors;
	int rc = parse_items(&P, NULL, 0, 0, 0, NULL);
	return rc < 0 || d->nerrors > before ? -EINVAL : 0;
}

int parse_file(struct ast *a, const char *path, const char *const *incdirs,
	       struct diags *d, unsigned char digest[32])
{
	size_t before = d->nerrors;
	struct scanner *s = scan_open(path, incdirs, d);
	if (!s)
		return -ENOMEM;
	int rc = parse_scanner(a, s, d);
	if (digest)
		scan_digest(s, digest);
	return rc < 0 || d->nerrors > before ? -EINVAL : 0;
}

int parse_mem(struct ast *a, const char *name, const char *buf, size_t len,
	      const char *const *incdirs, struct diags *d)
{
	struct scanner *s = scan_open_mem(name, buf, len, incdirs, d);
	if (!s)
		return -ENOMEM;
	return parse_scanner(a, s, d);
}
