/* parse_int.h: shared between the parser's files (parse.c, parse_rules.c,
 * parse_other.c, vars.c). Not for enforcement points. */
#ifndef CAPGATE_PARSE_INT_H
#define CAPGATE_PARSE_INT_H

#include "ast.h"

/* One rule's tokens, copied out of the scanner. */
struct ptok {
	enum tok_type type;
	char *text;
	struct loc loc;
	bool nl_before;
};
struct toks {
	struct ptok *v;
	size_t n, cap;
	struct loc end; /* where the terminator was */
};

struct parser {
	struct scanner *s;
	struct ast *a;
	struct diags *d;
};

void toks_clear(struct toks *t);
int toks_push(struct toks *t, const struct token *tk);

/* ast.c */
int ast_add_kid(struct ast_profile *parent, struct ast_profile *kid);
int ast_add_top(struct ast *a, struct ast_profile *p);

/* parse_cond.c: the `if` expression in t[1..n); *err on a malformed one. */
bool cond_eval(struct parser *P, struct toks *t, bool *err);
char *parse_var_ref_name(const char *s, char sigil); /* $X ${X} @X @{X} -> X */
bool parse_valid_var_name(const char *n);

/* parse_header.c */
bool parse_valid_abi(const struct ptok *k);
/* The profile of the header in t[i..n) (no body yet), or *out NULL; an
 * external hat ("hat /p//h {") may change *parent. */
int parse_profile_header(struct parser *P, struct ast_profile **parent,
			 struct toks *t, size_t i, struct ast_profile **out);

/* Rule parsers. Each reads t->v[i..n) (the rule's tokens after the
 * qualifiers and the class keyword) and fills r; errors via diag_add,
 * returning -EINVAL. */
int parse_file_rule(struct parser *P, struct toks *t, size_t i, struct rule *r);
int parse_link_rule(struct parser *P, struct toks *t, size_t i, struct rule *r);
int parse_cap_rule(struct parser *P, struct toks *t, size_t i, struct rule *r);
int parse_net_rule(struct parser *P, struct toks *t, size_t i, struct rule *r);
int parse_rlimit_rule(struct parser *P, struct toks *t, size_t i, struct rule *r);
int parse_change_profile_rule(struct parser *P, struct toks *t, size_t i,
			      struct rule *r);
/* The classes this project validates but does not enforce; returns 1 when
 * `kw` names one (and parsed it), 0 when it does not. */
int parse_other_rule(struct parser *P, const char *kw, struct toks *t,
		     size_t i, struct rule *r);

/* Mode strings: "rwk", "Px", "pix" ... into perms and x. */
int parse_mode(struct parser *P, const struct ptok *tk, uint32_t qual,
	       uint32_t *perms, struct xtrans *x);
bool looks_like_mode(const char *s);
bool is_path_token(const struct ptok *tk);

/* Variables (vars.c). */
int vars_assign(struct parser *P, const struct loc *at, const char *name,
		bool append, char *rawvals);
int vars_assign_bool(struct parser *P, const struct loc *at, const char *name,
		     const char *val);
/* Expands @{VAR}s of `in` into the alternatives it stands for, as one
 * string ({a,b} alternations); builtins profile_name and exec_path come
 * from the profile. Returns NULL with an error reported. */
char *vars_expand(struct ast *a, const struct ast_profile *pr, const char *in,
		  const struct loc *at, struct diags *d);
#endif
