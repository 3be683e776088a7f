/* capability.c: capability names, as in capabilities(7) and upstream's
 * capability rules (lower case, without the CAP_ prefix). */
#include <string.h>

#include "audit.h"

static const char *const cap_names[] = {
	"chown", "dac_override", "dac_read_search", "fowner", "fsetid", "kill",
	"setgid", "setuid", "setpcap", "linux_immutable", "net_bind_service",
	"net_broadcast", "net_admin", "net_raw", "ipc_lock", "ipc_owner",
	"sys_module", "sys_rawio", "sys_chroot", "sys_ptrace", "sys_pacct",
	"sys_admin", "sys_boot", "sys_nice", "sys_resource", "sys_time",
	"sys_tty_config", "mknod", "lease", "audit_write", "audit_control",
	"setfcap", "mac_override", "mac_admin", "syslog", "wake_alarm",
	"block_suspend", "audit_read", "perfmon", "bpf", "checkpoint_restore",
};
#define NCAPS (int)(sizeof(cap_names) / sizeof(cap_names[0]))

const char *capability_name(int cap)
{
	return cap >= 0 && cap < NCAPS ? cap_names[cap] : NULL;
}

int capability_from_name(const char *name)
{
	for (int i = 0; i < NCAPS; i++)
		if (strcmp(cap_names[i], name) == 0)
			return i;
	return -1;
}
