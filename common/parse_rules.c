/* parse_rules.c: the rule classes this project enforces: file, link,
 * capability, network, rlimit and change_profile. Syntax and error rules
 * after apparmor.d(5) and upstream's parser (parser_misc.c parse_mode,
 * network.cc, rlimit handling in parser_yacc.y). */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include "audit.h"
#include "parse_int.h"

static bool is_word(const struct ptok *t, const char *w)
{
	return t->type == T_WORD && strcmp(t->text, w) == 0;
}

bool is_path_token(const struct ptok *tk)
{
	if (tk->type == T_STRING)
		return true;
	return tk->type == T_WORD && (tk->text[0] == '/' || tk->text[0] == '@');
}

/* ---- modes ---- */

bool looks_like_mode(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!strchr("rwalkmxiupcUPCIRWMX", *s))
			return false;
	return true;
}

/* Upstream's mode grammar: r w a l k m, and exec: [i|u|U|p|P|c|C][i|u]x.
 * Errors follow parser_misc.c: w and a conflict; bare x only in deny
 * rules; deny rules take no exec qualifier; one exec mode per rule. */
int parse_mode(struct parser *P, const struct ptok *tk, uint32_t qual,
	       uint32_t *perms, struct xtrans *x)
{
	const char *s = tk->text;
	uint32_t p = 0;
	struct xtrans xt = { XT_NONE, 0, NULL };
	bool have_x = false;

	for (size_t i = 0; s[i]; i++) {
		char c = s[i];
		/* upstream still takes the old upper-case R W A L K M X */
		if (strchr("RWMX", c))
			c = (char)(c - 'A' + 'a');
		switch (c) {
		case 'r': p |= PERM_READ; break;
		case 'w': p |= PERM_WRITE; break;
		case 'a': p |= PERM_APPEND; break;
		case 'l': p |= PERM_LINK; break;
		case 'k': p |= PERM_LOCK; break;
		case 'm': p |= PERM_MMAP; break;
		case 'x':
			if (have_x) {
				diag_add(P->d, &tk->loc, 0,
					 "Invalid mode '%s': exec mode given twice", s);
				return -EINVAL;
			}
			have_x = true;
			if (!(qual & Q_DENY)) {
				diag_add(P->d, &tk->loc, 0,
					 "Invalid mode, 'x' must be preceded by exec qualifier 'i', 'p', 'c', or 'u'");
				return -EINVAL;
			}
			p |= PERM_EXEC;
			break;
		case 'i': case 'u': case 'U': case 'p': case 'P': case 'c': case 'C': {
			if (qual & Q_DENY) {
				diag_add(P->d, &tk->loc, 0,
					 "Invalid mode, in deny rules 'x' must not be preceded by exec qualifier 'i', 'p', or 'u'");
				return -EINVAL;
			}
			bool again = have_x;
			struct xtrans before = xt;
			const char *e = s + i;
			size_t n = 0;
			while (e[n] && strchr("iuUpPcCI", e[n]))
				n++;
			if (e[n] != 'x' && e[n] != 'X') {
				diag_add(P->d, &tk->loc, 0,
					 "Invalid mode '%s': exec qualifier '%c' needs 'x'", s, c);
				return -EINVAL;
			}
			/* valid spellings: ix ux Ux px Px cx Cx pix Pix cix Cix pux Pux cux Cux */
			uint8_t type, flags = 0;
			char a = e[0], b = n > 1 ? e[1] : 0;
			if (b == 'I' || b == 'U')
				b = (char)(b - 'A' + 'a'); /* pIx, PUx: either case */
			if (n > 2 || (n == 2 && (!strchr("pPcC", a) || !strchr("iu", b)))) {
				diag_add(P->d, &tk->loc, 0,
					 "Invalid mode '%s': conflicting x modifiers", s);
				return -EINVAL;
			}
			switch (a) {
			case 'i': type = XT_INHERIT; break;
			case 'u': type = XT_UNCONFINED; break;
			case 'U': type = XT_UNCONFINED; flags |= XF_SCRUB; break;
			case 'p': type = XT_PROFILE; break;
			case 'P': type = XT_PROFILE; flags |= XF_SCRUB; break;
			case 'c': type = XT_CHILD; break;
			default: type = XT_CHILD; flags |= XF_SCRUB; break;
			}
			if (b == 'i')
				flags |= XF_FALLBACK_IX;
			else if (b == 'u')
				flags |= XF_FALLBACK_UX;
			xt.type = type;
			xt.flags = flags;
			if (again && (before.type != type || before.flags != flags)) {
				/* "pxpx" is fine, "pxix" is not */
				diag_add(P->d, &tk->loc, 0,
					 "Invalid mode '%s': conflicting x modifiers", s);
				return -EINVAL;
			}
			have_x = true;
			p |= PERM_EXEC;
			i += n; /* the 'x' */
			break;
		}
		default:
			diag_add(P->d, &tk->loc, 0, "Invalid mode '%s': unknown access '%c'",
				 s, c);
			return -EINVAL;
		}
	}
	if ((p & PERM_WRITE) && (p & PERM_APPEND)) {
		diag_add(P->d, &tk->loc, 0,
			 "Conflict 'a' and 'w' perms are mutually exclusive.");
		return -EINVAL;
	}
	*perms = p;
	*x = xt;
	return 0;
}

/* ---- file and link ---- */

/* [file] PATH MODE [-> TARGET]  |  [file] MODE PATH [-> TARGET] */
int parse_file_rule(struct parser *P, struct toks *t, size_t i, struct rule *r)
{
	struct ptok *path = NULL, *mode = NULL;
	bool mode_first = false;
	/* "safe"/"unsafe" spell the environment scrubbing of an exec mode */
	int safety = 0;
	if (i < t->n && (is_word(&t->v[i], "safe") || is_word(&t->v[i], "unsafe"))) {
		safety = is_word(&t->v[i], "safe") ? 1 : -1;
		i++;
	}
	if (i < t->n && is_path_token(&t->v[i])) {
		path = &t->v[i++];
		if (i < t->n && t->v[i].type == T_WORD)
			mode = &t->v[i++];
	} else if (i < t->n && t->v[i].type == T_WORD && looks_like_mode(t->v[i].text)) {
		mode = &t->v[i++];
		mode_first = true;
		if (i < t->n && is_path_token(&t->v[i]))
			path = &t->v[i++];
	}
	if (!path) {
		diag_add(P->d, &t->v[i < t->n ? i : t->n - 1].loc, 0,
			 "syntax error: file rule needs an absolute path");
		return -EINVAL;
	}
	if (!mode) {
		diag_add(P->d, &path->loc, 0, "syntax error: file rule '%s' needs a mode",
			 path->text);
		return -EINVAL;
	}
	if (parse_mode(P, mode, r->qual, &r->perms, &r->x) < 0)
		return -EINVAL;
	if (safety && !(r->perms & PERM_EXEC)) {
		diag_add(P->d, &t->v[0].loc, 0, "safe/unsafe need an exec mode");
		return -EINVAL;
	}
	if (safety > 0)
		r->x.flags |= XF_SCRUB;
	else if (safety < 0)
		r->x.flags &= (uint8_t)~XF_SCRUB;
	if (i < t->n && t->v[i].type == T_ARROW) {
		i++;
		if (i >= t->n || (t->v[i].type != T_WORD && t->v[i].type != T_STRING)) {
			diag_add(P->d, &t->v[i - 1].loc, 0, "'->' needs a target");
			return -EINVAL;
		}
		if ((r->perms & PERM_LINK) && mode_first) {
			diag_add(P->d, &mode->loc, 0,
				 "link permission with '->' needs the 'link' rule form");
			return -EINVAL;
		}
		if ((r->perms & PERM_LINK) && !mode_first && t->v[i].text[0] == '/') {
			/* deprecated "/link lx -> /target": a link pair */
			r->path2 = strdup(t->v[i].text);
			r->x.type = r->x.type ? r->x.type : XT_NONE;
			i++;
			goto done;
		}
		if (r->x.type != XT_PROFILE && r->x.type != XT_CHILD) {
			diag_add(P->d, &t->v[i].loc, 0,
				 "a named transition ('->') needs px, Px, cx or Cx");
			return -EINVAL;
		}
		r->x.target = strdup(t->v[i].text);
		i++;
	}
done:
	if (i < t->n) {
		diag_add(P->d, &t->v[i].loc, 0, "syntax error, unexpected '%s' in file rule",
			 t->v[i].text);
		return -EINVAL;
	}
	if (path->text[0] == '\0') {
		diag_add(P->d, &path->loc, 0, "empty path");
		return -EINVAL;
	}
	r->path = strdup(path->text);
	return 0;
}

/* link [subset] PATH -> TARGET */
int parse_link_rule(struct parser *P, struct toks *t, size_t i, struct rule *r)
{
	if (i < t->n && is_word(&t->v[i], "subset")) {
		r->subset = true;
		i++;
	}
	if (i + 3 != t->n || !is_path_token(&t->v[i]) ||
	    t->v[i + 1].type != T_ARROW || !is_path_token(&t->v[i + 2])) {
		diag_add(P->d, &t->v[i < t->n ? i : t->n - 1].loc, 0,
			 "syntax error: expected 'link [subset] /path -> /target,'");
		return -EINVAL;
	}
	r->path = strdup(t->v[i].text);
	r->path2 = strdup(t->v[i + 2].text);
	r->perms = PERM_LINK;
	return 0;
}

/* ---- capability ---- */

int parse_cap_rule(struct parser *P, struct toks *t, size_t i, struct rule *r)
{
	if (i == t->n) {
		r->caps = ~0ull;
		return 0;
	}
	int rc = 0;
	for (; i < t->n; i++) {
		struct ptok *k = &t->v[i];
		int c = k->type == T_WORD ? capability_from_name(k->text) : -1;
		if (c < 0) {
			diag_add(P->d, &k->loc, 0, "Invalid capability %s.", k->text);
			rc = -EINVAL;
			continue;
		}
		r->caps |= 1ull << c;
	}
	return rc;
}

/* ---- network ---- */

static const struct {
	const char *name;
	int af;
} domains[] = {
	{ "unspec", AF_UNSPEC }, { "unix", AF_UNIX },
	{ "inet", AF_INET }, { "ax25", AF_AX25 }, { "ipx", AF_IPX },
	{ "appletalk", AF_APPLETALK }, { "netrom", AF_NETROM },
	{ "bridge", AF_BRIDGE }, { "atmpvc", AF_ATMPVC }, { "x25", AF_X25 },
	{ "inet6", AF_INET6 }, { "rose", AF_ROSE }, { "netbeui", AF_NETBEUI },
	{ "security", AF_SECURITY }, { "key", AF_KEY }, { "netlink", AF_NETLINK },
	{ "packet", AF_PACKET }, { "ash", AF_ASH }, { "econet", AF_ECONET },
	{ "atmsvc", AF_ATMSVC }, { "rds", AF_RDS }, { "sna", AF_SNA },
	{ "irda", AF_IRDA }, { "pppox", AF_PPPOX }, { "wanpipe", AF_WANPIPE },
	{ "llc", AF_LLC }, { "ib", AF_IB }, { "mpls", AF_MPLS }, { "can", AF_CAN },
	{ "tipc", AF_TIPC }, { "bluetooth", AF_BLUETOOTH }, { "iucv", AF_IUCV },
	{ "rxrpc", AF_RXRPC }, { "isdn", AF_ISDN }, { "phonet", AF_PHONET },
	{ "ieee802154", AF_IEEE802154 }, { "caif", AF_CAIF }, { "alg", AF_ALG },
	{ "nfc", AF_NFC }, { "vsock", AF_VSOCK }, { "kcm", AF_KCM },
	{ "qipcrtr", AF_QIPCRTR }, { "smc", AF_SMC }, { "xdp", 44 },
	{ "mctp", 45 }, { NULL, 0 } };

static const struct {
	const char *name;
	int type;
} types[] = { { "stream", SOCK_STREAM }, { "dgram", SOCK_DGRAM },
	      { "seqpacket", SOCK_SEQPACKET }, { "rdm", SOCK_RDM },
	      { "raw", SOCK_RAW }, { "packet", SOCK_PACKET }, { NULL, 0 } };

static const struct {
	const char *name;
	int proto, type;
} protos[] = { { "tcp", IPPROTO_TCP, SOCK_STREAM }, { "udp", IPPROTO_UDP, SOCK_DGRAM },
	       { "icmp", IPPROTO_ICMP, SOCK_RAW }, { NULL, 0, 0 } };

static const struct {
	const char *name;
	uint32_t bit;
} net_access[] = {
	{ "create", NET_CREATE }, { "bind", NET_BIND }, { "listen", NET_LISTEN },
	{ "accept", NET_ACCEPT }, { "connect", NET_CONNECT }, { "send", NET_SEND },
	{ "receive", NET_RECEIVE }, { "shutdown", NET_SHUTDOWN },
	{ "getattr", NET_GETATTR }, { "setattr", NET_SETATTR },
	{ "getopt", NET_GETOPT }, { "setopt", NET_SETOPT },
	{ "r", NET_RECEIVE | NET_GETATTR | NET_GETOPT },
	{ "w", NET_SEND | NET_SETATTR | NET_SETOPT },
	{ "rw", NET_ALL }, { "read", NET_RECEIVE | NET_GETATTR | NET_GETOPT },
	{ "write", NET_SEND | NET_SETATTR | NET_SETOPT }, { NULL, 0 } };

int net_domain_from_name(const char *n)
{
	for (int i = 0; domains[i].name; i++)
		if (!strcmp(domains[i].name, n))
			return domains[i].af == -2 ? AF_UNIX : domains[i].af;
	return -1;
}

const char *net_domain_name(int af)
{
	for (int i = 0; domains[i].name; i++)
		if (domains[i].af == af)
			return domains[i].name;
	return NULL;
}

const char *net_type_name(int type)
{
	for (int i = 0; types[i].name; i++)
		if (types[i].type == type)
			return types[i].name;
	return NULL;
}

int net_type_from_name(const char *n)
{
	for (int i = 0; types[i].name; i++)
		if (!strcmp(types[i].name, n))
			return types[i].type;
	if (!strcmp(n, "seq_packet"))
		return SOCK_SEQPACKET;
	return -1;
}

static int parse_port(const char *s, uint16_t *lo, uint16_t *hi)
{
	char *e;
	if (!isdigit((unsigned char)s[0]))
		return -EINVAL;
	unsigned long a = strtoul(s, &e, 10), b;
	if (a > 65535)
		return -EINVAL;
	if (*e == '-') {
		if (!isdigit((unsigned char)e[1]))
			return -EINVAL;
		b = strtoul(e + 1, &e, 10);
		if (*e || b > 65535 || b < a)
			return -EINVAL;
	} else if (*e) {
		return -EINVAL;
	} else {
		b = a;
	}
	*lo = (uint16_t)a;
	*hi = (uint16_t)b;
	return 0;
}

static int parse_ip(const char *s, struct net_addr *a)
{
	char buf[128];
	if (!strcmp(s, "none")) {
		a->has_ip = 2;
		return 0;
	}
	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	/* upstream takes single addresses (no masks or ranges) */
	if (inet_pton(AF_INET, buf, a->ip) == 1) {
		a->has_ip = 1;
		a->ip_family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, buf, a->ip) == 1) {
		a->has_ip = 1;
		a->ip_family = AF_INET6;
		return 0;
	}
	return -EINVAL;
}

/* key=value pairs: ip= port= (and inside peer=( ... )) */
static int parse_addr_kv(struct parser *P, struct toks *t, size_t *i,
			 struct net_addr *a, bool *seen_any)
{
	struct ptok *k = &t->v[*i];
	bool ip = is_word(k, "ip"), port = is_word(k, "port");
	if (is_word(k, "label:"))
		k->text[5] = '\0'; /* label:=X sets the label; checked like label=X */
	if ((is_word(k, "label") || is_word(k, "label:") || is_word(k, "interface")) &&
	    *i + 2 < t->n &&
	    (t->v[*i + 1].type == T_EQ || t->v[*i + 1].type == T_COLONEQ) &&
	    (t->v[*i + 2].type == T_WORD || t->v[*i + 2].type == T_STRING)) {
		/* labels and interfaces: checked, not enforced by nftables */
		*i += 3;
		*seen_any = true;
		return 0;
	}
	if (!ip && !port)
		return 1;
	if (*i + 2 >= t->n + 0 || t->v[*i + 1].type != T_EQ ||
	    t->v[*i + 2].type != T_WORD) {
		diag_add(P->d, &k->loc, 0, "%s needs '=value'", k->text);
		return -EINVAL;
	}
	struct ptok *v = &t->v[*i + 2];
	*i += 3;
	*seen_any = true;
	if (ip) {
		if (a->has_ip) {
			diag_add(P->d, &k->loc, 0, "ip= given twice");
			return -EINVAL;
		}
		if (parse_ip(v->text, a) < 0) {
			diag_add(P->d, &v->loc, 0, "invalid ip address '%s'", v->text);
			return -EINVAL;
		}
	} else {
		if (a->port_lo || a->port_hi != 65535) {
			diag_add(P->d, &k->loc, 0, "port= given twice");
			return -EINVAL;
		}
		if (parse_port(v->text, &a->port_lo, &a->port_hi) < 0) {
			diag_add(P->d, &v->loc, 0, "invalid port '%s' (0-65535 or lo-hi)",
				 v->text);
			return -EINVAL;
		}
	}
	return 0;
}

int parse_net_rule(struct parser *P, struct toks *t, size_t i, struct rule *r)
{
	struct net_rule *n = &r->net;
	bool fine = false, has_type = false, has_proto = false, has_dom = false;
	bool has_peer = false, local_only = false;
	static const char *const local_words[] = { "create", "bind", "listen",
		"shutdown", "getattr", "setattr", "getopt", "setopt", NULL };
	n->access = NET_ALL;
	n->local.port_hi = n->peer.port_hi = 65535;
	n->deny = !!(r->qual & Q_DENY);
	n->audit = !!(r->qual & Q_AUDIT);

	/* access: a word or a (list) right after "network" */
	if (i < t->n && t->v[i].type == T_LPAREN) {
		uint32_t acc = 0;
		for (i++; i < t->n && t->v[i].type != T_RPAREN; i++) {
			int j;
			if (t->v[i].type == T_COMMA)
				continue;
			for (j = 0; net_access[j].name; j++)
				if (is_word(&t->v[i], net_access[j].name))
					break;
			if (!net_access[j].name) {
				diag_add(P->d, &t->v[i].loc, 0, "invalid network access '%s'",
					 t->v[i].text);
				return -EINVAL;
			}
			acc |= net_access[j].bit;
			for (int m = 0; local_words[m]; m++)
				local_only |= is_word(&t->v[i], local_words[m]);
		}
		if (i >= t->n) {
			diag_add(P->d, &t->end, 0, "unterminated access list");
			return -EINVAL;
		}
		i++;
		n->access = acc;
	} else if (i < t->n && t->v[i].type == T_WORD) {
		for (int j = 0; net_access[j].name; j++)
			if (is_word(&t->v[i], net_access[j].name)) {
				n->access = net_access[j].bit;
				for (int m = 0; local_words[m]; m++)
					local_only |= is_word(&t->v[i], local_words[m]);
				i++;
				break;
			}
	}
	for (; i < t->n; i++) {
		struct ptok *k = &t->v[i];
		int v;
		if (k->type != T_WORD) {
			diag_add(P->d, &k->loc, 0, "syntax error, unexpected '%s' in network rule",
				 k->text);
			return -EINVAL;
		}
		if (!has_dom && !has_type && !has_proto && !fine &&
		    (v = net_domain_from_name(k->text)) >= 0) {
			n->family = (uint16_t)v;
			has_dom = true;
			continue;
		}
		if (!has_type && !has_proto && !fine && (v = net_type_from_name(k->text)) >= 0) {
			n->type = (uint16_t)v;
			has_type = true;
			continue;
		}
		int j;
		for (j = 0; protos[j].name; j++)
			if (!strcmp(protos[j].name, k->text))
				break;
		if (protos[j].name && !has_proto && !fine) {
			if (has_type) {
				diag_add(P->d, &k->loc, 0,
					 "network rule takes a type or a protocol, not both");
				return -EINVAL;
			}
			n->protocol = (uint16_t)protos[j].proto;
			has_proto = true;
			continue;
		}
		if (is_word(k, "ip") || is_word(k, "port") || is_word(k, "interface") ||
		    is_word(k, "label")) {
			bool seen = false;
			int rc = parse_addr_kv(P, t, &i, &n->local, &seen);
			if (rc)
				return -EINVAL;
			i--;
			fine = true;
			continue;
		}
		if (is_word(k, "peer")) {
			if (i + 2 >= t->n || t->v[i + 1].type != T_EQ ||
			    t->v[i + 2].type != T_LPAREN) {
				diag_add(P->d, &k->loc, 0, "peer needs '=(ip=... port=...)'");
				return -EINVAL;
			}
			i += 3;
			bool seen = false;
			while (i < t->n && t->v[i].type != T_RPAREN) {
				int rc = parse_addr_kv(P, t, &i, &n->peer, &seen);
				if (rc) {
					if (rc > 0)
						diag_add(P->d, &t->v[i].loc, 0,
							 "unexpected '%s' in peer=( )", t->v[i].text);
					return -EINVAL;
				}
			}
			if (i >= t->n || !seen) {
				diag_add(P->d, &k->loc, 0, "peer=( ) needs ip= or port=");
				return -EINVAL;
			}
			fine = true;
			has_peer = true;
			continue;
		}
		diag_add(P->d, &k->loc, 0, "Invalid network entry '%s'", k->text);
		return -EINVAL;
	}
	if (has_peer && local_only) {
		diag_add(P->d, &t->v[0].loc, 0,
			 "peer=( ) only applies to connect, accept, send and receive");
		return -EINVAL;
	}
	if (fine && has_dom && n->family != AF_INET && n->family != AF_INET6) {
		diag_add(P->d, &t->v[0].loc, 0,
			 "ip= and port= apply only to inet and inet6 rules");
		return -EINVAL;
	}
	/* an address of the other family is accepted, as upstream does
	 * (network inet ip=fe80::1): it simply matches no inet packet */
	return 0;
}

/* ---- rlimit ---- */

static const struct {
	const char *name;
	int res;
	char unit; /* 's' size, 't' time (cpu: seconds), 'u' rttime (us), 'n' number, 'i' nice */
} rlimits[] = {
	{ "cpu", RLIMIT_CPU, 't' }, { "fsize", RLIMIT_FSIZE, 's' },
	{ "data", RLIMIT_DATA, 's' }, { "stack", RLIMIT_STACK, 's' },
	{ "core", RLIMIT_CORE, 's' }, { "rss", RLIMIT_RSS, 's' },
	{ "nproc", RLIMIT_NPROC, 'n' }, { "nofile", RLIMIT_NOFILE, 'n' },
	{ "ofile", RLIMIT_NOFILE, 'n' }, { "as", RLIMIT_AS, 's' },
	{ "memlock", RLIMIT_MEMLOCK, 's' }, { "locks", RLIMIT_LOCKS, 'n' },
	{ "sigpending", RLIMIT_SIGPENDING, 'n' },
	{ "msgqueue", RLIMIT_MSGQUEUE, 's' }, { "nice", RLIMIT_NICE, 'i' },
	{ "rtprio", RLIMIT_RTPRIO, 'n' }, { "rttime", RLIMIT_RTTIME, 'u' },
	{ NULL, 0, 0 } };

static int unit_mult(char kind, const char *u, uint64_t *m)
{
	static const struct {
		const char *u;
		uint64_t m;
	} sz[] = { { "", 1 }, { "K", 1024 }, { "KB", 1024 }, { "M", 1 << 20 },
		   { "MB", 1 << 20 }, { "G", 1 << 30 }, { "GB", 1 << 30 },
		   { NULL, 0 } },
	  tm[] = { { "", 1 }, { "s", 1 }, { "sec", 1 }, { "second", 1 },
		   { "seconds", 1 }, { "min", 60 }, { "minute", 60 },
		   { "minutes", 60 }, { "h", 3600 }, { "hour", 3600 },
		   { "hours", 3600 }, { "d", 86400 }, { "day", 86400 },
		   { "days", 86400 }, { "week", 604800 }, { "weeks", 604800 },
		   { NULL, 0 } },
	  us[] = { { "", 1 }, { "us", 1 }, { "microsecond", 1 },
		   { "microseconds", 1 }, { "ms", 1000 }, { "millisecond", 1000 },
		   { "milliseconds", 1000 }, { "s", 1000000 }, { "sec", 1000000 },
		   { "second", 1000000 }, { "seconds", 1000000 },
		   { "min", 60000000 }, { "minute", 60000000 },
		   { "minutes", 60000000 }, { "h", 3600000000ull },
		   { "hour", 3600000000ull }, { "hours", 3600000000ull },
		   { "d", 86400000000ull }, { "day", 86400000000ull },
		   { "days", 86400000000ull }, { "week", 604800000000ull },
		   { "weeks", 604800000000ull }, { NULL, 0 } };
	const __typeof__(sz[0]) *tab = kind == 's' ? sz : kind == 't' ? tm : kind == 'u' ? us : NULL;
	if (!tab)
		return *u ? -EINVAL : (*m = 1, 0);
	for (int i = 0; tab[i].u; i++)
		if (!strcmp(tab[i].u, u)) {
			*m = tab[i].m;
			return 0;
		}
	return -EINVAL;
}

int parse_rlimit_rule(struct parser *P, struct toks *t, size_t i, struct rule *r)
{
	if (i + 4 != t->n || !is_word(&t->v[i], "rlimit") || t->v[i + 2].type != T_LE ||
	    t->v[i + 3].type != T_WORD) {
		diag_add(P->d, &t->v[0].loc, 0,
			 "syntax error: expected 'set rlimit NAME <= VALUE,'");
		return -EINVAL;
	}
	struct ptok *name = &t->v[i + 1], *val = &t->v[i + 3];
	int j;
	for (j = 0; rlimits[j].name; j++)
		if (is_word(name, rlimits[j].name))
			break;
	if (!rlimits[j].name) {
		diag_add(P->d, &name->loc, 0, "invalid rlimit '%s'", name->text);
		return -EINVAL;
	}
	r->rlimit.resource = rlimits[j].res;
	if (!strcmp(val->text, "infinity")) {
		if (rlimits[j].unit == 'i') {
			diag_add(P->d, &val->loc, 0, "nice cannot be infinity");
			return -EINVAL;
		}
		r->rlimit.value = RLIM_INFINITY;
		return 0;
	}
	char *e;
	errno = 0;
	if (rlimits[j].unit == 'i') {
		long v = strtol(val->text, &e, 10);
		if (*e || e == val->text || v < -20 || v > 19) {
			diag_add(P->d, &val->loc, 0, "invalid nice value '%s' (-20..19)",
				 val->text);
			return -EINVAL;
		}
		r->rlimit.value = (uint64_t)(20 - v); /* RLIMIT_NICE is 20 - nice */
		return 0;
	}
	if (!isdigit((unsigned char)val->text[0])) {
		diag_add(P->d, &val->loc, 0, "invalid rlimit value '%s'", val->text);
		return -EINVAL;
	}
	unsigned long long v = strtoull(val->text, &e, 10);
	uint64_t m;
	if (errno || unit_mult(rlimits[j].unit, e, &m) < 0) {
		diag_add(P->d, &val->loc, 0, "invalid rlimit value '%s'%s", val->text,
			 *e ? ": unknown or ambiguous unit" : "");
		return -EINVAL;
	}
	if (m && v > UINT64_MAX / m) {
		diag_add(P->d, &val->loc, 0, "rlimit value '%s' too large", val->text);
		return -EINVAL;
	}
	r->rlimit.value = v * m;
	return 0;
}

