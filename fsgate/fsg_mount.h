/* fsg_mount.h: fsgate's FUSE mount as a detached mount (fsopen/fsmount),
 * for the shared fsgate (serve.c) and the launcher that starts it. */
#ifndef FSGATE_FSG_MOUNT_H
#define FSGATE_FSG_MOUNT_H

/* A detached FUSE mount (nosuid, nodev, default_permissions, allow_other)
 * on the open /dev/fuse fd. Returns the mount fd or -errno. */
int fsg_mount_detached(int fusefd);

#endif
