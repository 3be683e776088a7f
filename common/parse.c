/* parse.c: the structure of profile text: preamble, profiles, hats,
 * qualifier blocks, conditionals, and dispatch of rules to their class
 * parsers (parse_rules.c, parse_other.c). Grammar after upstream's
 * parser_yacc.y and apparmor.d(5). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "parse_int.h"

#define MAX_NESTING 200 /* conditionals and blocks */

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
	struct loc at = t->v[0].loc;
	bool taken = false;
	int rc = 0;

	for (;;) {
		bool err;
		bool v = cond_eval(P, t, &err);
		if (err) {
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
	char *n = parse_var_ref_name(w->text, w->text[0]);
	if (!parse_valid_var_name(n)) {
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

/* A profile or hat: its header, then its body up to the '}'. */
static int parse_profile(struct parser *P, struct ast_profile *parent,
			 struct toks *t, size_t i, int nest)
{
	struct ast_profile *pr;
	int rc = parse_profile_header(P, &parent, t, i, &pr);
	if (!pr)
		return skip_block(P, &t->end) < 0 ? -EINVAL : rc;
	if (parent)
		ast_add_kid(parent, pr);
	else
		ast_add_top(P->a, pr);
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
			if (n && !parse_valid_var_name(n)) {
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
			} else if (t.n != 2 || !parse_valid_abi(&t.v[1])) {
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
