/* vars.c: @{VAR} set variables and $BOOL booleans: definition, +=, and
 * expansion into glob alternations, after apparmor.d(5) "Variables". */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "parse_int.h"

#define VARS_MAX_DEPTH 64
#define VARS_MAX_EXPANSION (1u << 20) /* bytes after expansion */

struct var *ast_find_var(struct ast *a, const char *name, bool is_bool)
{
	for (size_t i = 0; i < a->nvars; i++)
		if (a->vars[i].is_bool == is_bool && !strcmp(a->vars[i].name, name))
			return &a->vars[i];
	return NULL;
}

static struct var *new_var(struct ast *a, const char *name)
{
	struct var *nv = realloc(a->vars, (a->nvars + 1) * sizeof(*nv));
	if (!nv)
		return NULL;
	a->vars = nv;
	struct var *v = &a->vars[a->nvars++];
	memset(v, 0, sizeof(*v));
	v->name = strdup(name);
	return v;
}

static int add_val(struct var *v, const char *s, size_t n)
{
	char **nv = realloc(v->vals, (v->nvals + 1) * sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	v->vals = nv;
	v->vals[v->nvals] = strndup(s, n);
	if (!v->vals[v->nvals])
		return -ENOMEM;
	v->nvals++;
	return 0;
}

/* Splits a value list: blanks separate, "quotes" group, braces nest. */
static int split_vals(struct parser *P, const struct loc *at, struct var *v,
		      const char *raw)
{
	const char *p = raw;
	int added = 0;
	while (*p) {
		while (*p && (isspace((unsigned char)*p) || (*p == '\\' && p[1] == '\n')))
			p++;
		if (!*p)
			break;
		if (*p == '"') {
			const char *e = ++p;
			while (*e && *e != '"') {
				if (*e == '\\' && e[1])
					e++;
				e++;
			}
			if (*e != '"') {
				diag_add(P->d, at, 0, "unterminated quote in value of @{%s}",
					 v->name);
				return -EINVAL;
			}
			if (add_val(v, p, (size_t)(e - p)) < 0)
				return -ENOMEM;
			p = e + 1;
			added++;
			continue;
		}
		const char *e = p;
		int depth = 0;
		while (*e && (depth > 0 || !isspace((unsigned char)*e))) {
			if (*e == '\\' && e[1] == '\n') {
				break; /* line continuation */
			} else if (*e == '\\' && e[1])
				e++;
			else if (*e == '{')
				depth++;
			else if (*e == '}')
				depth--;
			e++;
		}
		/* unbalanced braces are fine: a value may open an
		 * alternation that the rule using it closes (upstream) */
		if (memchr(p, '"', (size_t)(e - p)) || memchr(p, '!', (size_t)(e - p)) ||
		    e[-1] == ',') {
			diag_add(P->d, at, 0, "invalid value '%.*s' for @{%s}",
				 (int)(e - p), p, v->name);
			return -EINVAL;
		}
		if (add_val(v, p, (size_t)(e - p)) < 0)
			return -ENOMEM;
		added++;
		p = e;
	}
	if (!added) {
		diag_add(P->d, at, 0, "variable @{%s} needs a value", v->name);
		return -EINVAL;
	}
	return 0;
}

int vars_assign(struct parser *P, const struct loc *at, const char *name,
		bool append, char *rawvals)
{
	int rc = 0;
	struct var *v = ast_find_var(P->a, name, false);
	if (!rawvals)
		return -ENOMEM;
	if (append && !v) {
		diag_add(P->d, at, 0,
			 "variable @{%s} appended to ('+=') before it is defined", name);
		rc = -EINVAL;
	} else if (!append && v) {
		diag_add(P->d, at, 0, "variable @{%s} is already defined", name);
		rc = -EINVAL;
	} else {
		if (!v)
			v = new_var(P->a, name);
		if (!v)
			rc = -ENOMEM;
		else {
			v->loc = *at;
			rc = split_vals(P, at, v, rawvals);
		}
	}
	free(rawvals);
	return rc;
}

int vars_assign_bool(struct parser *P, const struct loc *at, const char *name,
		     const char *val)
{
	while (*val && isspace((unsigned char)*val))
		val++;
	size_t n = strlen(val);
	while (n && isspace((unsigned char)val[n - 1]))
		n--;
	bool b;
	if (n == 4 && !strncasecmp(val, "true", 4))
		b = true;
	else if (n == 5 && !strncasecmp(val, "false", 5))
		b = false;
	else {
		diag_add(P->d, at, 0, "boolean $%s must be true or false", name);
		return -EINVAL;
	}
	if (ast_find_var(P->a, name, true)) {
		diag_add(P->d, at, 0, "boolean $%s is already defined", name);
		return -EINVAL;
	}
	struct var *v = new_var(P->a, name);
	if (!v)
		return -ENOMEM;
	v->is_bool = true;
	v->bval = b;
	v->loc = *at;
	return 0;
}

/* ---- expansion ---- */

struct buf {
	char *p;
	size_t n, cap;
	bool oom;
};

static void bput(struct buf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->n + n + 1 > b->cap) {
		size_t nc = b->cap ? b->cap * 2 : 64;
		while (nc < b->n + n + 1)
			nc *= 2;
		if (nc > VARS_MAX_EXPANSION) {
			b->oom = true;
			return;
		}
		char *np = realloc(b->p, nc);
		if (!np) {
			b->oom = true;
			return;
		}
		b->p = np;
		b->cap = nc;
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = '\0';
}

static int expand_into(struct ast *a, const struct ast_profile *pr,
		       const char *in, const struct loc *at, struct diags *d,
		       struct buf *out, int depth);

/* One value of a variable, without the slashes that would double those
 * around the reference (upstream's variable::expand_by_alternation): a
 * leading '/' when the text before ends in '/', a trailing one when the
 * text after starts with '/'. */
static int expand_value(struct ast *a, const struct ast_profile *pr,
			const char *val, const struct loc *at, struct diags *d,
			struct buf *out, int depth, bool prev_slash, bool next_slash)
{
	size_t n = strlen(val);
	while (prev_slash && n > 0 && val[0] == '/') {
		val++;
		n--;
	}
	while (next_slash && n > 0 && val[n - 1] == '/' && (n < 2 || val[n - 2] != '\\'))
		n--;
	char *v = strndup(val, n);
	if (!v)
		return -ENOMEM;
	int r = expand_into(a, pr, v, at, d, out, depth + 1);
	free(v);
	return r;
}

static int expand_var(struct ast *a, const struct ast_profile *pr,
		      const char *name, const struct loc *at, struct diags *d,
		      struct buf *out, int depth, bool next_slash)
{
	bool prev_slash = out->n > 0 && out->p[out->n - 1] == '/';
	if (!strcmp(name, "profile_name") && !ast_find_var(a, name, false)) {
		char full[4096] = "";
		const struct ast_profile *stack[64];
		int n = 0;
		for (const struct ast_profile *q = pr; q && n < 64; q = q->parent)
			stack[n++] = q;
		while (n-- > 0) {
			if (full[0])
				strncat(full, "//", sizeof(full) - strlen(full) - 1);
			strncat(full, stack[n]->name ? stack[n]->name : "",
				sizeof(full) - strlen(full) - 1);
		}
		bput(out, full, strlen(full));
		return 0;
	}
	struct var *v = ast_find_var(a, name, false);
	if (!v && (!strcmp(name, "exec_path") || !strcmp(name, "attach_path")) &&
	    pr && pr->attach && !pr->is_hat)
		return expand_into(a, pr, pr->attach, at, d, out, depth + 1);
	if (!v) {
		diag_add(d, at, 0, "Found reference to variable %s, but is never declared",
			 name);
		return -EINVAL;
	}
	if (v->nvals == 1)
		return expand_value(a, pr, v->vals[0], at, d, out, depth, prev_slash,
				    next_slash);
	bput(out, "{", 1);
	for (size_t i = 0; i < v->nvals; i++) {
		if (i)
			bput(out, ",", 1);
		if (expand_value(a, pr, v->vals[i], at, d, out, depth, prev_slash,
				 next_slash) < 0)
			return -EINVAL;
	}
	bput(out, "}", 1);
	return 0;
}

static int expand_into(struct ast *a, const struct ast_profile *pr,
		       const char *in, const struct loc *at, struct diags *d,
		       struct buf *out, int depth)
{
	if (depth > VARS_MAX_DEPTH) {
		diag_add(d, at, 0, "variables nest too deeply (a variable refers to itself?)");
		return -ELOOP;
	}
	for (const char *p = in; *p;) {
		if (*p == '\\' && p[1]) {
			bput(out, p, 2);
			p += 2;
			continue;
		}
		if (p[0] == '@' && p[1] == '{') {
			const char *e = strchr(p + 2, '}');
			if (!e) {
				diag_add(d, at, 0, "unterminated variable reference in '%s'", in);
				return -EINVAL;
			}
			char *name = strndup(p + 2, (size_t)(e - p - 2));
			bool ok = name && (isalpha((unsigned char)name[0]) || name[0] == '_');
			for (char *c = name; ok && *c; c++)
				ok = isalnum((unsigned char)*c) || *c == '_';
			if (!ok) {
				diag_add(d, at, 0, "invalid variable reference '@{%s}'",
					 name ? name : "");
				free(name);
				return -EINVAL;
			}
			int r = expand_var(a, pr, name, at, d, out, depth, e[1] == '/');
			free(name);
			if (r < 0)
				return r;
			p = e + 1;
			continue;
		}
		bput(out, p, 1);
		p++;
	}
	return 0;
}

char *vars_expand(struct ast *a, const struct ast_profile *pr, const char *in,
		  const struct loc *at, struct diags *d)
{
	struct buf b = { 0 };
	bput(&b, "", 0);
	if (expand_into(a, pr, in, at, d, &b, 0) < 0) {
		free(b.p);
		return NULL;
	}
	if (b.oom) {
		diag_add(d, at, 0, "variable expansion too large (limit %u bytes)",
			 VARS_MAX_EXPANSION);
		free(b.p);
		return NULL;
	}
	return b.p;
}
