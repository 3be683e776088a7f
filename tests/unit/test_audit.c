/* test_audit.c: AppArmor log lines (common/audit.h) and fsgate's pure
 * helpers (mask letters, cgroup labels). Exits non-zero on any failure. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "fsgate/fsg.h"

#include "check.h"

static void expect_line(const struct audit_event *ev, const char *want)
{
	char buf[1024];
	size_t n = audit_format(ev, 1700000000, 123, 45, buf, sizeof buf);
	CHECK(n == strlen(buf), "length %zu vs %zu", n, strlen(buf));
	CHECK(strcmp(buf, want) == 0, "\n got  %s\n want %s", buf, want);
}

static void test_file_line(void)
{
	struct audit_event ev;
	audit_event_init(&ev);
	ev.kind = AUDIT_DENIED;
	ev.operation = "open";
	ev.klass = "file";
	ev.profile = "foo";
	ev.name = "/etc/shadow";
	ev.pid = 42;
	ev.comm = "cat";
	ev.requested = "r";
	ev.denied = "r";
	ev.fsuid = 1000;
	ev.ouid = 0;
	expect_line(&ev, "type=AVC msg=audit(1700000000.123:45): apparmor=\"DENIED\" "
		    "operation=\"open\" class=\"file\" profile=\"foo\" name=\"/etc/shadow\" "
		    "pid=42 comm=\"cat\" requested_mask=\"r\" denied_mask=\"r\" fsuid=1000 ouid=0");
	/* untrusted strings with a space, a quote or a high byte: hex */
	ev.name = "/a b";
	ev.comm = "x\"y";
	ev.target = "/t\xc3\xa9";
	ev.kind = AUDIT_ALLOWED;
	expect_line(&ev, "type=AVC msg=audit(1700000000.123:45): apparmor=\"ALLOWED\" "
		    "operation=\"open\" class=\"file\" profile=\"foo\" name=2F612062 "
		    "pid=42 comm=782279 requested_mask=\"r\" denied_mask=\"r\" fsuid=1000 "
		    "ouid=0 target=2F74C3A9");
}

static void test_other_lines(void)
{
	struct audit_event ev;
	audit_event_init(&ev);
	/* all left out but the kind */
	expect_line(&ev, "type=AVC msg=audit(1700000000.123:45): apparmor=\"DENIED\"");
	ev.kind = AUDIT_AUDIT;
	ev.operation = "capable";
	ev.klass = "cap";
	ev.profile = "p";
	ev.pid = 7;
	ev.comm = "ping";
	ev.capability = 13;
	expect_line(&ev, "type=AVC msg=audit(1700000000.123:45): apparmor=\"AUDIT\" "
		    "operation=\"capable\" class=\"cap\" profile=\"p\" pid=7 comm=\"ping\" "
		    "capability=13  capname=\"net_raw\"");
	audit_event_init(&ev);
	ev.operation = "create";
	ev.klass = "net";
	ev.info = "failed";
	ev.error = -13;
	ev.profile = "p";
	ev.family = "inet";
	ev.sock_type = "raw";
	ev.protocol = "1";
	ev.requested = "create";
	ev.denied = "create";
	expect_line(&ev, "type=AVC msg=audit(1700000000.123:45): apparmor=\"DENIED\" "
		    "operation=\"create\" class=\"net\" info=\"failed\" error=-13 profile=\"p\" "
		    "family=\"inet\" sock_type=\"raw\" protocol=1 requested_mask=\"create\" "
		    "denied_mask=\"create\"");
	ev.protocol = "tcp";
	ev.laddr = "127.0.0.1";
	ev.lport = 80;
	char buf[512];
	audit_format(&ev, 1, 2, 3, buf, sizeof buf);
	CHECK(strstr(buf, " laddr=127.0.0.1 lport=80 family=\"inet\"") != NULL, "%s", buf);
	CHECK(strstr(buf, " protocol=\"tcp\"") != NULL, "%s", buf);
	/* truncation behaves like snprintf */
	char small[16];
	size_t n = audit_format(&ev, 1, 2, 3, small, sizeof small);
	CHECK(n > sizeof small && strlen(small) == sizeof small - 1, "trunc %zu", n);
}

static void test_sink(void)
{
	char path[] = "/tmp/test_audit.XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0, "mkstemp");
	close(fd);
	struct audit_sink *s = audit_sink_open(path, 3);
	CHECK(s != NULL, "open sink");
	struct audit_event ev;
	audit_event_init(&ev);
	ev.operation = "open";
	for (int i = 0; i < 10; i++)
		audit_emit(s, &ev);
	audit_sink_close(s);
	FILE *f = fopen(path, "r");
	char line[512];
	int lines = 0, denied = 0, suppressed = 0;
	while (f && fgets(line, sizeof line, f)) {
		lines++;
		denied += strstr(line, "apparmor=\"DENIED\"") != NULL;
		if (strstr(line, "info=\"suppressed "))
			suppressed = atoi(strstr(line, "suppressed ") + 11);
	}
	if (f)
		fclose(f);
	unlink(path);
	/* 3 lines a second; the test may straddle a second boundary */
	CHECK(denied >= 3 && denied <= 6, "denied %d", denied);
	CHECK(denied + suppressed == 10, "denied %d + suppressed %d", denied, suppressed);
	CHECK(lines == denied + (suppressed ? 1 : 0) ||
	      lines == denied + 2, "lines %d", lines);
	CHECK(audit_sink_open("/nonexistent/dir/log", 1) == NULL && errno == ENOENT,
	      "bad path");
}

static void test_masks(void)
{
	char b[16];
	fsg_mask_str(PERM_READ | PERM_WRITE, MS_PLAIN, b, sizeof b);
	CHECK(strcmp(b, "wr") == 0, "%s", b);
	fsg_mask_str(PERM_WRITE, MS_CREATE, b, sizeof b);
	CHECK(strcmp(b, "c") == 0, "%s", b);
	fsg_mask_str(PERM_WRITE, MS_DELETE, b, sizeof b);
	CHECK(strcmp(b, "d") == 0, "%s", b);
	fsg_mask_str(PERM_ALL, MS_PLAIN, b, sizeof b);
	CHECK(strcmp(b, "xwrakml") == 0, "%s", b);
	fsg_mask_str(0, MS_PLAIN, b, sizeof b);
	CHECK(strcmp(b, "") == 0, "%s", b);
}

static void test_cgroup_labels(void)
{
	char l[64];
	const char *cg = "12:pids:/x\n0::/capgate/sb1\n";
	CHECK(fsg_label_from_cgroup(cg, "/capgate/sb1", l, sizeof l) == 0 && !*l, "self");
	CHECK(fsg_label_from_cgroup(cg, "/capgate/sb1/", l, sizeof l) == 0, "slash");
	CHECK(fsg_label_from_cgroup(cg, "/capgate", l, sizeof l) == 1 &&
	      strcmp(l, "sb1") == 0, "child %s", l);
	CHECK(fsg_label_from_cgroup(cg, "/capgate/sb", l, sizeof l) == -ENOENT, "prefix");
	CHECK(fsg_label_from_cgroup(cg, "/other", l, sizeof l) == -ENOENT, "other");
	CHECK(fsg_label_from_cgroup("0::/a/usr%2fbin%2fx/deeper\n", "/a", l, sizeof l) == 1 &&
	      strcmp(l, "usr/bin/x") == 0, "escape %s", l);
	CHECK(fsg_label_from_cgroup("0::/a/p%25q\n", "/a", l, sizeof l) == 1 &&
	      strcmp(l, "p%q") == 0, "percent %s", l);
	CHECK(fsg_label_from_cgroup("0::/a/p%zz\n", "/a", l, sizeof l) == -EINVAL, "bad escape");
	CHECK(fsg_label_from_cgroup("0::/a/p%2\n", "/a", l, sizeof l) == -EINVAL, "short escape");
	CHECK(fsg_label_from_cgroup("1:cpu:/a\n", "/a", l, sizeof l) == -EINVAL, "no v2 line");
	CHECK(fsg_label_from_cgroup("0::/\n", "/", l, sizeof l) == 0, "root self");
	CHECK(fsg_label_from_cgroup("0::/x/y\n", "/", l, sizeof l) == 1 &&
	      strcmp(l, "x") == 0, "root child %s", l);
}

int main(void)
{
	test_file_line();
	test_other_lines();
	test_sink();
	test_masks();
	test_cgroup_labels();
	printf("%d checks, %d failures\n", checks, failures);
	return failures ? 1 : 0;
}
