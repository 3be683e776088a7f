/* cg_fsgate.h: the shared fsgate of a policy, from the launcher's side.
 *
 * Every `capgate exec` of one policy directory (and one fsgate binary)
 * shares one fsgate (fsgate --serve, see fsgate/serve.c): its FUSE mount,
 * and with it the kernel's caches, outlive each program. The first
 * launcher starts it; it ends CAPGATE_FSGATE_LINGER seconds (default 0)
 * after the last launcher left. Its socket is /run/capgate/fsgate-<key>.sock
 * and its cgroup <cgroup2>/capgate/fsgate-<key>, outside any launcher's,
 * so stopping one systemd unit does not kill the fsgate of another.
 *
 *   cg_fsgate_begin()     connect, or start the daemon (with the mount,
 *                         the socket and our connection made here)
 *   cg_fsgate_register()  register the instance, and receive a clone of
 *                         the mount (unless we made it)
 *   cg_fsgate_leave()     say we are going (the daemon forgets the
 *                         instance, and ends if it was the last)
 *   cg_fsgate_end()       leave, and wait for a daemon that ends
 * One lock, /run/capgate/fsgate.lock, orders launchers that connect or
 * start a daemon, and a daemon that ends.
 */
#ifndef CAPGATE_CG_FSGATE_H
#define CAPGATE_CG_FSGATE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct policy;

struct cg_fsgate {
	int lock;  /* the lock, held inside begin */
	int conn;  /* the registration connection: the instance's life */
	int mnt;   /* the mount, when we started the daemon; else -1 */
	pid_t pid; /* the daemon */
	bool ours; /* we started it: it is our child */
	bool unconfirmed; /* registered with a daemon we started: answer unread */
	bool left;        /* cg_fsgate_leave() done */
	char sock[96]; /* fits a sockaddr_un */
	char key[20];
	char cgroot[4096];
};

struct cg_fsgate_how {
	const char *fsgate;    /* the fsgate binary */
	const char *policy;    /* policy directory */
	const char *cache;     /* compiled policy cache */
	const char *cgroot;    /* cgroup2 mount point */
	double linger;
	bool fork;             /* run our own copy of fsgate's code (fsg_main)
				* in the child, not exec the binary */
	struct policy *pol;    /* with fork: ours, loaded from policy and cache
				* (the child serves it, and loads nothing) */
};

/* 0, or -errno (then nothing is held). */
int cg_fsgate_begin(struct cg_fsgate *g, const struct cg_fsgate_how *h);

/* Register the instance in cgroup `cgrel` ("/capgate/<id>") with its
 * profile, mode and log (fd, or -1 for syslog: sent, not kept). Returns
 * the mount fd to move into the sandbox, or -1 with `err` filled. */
int cg_fsgate_register(struct cg_fsgate *g, const char *cgrel, const char *profile,
		       bool complain, int logfd, const uint8_t digest[32], char *err,
		       size_t errlen);

/* The answer of a daemon we started, read before the program runs: 0,
 * or -1 with `err` filled (it refused the instance). */
int cg_fsgate_confirm(struct cg_fsgate *g, char *err, size_t errlen);

/* Leave without waiting: the launcher's own cleanup runs while a daemon
 * that ends with us shuts down. */
void cg_fsgate_leave(struct cg_fsgate *g);
void cg_fsgate_end(struct cg_fsgate *g);

/* Remove what killed daemons left: stale sockets, empty cgroups. */
void cg_fsgate_collect(const char *cgroot);

#endif
