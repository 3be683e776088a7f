/* fdpass.h: one message, with at most one file descriptor, over a unix
 * socket (the launcher's and the shared fsgate's control channels). */
#ifndef CAPGATE_FDPASS_H
#define CAPGATE_FDPASS_H

#include <stddef.h>
#include <sys/types.h>

/* Send len bytes and, when fd >= 0, fd (SCM_RIGHTS). flags as send(2)'s
 * (MSG_NOSIGNAL is added). 0 or -errno. */
int fdpass_send(int sock, const void *buf, size_t len, int fd, int flags);

/* Receive at most len bytes; *fd gets the descriptor passed with them
 * (close-on-exec) or -1. The length (0 at EOF) or -errno. */
ssize_t fdpass_recv(int sock, void *buf, size_t len, int *fd, int flags);

#endif
