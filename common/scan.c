/* scan.c: the profile lexer, with include splicing. See scan.h. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "scan_int.h"

/* ---- characters ---- */

static int peekc(struct scanner *s, size_t ahead)
{
	struct src *src = &s->stack[s->depth];
	if (src->pos + ahead >= src->len)
		return -1;
	return (unsigned char)src->buf[src->pos + ahead];
}

static int getc_(struct scanner *s)
{
	struct src *src = &s->stack[s->depth];
	if (src->pos >= src->len)
		return -1;
	int c = (unsigned char)src->buf[src->pos++];
	if (c == '\n') {
		src->line++;
		src->col = 1;
	} else {
		src->col++;
	}
	return c;
}

static struct loc here(struct scanner *s)
{
	struct src *src = &s->stack[s->depth];
	struct loc l = { src->name, src->line, src->col };
	return l;
}

static int tput(struct scanner *s, size_t *n, int c)
{
	if (*n + 2 > s->tcap) {
		size_t ncap = s->tcap ? s->tcap * 2 : 256;
		if (ncap > SCAN_MAX_TOKEN + 2)
			return -E2BIG;
		char *nb = realloc(s->tbuf, ncap);
		if (!nb)
			return -ENOMEM;
		s->tbuf = nb;
		s->tcap = ncap;
	}
	s->tbuf[(*n)++] = (char)c;
	s->tbuf[*n] = '\0';
	return 0;
}

/* An empty, allocated token buffer (tokens' text is never NULL). */
static int treset(struct scanner *s)
{
	size_t n = 0;
	if (tput(s, &n, 'x') < 0)
		return -E2BIG;
	s->tbuf[0] = '\0';
	return 0;
}

/* Skips blanks and comments; sets nl_pending on newlines. A '#' starts a
 * comment only where a token could start, and "#include" is a directive. */
static void skip_space(struct scanner *s)
{
	for (;;) {
		int c = peekc(s, 0);
		if (c == '\n') {
			s->nl_pending = true;
			getc_(s);
		} else if (c == ' ' || c == '\t' || c == '\r' || c == '\f' ||
			   c == '\v') {
			getc_(s);
		} else if (c == '#') {
			struct src *src = &s->stack[s->depth];
			if (src->len - src->pos >= 8 &&
			    strncmp(src->buf + src->pos, "#include", 8) == 0 &&
			    (src->pos + 8 >= src->len ||
			     isspace((unsigned char)src->buf[src->pos + 8]) ||
			     src->buf[src->pos + 8] == '<' ||
			     src->buf[src->pos + 8] == '"'))
				return;
			while ((c = peekc(s, 0)) != -1 && c != '\n')
				getc_(s);
		} else {
			return;
		}
	}
}

/* "@{NAME}" or "$NAME" / "${NAME}": a word that can be assigned to */
static bool is_var_ref(const char *w, size_t n)
{
	if (n >= 1 && w[0] == '$')
		return true;
	return n >= 3 && w[0] == '@' && w[1] == '{' && w[n - 1] == '}' &&
	       memchr(w + 2, '}', n - 3) == NULL;
}

static bool is_word_stop(int c)
{
	return c == -1 || c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
	       c == '\f' || c == '\v' || c == ',' || c == '(' || c == ')' ||
	       c == '=' || c == '{' || c == '}';
}

/* Parses the directive after "include" / "#include": [if exists] then
 * <name>, "name" or a bare path, up to the end of the line. */
static int scan_include(struct scanner *s, const struct loc *at)
{
	bool if_exists = false;
	size_t n = 0;
	int c;

	while ((c = peekc(s, 0)) == ' ' || c == '\t')
		getc_(s);
	struct src *src = &s->stack[s->depth];
	if (src->len - src->pos >= 2 && strncmp(src->buf + src->pos, "if", 2) == 0 &&
	    (src->buf[src->pos + 2] == ' ' || src->buf[src->pos + 2] == '\t')) {
		getc_(s);
		getc_(s);
		while ((c = peekc(s, 0)) == ' ' || c == '\t')
			getc_(s);
		if (src->len - src->pos < 6 ||
		    strncmp(src->buf + src->pos, "exists", 6) != 0) {
			diag_add(s->d, at, 0, "expected 'exists' after 'include if'");
			return -EINVAL;
		}
		for (int i = 0; i < 6; i++)
			getc_(s);
		if_exists = true;
		while ((c = peekc(s, 0)) == ' ' || c == '\t')
			getc_(s);
	}
	c = getc_(s);
	int close = c == '<' ? '>' : c == '"' ? '"' : 0;
	bool quoted = c == '"';
	if (!close) {
		if (c == -1 || c == '\n') {
			diag_add(s->d, at, 0, "include without a file name");
			return -EINVAL;
		}
		/* bare: include /path or include name, to blank or line end */
		if (tput(s, &n, c) < 0)
			return -E2BIG;
		while ((c = peekc(s, 0)) != -1 && !isspace(c))
			if (tput(s, &n, getc_(s)) < 0)
				return -E2BIG;
		quoted = true;
	} else {
		if (treset(s) < 0)
			return -E2BIG;
		while ((c = getc_(s)) != close) {
			if (c == -1 || c == '\n') {
				diag_add(s->d, at, 0, "unterminated include name");
				return -EINVAL;
			}
			if (tput(s, &n, c) < 0)
				return -E2BIG;
		}
	}
	/* <"name"> is <name> */
	if (close == '>' && n >= 2 && s->tbuf[0] == '"' && s->tbuf[n - 1] == '"') {
		memmove(s->tbuf, s->tbuf + 1, n - 2);
		s->tbuf[n - 2] = '\0';
	}
	char *name = strdup(s->tbuf);
	if (!name)
		return -ENOMEM;
	int r = scan_do_include(s, name, quoted, if_exists, at);
	free(name);
	return r;
}

/* ---- tokens ---- */

static const struct token *make(struct scanner *s, enum tok_type t,
				 struct loc l, size_t n)
{
	s->tok.type = t;
	s->tok.text = s->tbuf;
	s->tok.len = n;
	s->tok.loc = l;
	s->tok.nl_before = s->nl_pending;
	s->nl_pending = false;
	s->last_type = t;
	return &s->tok;
}

static const struct token *lex(struct scanner *s)
{
	size_t n = 0;
	int c;

	for (;;) {
		if (s->depth < 0) {
			treset(s);
			struct loc l = { NULL, 0, 0 };
			return make(s, T_EOF, l, 0);
		}
		skip_space(s);
		if (peekc(s, 0) != -1)
			break;
		/* end of this file: pop back to the includer */
		free(s->stack[s->depth].buf);
		s->stack[s->depth].buf = NULL;
		s->depth--;
		s->nl_pending = true;
	}

	struct loc l = here(s);
	if (treset(s) < 0)
		return make(s, T_ERROR, l, 0);
	c = peekc(s, 0);

	/* directives */
	struct src *src = &s->stack[s->depth];
	const char *p = src->buf + src->pos;
	size_t left = src->len - src->pos;
	size_t kw = 0;
	if (left >= 8 && strncmp(p, "#include", 8) == 0)
		kw = 8;
	else if (left >= 8 && strncmp(p, "include", 7) == 0 &&
		 (p[7] == ' ' || p[7] == '\t'))
		kw = 7;
	if (kw) {
		for (size_t i = 0; i < kw; i++)
			getc_(s);
		bool nl = s->nl_pending;
		if (scan_include(s, &l) < 0 && s->d && s->d->nerrors == 0)
			diag_add(s->d, &l, 0, "bad include");
		s->nl_pending = nl;
		return lex(s);
	}

	/* key={a,b}: a value that starts with an alternation is a word */
	bool value_glob = c == '{' && s->last_type == T_EQ;
	switch (value_glob ? 0 : c) {
	case '{': getc_(s); tput(s, &n, c); return make(s, T_LBRACE, l, n);
	case '}': getc_(s); tput(s, &n, c); return make(s, T_RBRACE, l, n);
	case '(': getc_(s); tput(s, &n, c); return make(s, T_LPAREN, l, n);
	case ')': getc_(s); tput(s, &n, c); return make(s, T_RPAREN, l, n);
	case ',': getc_(s); tput(s, &n, c); return make(s, T_COMMA, l, n);
	case '=': getc_(s); tput(s, &n, c); return make(s, T_EQ, l, n);
	case '+':
		if (peekc(s, 1) == '=') {
			getc_(s); getc_(s);
			tput(s, &n, '+'); tput(s, &n, '=');
			return make(s, T_PLUSEQ, l, n);
		}
		break;
	case ':':
		if (peekc(s, 1) == '=') {
			getc_(s); getc_(s);
			tput(s, &n, ':'); tput(s, &n, '=');
			return make(s, T_COLONEQ, l, n);
		}
		break;
	case '?':
		if (peekc(s, 1) == '=') {
			getc_(s); getc_(s);
			tput(s, &n, '?'); tput(s, &n, '=');
			return make(s, T_QEQ, l, n);
		}
		break;
	case '-':
		if (peekc(s, 1) == '>') {
			getc_(s); getc_(s);
			tput(s, &n, '-'); tput(s, &n, '>');
			return make(s, T_ARROW, l, n);
		}
		break;
	case '<':
		if (peekc(s, 1) == '=') {
			getc_(s); getc_(s);
			tput(s, &n, '<'); tput(s, &n, '=');
			return make(s, T_LE, l, n);
		}
		/* <name with spaces> (abi and include names) is one word */
		for (size_t k = 1; peekc(s, k) != -1 && peekc(s, k) != '\n'; k++) {
			if (peekc(s, k) != '>')
				continue;
			for (size_t m = 0; m <= k; m++)
				if (tput(s, &n, getc_(s)) < 0)
					goto toolong;
			return make(s, T_WORD, l, n);
		}
		break;
	case '"':
		getc_(s);
		for (;;) {
			c = getc_(s);
			if (c == -1) {
				diag_add(s->d, &l, 0, "unterminated quoted string");
				return make(s, T_ERROR, l, n);
			}
			if (c == '"')
				break;
			if (c == '\\' && peekc(s, 0) != -1) {
				/* keep escapes for the glob compiler, except \" */
				int d2 = getc_(s);
				if (d2 != '"' && tput(s, &n, '\\') < 0)
					goto toolong;
				c = d2;
			}
			if (tput(s, &n, c) < 0)
				goto toolong;
		}
		return make(s, T_STRING, l, n);
	}

	/* A word: up to a blank or punctuation, but braces and commas inside a
	 * glob's {a,b} alternation and @{var} references belong to the word. */
	int depth = 0;
	bool path = c == '/' || c == '@' || c == '^';
	bool after_eq = s->last_type == T_EQ; /* key=a,b: one value */
	for (;;) {
		c = peekc(s, 0);
		if (c == '\\' && peekc(s, 1) != -1 && peekc(s, 1) != '\n') {
			if (tput(s, &n, getc_(s)) < 0 || tput(s, &n, getc_(s)) < 0)
				goto toolong;
			continue;
		}
		if (c == '{' && (n > 0 || value_glob)) {
			depth++;
		} else if (c == '}' && depth > 0) {
			depth--;
		} else if (c == '}' && path && n > 0) {
			/* a brace closing an alternation opened by a variable's
			 * value (@{V}={a,b then /x/@{V},c} r,) */
		} else if (depth > 0 && c != -1 && c != '\n' && c != ' ' &&
			   c != '\t' && c != '\r') {
			/* inside an alternation: anything but blanks */
		} else if ((c == '+' || c == '?' || c == ':') && peekc(s, 1) == '=' &&
			   is_var_ref(s->tbuf, n)) {
			break;
		} else if ((c == '"' || c == '<') && n > 0 && depth == 0) {
			break; /* abi<x>, abi"x": the name is a token of its own */
		} else if (c == '-' && peekc(s, 1) == '>' && n > 0) {
			break;
		} else if (c == '=' && path && n > 0 && !is_var_ref(s->tbuf, n)) {
			/* '=' inside a path is literal */
		} else if (c == ',' && (path || after_eq) && !is_word_stop(peekc(s, 1)) &&
			   peekc(s, 1) != '#') {
			/* upstream's lexer: a comma followed by more path
			 * characters belongs to the path (/foo,bar) */
		} else if (is_word_stop(c)) {
			break;
		}
		if (tput(s, &n, getc_(s)) < 0)
			goto toolong;
	}
	if (n == 0) {
		/* a lone character that starts nothing: report and skip it */
		getc_(s);
		tput(s, &n, c);
		return make(s, T_WORD, l, n);
	}
	return make(s, T_WORD, l, n);
toolong:
	diag_add(s->d, &l, 0, "token too long (limit %u bytes)", SCAN_MAX_TOKEN);
	while ((c = peekc(s, 0)) != -1 && !isspace(c))
		getc_(s);
	return make(s, T_ERROR, l, 0);
}

const struct token *scan_next(struct scanner *s)
{
	if (s->have_unget) {
		s->have_unget = false;
		return &s->tok;
	}
	return lex(s);
}

const struct token *scan_peek(struct scanner *s)
{
	const struct token *t = scan_next(s);
	s->have_unget = true;
	return t;
}

void scan_unget(struct scanner *s)
{
	s->have_unget = true;
}

char *scan_rest_of_line(struct scanner *s)
{
	if (s->depth < 0 || s->have_unget)
		return strdup("");
	struct src *src = &s->stack[s->depth];
	size_t start = src->pos, end = start;
	bool inq = false;
	while (end < src->len && src->buf[end] != '\n') {
		char c = src->buf[end];
		if (c == '"')
			inq = !inq;
		else if (c == '\\' && end + 1 < src->len)
			end++; /* an escape, or a line continuation */
		else if (c == '#' && !inq &&
			 (end == start || isspace((unsigned char)src->buf[end - 1])))
			break;
		end++;
	}
	char *r = strndup(src->buf + start, end - start);
	while (src->pos < end)
		getc_(s);
	return r;
}
