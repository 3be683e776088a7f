/* compile_int.h: shared by compile.c and compile_file.c. */
#ifndef CAPGATE_COMPILE_INT_H
#define CAPGATE_COMPILE_INT_H

#include "parse_int.h"
#include "policy_int.h"

/* File and link rules of one profile -> its DFAs and permission tables. */
int compile_file_rules(struct ast *a, struct ast_profile *ap, struct profile *pr,
		       struct diags *d);
/* A path with variables expanded and slashes filtered; NULL with an error
 * reported (need_abs: it must start with '/'). */
char *compile_expand_path(struct ast *a, const struct ast_profile *ap,
			  const char *in, const struct loc *at, struct diags *d,
			  bool need_abs);
/* Does every alternative of a glob start with '/'? */
bool compile_all_absolute(const char *g);

#endif
