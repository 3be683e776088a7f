/* scan.h: profile text -> tokens, with includes spliced in.
 *
 * The scanner owns a stack of source files. `include <x>`, `#include <x>`,
 * `include "x"`, `include if exists <x>` and bare `include path` are handled
 * here, transparently to the parser, the way upstream's lexer does it: the
 * included file's tokens appear in place of the directive. Every token
 * carries file:line:col.
 */
#ifndef CAPGATE_SCAN_H
#define CAPGATE_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include "policy.h"

#define SCAN_MAX_FILE (16u << 20) /* bytes in one source file */
#define SCAN_MAX_DEPTH 32         /* include nesting */
#define SCAN_MAX_FILES 4096       /* files read for one compile */
#define SCAN_MAX_TOKEN 65536      /* bytes in one token */

struct loc {
	const char *file; /* interned, lives as long as the scanner */
	int line, col;
};

enum tok_type {
	T_EOF,
	T_WORD,   /* a bare word: keyword, path, mode, number, @{var} ... */
	T_STRING, /* a "quoted" string, unquoted in text */
	T_LBRACE, T_RBRACE, T_LPAREN, T_RPAREN, T_COMMA,
	T_EQ,     /* = */
	T_PLUSEQ, /* += */
	T_QEQ,    /* ?= */
	T_COLONEQ, /* := */
	T_ARROW,  /* -> */
	T_LE,     /* <= */
	T_ERROR,  /* a lexical error, already reported */
	T_MAX
};

struct token {
	enum tok_type type;
	char *text; /* owned by the scanner until the next scan_next() */
	size_t len;
	struct loc loc;
	bool nl_before; /* a newline separates it from the previous token */
};

struct scanner;

/* incdirs: NULL-terminated search path for <x>; quoted "x" resolves against
 * the working directory, then the including file's directory. */
struct scanner *scan_open(const char *path, const char *const *incdirs,
			  struct diags *d);
/* Scan from memory (tests, fuzzing). */
struct scanner *scan_open_mem(const char *name, const char *buf, size_t len,
			      const char *const *incdirs, struct diags *d);
void scan_free(struct scanner *s);

/* The next token; the same token again after scan_unget(). */
const struct token *scan_next(struct scanner *s);
const struct token *scan_peek(struct scanner *s);
void scan_unget(struct scanner *s);

/* The raw rest of the current line after the last token (for variable
 * values, which end at the line's end), without a trailing comment. Only
 * valid right after scan_next() with no pending unget. */
char *scan_rest_of_line(struct scanner *s);

/* Interns a file name for locations that outlive the scanner's tokens. */
const char *scan_intern(struct scanner *s, const char *name);

/* Digest of every file read so far (for the cache), SHA-256-like strength
 * is not required: a 256-bit FNV-style mix is enough to detect change. */
void scan_digest(const struct scanner *s, unsigned char out[32]);

/* Report an error or warning at a location (formats into d). */
void diag_add(struct diags *d, const struct loc *at, int warning,
	      const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif
