/* scan_int.h: the scanner's inside, shared by scan.c (characters and
 * tokens) and scan_src.c (source files, includes, diagnostics). */
#ifndef CAPGATE_SCAN_INT_H
#define CAPGATE_SCAN_INT_H

#include <stdint.h>
#include <sys/types.h>

#include "scan.h"

struct src {
	const char *name; /* interned */
	char *buf;
	size_t len, pos;
	int line, col;
	dev_t dev;
	ino_t ino;
};

struct scanner {
	struct src stack[SCAN_MAX_DEPTH + 1];
	int depth; /* -1 when done */
	const char *const *incdirs;
	struct diags *d;
	char **names;
	size_t nnames;
	size_t nfiles;
	uint64_t digest[4];
	struct token tok;
	char *tbuf;
	size_t tcap;
	bool have_unget;
	bool nl_pending;
	enum tok_type last_type; /* of the last token made */
};

/* scan_src.c */
int scan_push_file(struct scanner *s, const char *path, const struct loc *at);
int scan_do_include(struct scanner *s, const char *name, bool quoted,
		    bool if_exists, const struct loc *at);

#endif
