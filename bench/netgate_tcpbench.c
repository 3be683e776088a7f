/* netgate_tcpbench: loopback TCP throughput and connect rate.
 *
 *   netgate_tcpbench server PORT            (forks per connection; discards)
 *   netgate_tcpbench stream HOST PORT SECS  -> "MB/s CPU-us-per-MB"
 *   netgate_tcpbench connect HOST PORT SECS -> "connects/s CPU-us-per-connect"
 * CPU is this process's user+system time: on loopback the whole send path
 * (and the softirq receive path it triggers) runs in it, netfilter hooks
 * included, and it is less disturbed by other load than a rate.
 * Built by bench/netgate_bench.sh; not part of the product.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double cpu(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
	       ru.ru_stime.tv_usec / 1e6;
}

static int dial(const char *host, int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	inet_pton(AF_INET, host, &a.sin_addr);
	int s = socket(AF_INET, SOCK_STREAM, 0);
	if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof a) < 0) {
		perror("connect");
		exit(1);
	}
	return s;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && !strcmp(argv[1], "server")) {
		/* PORT: streams, read by a child each; PORT+1: connections
		 * accepted and closed at once (the connect-rate sink). */
		signal(SIGCHLD, SIG_IGN);
		int base = atoi(argv[2]);
		int sink = fork() == 0;
		int l = socket(AF_INET, SOCK_STREAM, 0), one = 1;
		setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
		struct sockaddr_in a = { .sin_family = AF_INET,
					 .sin_port = htons((uint16_t)(base + sink)) };
		if (bind(l, (struct sockaddr *)&a, sizeof a) < 0 || listen(l, 4096) < 0) {
			perror("listen");
			return 1;
		}
		static char buf[1 << 16];
		for (;;) {
			int c = accept(l, NULL, NULL);
			if (c < 0)
				continue;
			if (!sink && fork() == 0) {
				close(l);
				while (read(c, buf, sizeof buf) > 0)
					;
				_exit(0);
			}
			close(c);
		}
	}
	if (argc < 5)
		return 2;
	const char *host = argv[2];
	int port = atoi(argv[3]);
	double secs = atof(argv[4]);
	if (!strcmp(argv[1], "stream")) {
		static char buf[1 << 16];
		int s = dial(host, port);
		double t0 = now(), t, c0 = cpu();
		unsigned long long bytes = 0;
		while ((t = now()) - t0 < secs) {
			ssize_t k = write(s, buf, sizeof buf);
			if (k <= 0) {
				perror("write");
				return 1;
			}
			bytes += (unsigned long long)k;
		}
		printf("%.0f %.1f\n", bytes / (t - t0) / 1e6, (cpu() - c0) * 1e6 / (bytes / 1e6));
		return 0;
	}
	if (!strcmp(argv[1], "connect")) {
		double t0 = now(), t, c0 = cpu();
		unsigned long n = 0;
		while ((t = now()) - t0 < secs) {
			int s = dial(host, port);
			struct linger lg = { 1, 0 }; /* RST on close: no TIME_WAIT pile-up */
			setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
			close(s);
			n++;
		}
		printf("%.0f %.2f\n", n / (t - t0), (cpu() - c0) * 1e6 / n);
		return 0;
	}
	return 2;
}
