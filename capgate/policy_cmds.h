/* policy_cmds.h: capgate's policy subcommands. Each returns the exit status. */
#ifndef CAPGATE_POLICY_CMDS_H
#define CAPGATE_POLICY_CMDS_H

int cmd_check(int argc, char **argv);
int cmd_query(int argc, char **argv);
int cmd_show(int argc, char **argv);

#endif
