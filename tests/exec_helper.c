/* exec_helper: small probes run inside `capgate exec` by tests/exec.bats.
 * Each subcommand prints "ok" or "fail <errno name>" and exits 0/1. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/sched.h>

static int report(int r)
{
	if (r < 0) {
		printf("fail %s\n", strerrorname_np(errno));
		return 1;
	}
	puts("ok");
	return 0;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";
	const char *arg = argc > 2 ? argv[2] : "";
	if (!strcmp(cmd, "bind")) { /* bind 127.0.0.1:PORT */
		int s = socket(AF_INET, SOCK_STREAM, 0);
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(arg)) };
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		return report(s < 0 ? -1 : bind(s, (struct sockaddr *)&a, sizeof a));
	}
	if (!strcmp(cmd, "connect")) { /* connect 127.0.0.1:PORT */
		int s = socket(AF_INET, SOCK_STREAM, 0);
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(arg)) };
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		return report(s < 0 ? -1 : connect(s, (struct sockaddr *)&a, sizeof a));
	}
	if (!strcmp(cmd, "socket")) { /* socket FAMILY TYPE PROTOCOL (numbers) */
		int s = socket(atoi(arg), argc > 3 ? atoi(argv[3]) : 0, argc > 4 ? atoi(argv[4]) : 0);
		return report(s);
	}
	if (!strcmp(cmd, "read")) {
		int fd = open(arg, O_RDONLY);
		return report(fd);
	}
	if (!strcmp(cmd, "chown")) /* to nobody */
		return report(chown(arg, 65534, 65534));
	if (!strcmp(cmd, "nofile")) {
		struct rlimit r;
		getrlimit(RLIMIT_NOFILE, &r);
		printf("%llu %llu\n", (unsigned long long)r.rlim_cur, (unsigned long long)r.rlim_max);
		return 0;
	}
	if (!strcmp(cmd, "userns"))
		return report(unshare(CLONE_NEWUSER));
	if (!strcmp(cmd, "mount"))
		return report(mount("none", "/tmp", "tmpfs", 0, NULL));
	if (!strcmp(cmd, "clone3")) {
		struct clone_args ca = { .exit_signal = 17 };
		long r = syscall(SYS_clone3, &ca, sizeof ca);
		if (r == 0)
			_exit(0);
		return report(r < 0 ? -1 : 0);
	}
	if (!strcmp(cmd, "tiocsti")) {
		char c = ' ';
		return report(ioctl(0, TIOCSTI, &c));
	}
	if (!strcmp(cmd, "pid")) {
		printf("%d\n", (int)getpid());
		return 0;
	}
	if (!strcmp(cmd, "exec")) { /* exec ARGV... */
		execv(argv[2], argv + 2);
		return report(-1);
	}
	fprintf(stderr, "usage: exec_helper bind|connect|read|chown|nofile|userns|mount|clone3|tiocsti|pid|exec\n");
	return 2;
}
