/* exec.h: `capgate exec`, the launcher (see capgate(1)). */
#ifndef CAPGATE_EXEC_H
#define CAPGATE_EXEC_H

/* argv[0] is "exec". Returns PROGRAM's exit status; 125 for a launcher or
 * policy error (message on stderr), 126 cannot execute, 127 not found. */
int cmd_exec(int argc, char **argv);

#endif
