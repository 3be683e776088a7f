/* audit.c: AppArmor-format log lines (audit.h) and a rate-limited sink.
 *
 * Field order follows the kernel's AppArmor audit path: audit_pre() writes
 * apparmor= operation= class= info= error= profile= name=, then the LSM's
 * common data writes pid= comm= (and capability= / addresses), then the
 * class callback writes capname=, the network triple, the masks, fsuid=
 * ouid= and target=. Untrusted strings (names, comm, profile) are printed
 * the way audit_log_untrustedstring() does: quoted when clean, upper-case
 * hex when they hold a quote, a space, a control byte or a byte above 0x7e.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include "audit.h"

void audit_event_init(struct audit_event *ev)
{
	memset(ev, 0, sizeof *ev);
	ev->fsuid = -1;
	ev->ouid = -1;
	ev->capability = -1;
	ev->lport = -1;
	ev->fport = -1;
}

/* A bounded appender: keeps counting past the end like snprintf. */
struct out {
	char *buf;
	size_t len, pos;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->pos < o->len) {
		size_t room = o->len - o->pos;
		memcpy(o->buf + o->pos, s, n < room ? n : room);
	}
	o->pos += n;
}

static void putf(struct out *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void putf(struct out *o, const char *fmt, ...)
{
	char tmp[128];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (n > 0)
		put(o, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

static int needs_hex(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p == '"' || *p < 0x21 || *p > 0x7e)
			return 1;
	return 0;
}

/* key="value", or key=HEX for untrusted strings that need it. */
static void put_untrusted(struct out *o, const char *key, const char *val)
{
	static const char hex[] = "0123456789ABCDEF";
	putf(o, " %s=", key);
	if (!needs_hex(val)) {
		put(o, "\"", 1);
		put(o, val, strlen(val));
		put(o, "\"", 1);
		return;
	}
	for (const unsigned char *p = (const unsigned char *)val; *p; p++) {
		char h[2] = { hex[*p >> 4], hex[*p & 15] };
		put(o, h, 2);
	}
}

/* key="value" for trusted strings (operation, info, masks), as the kernel
 * prints them with a plain %s. Quotes would break the line: drop them. */
static void put_quoted(struct out *o, const char *key, const char *val)
{
	putf(o, " %s=\"", key);
	for (const char *p = val; *p; p++)
		if (*p != '"' && *p != '\n')
			put(o, p, 1);
	put(o, "\"", 1);
}

static int all_digits(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

static const char *const kind_names[AUDIT_KIND_MAX] = {
	[AUDIT_DENIED] = "DENIED",
	[AUDIT_ALLOWED] = "ALLOWED",
	[AUDIT_AUDIT] = "AUDIT",
};

size_t audit_format(const struct audit_event *ev, uint64_t sec, unsigned msec,
		    uint64_t serial, char *buf, size_t len)
{
	struct out o = { buf, len, 0 };
	const char *kind = ev->kind < AUDIT_KIND_MAX ? kind_names[ev->kind] : "?";

	putf(&o, "type=AVC msg=audit(%llu.%03u:%llu):", (unsigned long long)sec,
	     msec % 1000, (unsigned long long)serial);
	putf(&o, " apparmor=\"%s\"", kind);
	if (ev->operation)
		put_quoted(&o, "operation", ev->operation);
	if (ev->klass)
		put_quoted(&o, "class", ev->klass);
	if (ev->info)
		put_quoted(&o, "info", ev->info);
	if (ev->error)
		putf(&o, " error=%d", ev->error);
	if (ev->profile)
		put_untrusted(&o, "profile", ev->profile);
	if (ev->name)
		put_untrusted(&o, "name", ev->name);
	if (ev->pid > 0)
		putf(&o, " pid=%d", (int)ev->pid);
	if (ev->comm)
		put_untrusted(&o, "comm", ev->comm);
	if (ev->capability >= 0) /* lsm_audit.c's " capability=%d ": two spaces */
		putf(&o, " capability=%d ", ev->capability);
	if (ev->laddr)
		putf(&o, " laddr=%s", ev->laddr);
	if (ev->lport >= 0)
		putf(&o, " lport=%d", ev->lport);
	if (ev->faddr)
		putf(&o, " faddr=%s", ev->faddr);
	if (ev->fport >= 0)
		putf(&o, " fport=%d", ev->fport);
	if (ev->capability >= 0) {
		const char *cn = capability_name(ev->capability);
		if (cn)
			put_quoted(&o, "capname", cn);
	}
	if (ev->family)
		put_quoted(&o, "family", ev->family);
	if (ev->sock_type)
		put_quoted(&o, "sock_type", ev->sock_type);
	if (ev->protocol) {
		if (all_digits(ev->protocol))
			putf(&o, " protocol=%s", ev->protocol);
		else
			put_quoted(&o, "protocol", ev->protocol);
	}
	if (ev->requested)
		put_quoted(&o, "requested_mask", ev->requested);
	if (ev->denied)
		put_quoted(&o, "denied_mask", ev->denied);
	if (ev->fsuid >= 0)
		putf(&o, " fsuid=%ld", ev->fsuid);
	if (ev->ouid >= 0)
		putf(&o, " ouid=%ld", ev->ouid);
	if (ev->target)
		put_untrusted(&o, "target", ev->target);
	if (len)
		buf[o.pos < len ? o.pos : len - 1] = '\0';
	return o.pos;
}

/* capability_name()/capability_from_name() live in capability.c. */

/* ---- The sink ---- */

#define AUDIT_LINE_MAX 8192

struct audit_sink {
	int fd; /* -1: syslog */
	unsigned burst; /* 0: unlimited */
	pthread_mutex_t mu;
	/* protected by mu */
	uint64_t serial;
	time_t window;      /* the second being counted */
	unsigned in_window; /* lines written in it */
	uint64_t suppressed;
};

struct audit_sink *audit_sink_open_fd(int fd, unsigned burst)
{
	struct audit_sink *s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	s->fd = fd;
	s->burst = burst;
	/* Serials stand for the kernel's audit counter: unique across the
	 * processes (fsgate, the launcher) that append to one log. */
	s->serial = (uint64_t)getpid() * 1000000;
	pthread_mutex_init(&s->mu, NULL);
	if (fd < 0)
		openlog("capgate", LOG_PID | LOG_NDELAY, LOG_AUTHPRIV);
	return s;
}

struct audit_sink *audit_sink_open(const char *path, unsigned burst)
{
	int fd = -1;
	if (path) {
		fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);
		if (fd < 0)
			return NULL;
	}
	struct audit_sink *s = audit_sink_open_fd(fd, burst);
	if (!s && fd >= 0) {
		int e = errno;
		close(fd);
		errno = e;
	}
	return s;
}

/* Called with mu held. One write() per line so lines from several
 * processes appending to one file never interleave. */
static void sink_write(struct audit_sink *s, char *line, size_t n)
{
	if (s->fd < 0) {
		syslog(LOG_NOTICE, "%s", line);
		return;
	}
	line[n] = '\n';
	ssize_t w;
	do
		w = write(s->fd, line, n + 1);
	while (w < 0 && errno == EINTR);
	line[n] = '\0';
}

static void flush_suppressed(struct audit_sink *s, const struct timespec *ts)
{
	char line[160], info[64];
	struct audit_event ev;
	if (!s->suppressed)
		return;
	audit_event_init(&ev);
	ev.kind = AUDIT_AUDIT;
	ev.operation = "ratelimit";
	snprintf(info, sizeof info, "suppressed %llu",
		 (unsigned long long)s->suppressed);
	ev.info = info;
	size_t n = audit_format(&ev, (uint64_t)ts->tv_sec,
				(unsigned)(ts->tv_nsec / 1000000), ++s->serial,
				line, sizeof line - 1);
	if (n >= sizeof line - 1)
		n = sizeof line - 2;
	sink_write(s, line, n);
	s->suppressed = 0;
}

void audit_emit(struct audit_sink *s, const struct audit_event *ev)
{
	static __thread char line[AUDIT_LINE_MAX + 1];
	struct timespec ts;
	if (!s)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	pthread_mutex_lock(&s->mu);
	if (ts.tv_sec != s->window) {
		flush_suppressed(s, &ts);
		s->window = ts.tv_sec;
		s->in_window = 0;
	}
	if (s->burst && s->in_window >= s->burst) {
		s->suppressed++;
		pthread_mutex_unlock(&s->mu);
		return;
	}
	s->in_window++;
	size_t n = audit_format(ev, (uint64_t)ts.tv_sec,
				(unsigned)(ts.tv_nsec / 1000000), ++s->serial,
				line, AUDIT_LINE_MAX);
	if (n >= AUDIT_LINE_MAX)
		n = AUDIT_LINE_MAX - 1; /* truncated, still one line */
	sink_write(s, line, n);
	pthread_mutex_unlock(&s->mu);
}

void audit_sink_close(struct audit_sink *s)
{
	struct timespec ts;
	if (!s)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	pthread_mutex_lock(&s->mu);
	flush_suppressed(s, &ts);
	pthread_mutex_unlock(&s->mu);
	if (s->fd >= 0)
		close(s->fd);
	else
		closelog();
	pthread_mutex_destroy(&s->mu);
	free(s);
}
