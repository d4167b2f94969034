/*
 * The pod sandbox's process (localhost/nexus/pause): it holds the pod's namespaces open and does
 * nothing else. As PID 1 of a pod that shares one PID namespace it also reaps orphaned children.
 * SIGINT and SIGTERM end it at once with status 0, which is how the runtime stops a sandbox.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void stop(int signo) {
  (void)signo;
  _exit(0);
}

static void reap(int signo) {
  (void)signo;
  while (waitpid(-1, NULL, WNOHANG) > 0) {
  }
}

int main(int argc, char **argv) {
  struct sigaction action;

  if (argc > 1 && strcmp(argv[1], "-v") == 0) {
    puts("nexus-pause " PAUSE_VERSION);
    return 0;
  }
  if (getpid() != 1) fputs("nexus-pause: warning: not running as PID 1\n", stderr);

  memset(&action, 0, sizeof action);
  sigemptyset(&action.sa_mask);
  action.sa_handler = stop;
  if (sigaction(SIGINT, &action, NULL) != 0 || sigaction(SIGTERM, &action, NULL) != 0) return 1;
  action.sa_handler = reap;
  action.sa_flags = SA_NOCLDSTOP | SA_RESTART;
  if (sigaction(SIGCHLD, &action, NULL) != 0) return 1;

  for (;;) pause();
}
