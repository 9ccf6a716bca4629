/*
 * peakrss.c — runs a command and prints its peak resident memory, for tests.
 *
 *   peakrss COMMAND [ARGS...]      prints "peak_rss_kib N" on stderr, exits with COMMAND's status
 *
 * A process's peak resident size (ru_maxrss) includes the process it was
 * forked from until it calls exec, so a test that measures a program it
 * starts from a large interpreter would measure the interpreter. This small
 * program forks and execs the command itself, so the figure is the
 * command's own.
 */
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: peakrss COMMAND [ARGS...]\n");
        return 2;
    }
    pid_t pid = fork();
    if (pid < 0) {
        perror("peakrss: fork");
        return 2;
    }
    if (pid == 0) {
        execvp(argv[1], argv + 1);
        perror("peakrss: exec");
        _exit(127);
    }
    int status;
    struct rusage ru;
    if (wait4(pid, &status, 0, &ru) < 0) {
        perror("peakrss: wait4");
        return 2;
    }
    fprintf(stderr, "peak_rss_kib %ld\n", ru.ru_maxrss);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
