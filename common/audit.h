/* audit.h: AppArmor-format log lines, and a rate-limited sink for them.
 *
 * Format (what auditd writes for the kernel's AVC records, which AppArmor
 * users grep for):
 *   type=AVC msg=audit(1700000000.123:45): apparmor="DENIED" operation="open"
 *   class="file" profile="foo" name="/etc/shadow" pid=42 comm="cat"
 *   requested_mask="r" denied_mask="r" fsuid=1000 ouid=0
 * Fields that are unset are left out, in the kernel's order.
 */
#ifndef CAPGATE_AUDIT_H
#define CAPGATE_AUDIT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum audit_kind { AUDIT_DENIED, AUDIT_ALLOWED, AUDIT_AUDIT, AUDIT_KIND_MAX };

struct audit_event {
	enum audit_kind kind;  /* DENIED, ALLOWED (complain mode), AUDIT */
	const char *operation; /* "open", "mkdir", "exec", "capable", "connect" */
	const char *klass;     /* "file", "net", "cap", "rlimits", ... or NULL */
	const char *profile;
	const char *name;   /* path, or NULL */
	const char *target; /* link/rename/exec target (target=), or NULL */
	const char *info;   /* info="...", or NULL */
	pid_t pid;          /* 0: left out */
	const char *comm;   /* NULL: left out */
	const char *requested; /* requested_mask, NULL: left out */
	const char *denied;    /* denied_mask, NULL: left out */
	long fsuid, ouid;      /* -1: left out */
	int capability;        /* -1: left out; else capability= and capname= */
	/* network */
	const char *family, *sock_type, *protocol; /* names, NULL: left out */
	const char *laddr, *faddr; /* NULL: left out */
	int lport, fport;          /* -1: left out */
	int error;                 /* error=-13, 0: left out */
};

void audit_event_init(struct audit_event *ev); /* all fields "left out" */

/* Format one line (no trailing newline) with the given timestamp and serial.
 * Strings with spaces, quotes or control bytes are hex-encoded, as the
 * kernel does. Returns the length it needed (like snprintf). */
size_t audit_format(const struct audit_event *ev, uint64_t sec, unsigned msec,
		    uint64_t serial, char *buf, size_t len);

const char *capability_name(int cap); /* "chown", NULL when unknown */
int capability_from_name(const char *name); /* -1 when unknown */

/* A sink: a file descriptor (a --log file, appended) or syslog when fd < 0.
 * Rate-limited: at most `burst` lines per second, then one "suppressed N"
 * line, so a loop of denials cannot fill the disk. Thread-safe. */
struct audit_sink;
struct audit_sink *audit_sink_open(const char *path, unsigned burst);
/* The same on an open fd (taken over; -1: syslog). */
struct audit_sink *audit_sink_open_fd(int fd, unsigned burst);
void audit_emit(struct audit_sink *s, const struct audit_event *ev);
void audit_sink_close(struct audit_sink *s);

#endif
