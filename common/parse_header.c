/* parse_header.c: profile headers (names, attachments, namespaces, hats,
 * flags=(...), xattrs=(...), + identities=(...)) and abi names. */
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

/* abi <name>, abi "name", abi name: a non-empty name; inside <...> blanks
 * around a bare name are fine, but a "quoted" name must fill the brackets. */
bool parse_valid_abi(const struct ptok *k)
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

/* A profile header in t[i..n) followed by '{' (already consumed); the
 * caller adds the profile and parses its body. Forms:
 *   /path [flags] {        profile NAME [ATTACH] [flags] {
 *   ^hat [flags] {         hat NAME [flags] {   :ns:name ... { */
int parse_profile_header(struct parser *P, struct ast_profile **parentp,
			 struct toks *t, size_t i, struct ast_profile **out)
{
	struct ast_profile *parent = *parentp;
	struct ast_profile *pr = ast_profile_new();
	int rc = 0;
	*out = NULL;
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
		*out = NULL;
		return -EINVAL;
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
	*parentp = parent; /* an external hat names its parent */
	*out = pr;
	return rc;
}
