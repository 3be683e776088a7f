/* ast.c: the AST's nodes and a rule's token list: allocation and freeing. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "parse_int.h"

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

int ast_add_kid(struct ast_profile *parent, struct ast_profile *kid)
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

int ast_add_top(struct ast *a, struct ast_profile *p)
{
	struct ast_profile **nv =
		realloc(a->profiles, (a->nprofiles + 1) * sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	a->profiles = nv;
	a->profiles[a->nprofiles++] = p;
	return 0;
}
