/*
 * timecmd: wall time of whole commands, process start to exit, measured interleaved so
 * that both see the same machine state. Prints one line per command:
 *   <label> median_us=<m> min_us=<n> runs=<r>
 * Usage: timecmd RUNS LABEL1 -- CMD1... ';;' LABEL2 -- CMD2... [';;' ...]
 * A command that exits non-zero stops the measurement (exit 1): a figure of a failing
 * run means nothing.
 */
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <fcntl.h>
#include <unistd.h>

extern char **environ;

struct timecmd_cmd {
	const char *label;
	char **argv;
	double *us;
};

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	if (argc < 5) {
		fprintf(stderr, "usage: timecmd RUNS LABEL -- CMD... [';;' LABEL -- CMD...]\n");
		return 64;
	}
	int runs = atoi(argv[1]);
	if (runs < 1) {
		fprintf(stderr, "timecmd: RUNS must be >= 1\n");
		return 64;
	}
	struct timecmd_cmd cmds[8];
	int ncmd = 0;
	for (int i = 2; i < argc && ncmd < 8;) {
		cmds[ncmd].label = argv[i];
		if (i + 2 >= argc || strcmp(argv[i + 1], "--") != 0) {
			fprintf(stderr, "timecmd: expected 'LABEL -- CMD'\n");
			return 64;
		}
		cmds[ncmd].argv = &argv[i + 2];
		int j = i + 2;
		while (j < argc && strcmp(argv[j], ";;") != 0)
			j++;
		argv[j < argc ? j : argc] = NULL;
		cmds[ncmd].us = calloc((size_t)runs, sizeof(double));
		ncmd++;
		i = j + 1;
	}

	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);

	for (int r = -1; r < runs; r++) {       /* r = -1: warm-up, not counted */
		for (int c = 0; c < ncmd; c++) {
			pid_t pid;
			int st;
			double t0 = now_us();
			if (posix_spawn(&pid, cmds[c].argv[0], &fa, NULL, cmds[c].argv,
			    environ) != 0) {
				perror(cmds[c].argv[0]);
				return 1;
			}
			waitpid(pid, &st, 0);
			double t1 = now_us();
			if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
				fprintf(stderr, "timecmd: %s failed (status 0x%x)\n", cmds[c].label,
				    st);
				return 1;
			}
			if (r >= 0)
				cmds[c].us[r] = t1 - t0;
		}
	}
	for (int c = 0; c < ncmd; c++) {
		qsort(cmds[c].us, (size_t)runs, sizeof(double), cmp_double);
		printf("%s median_us=%.1f min_us=%.1f runs=%d\n", cmds[c].label,
		    cmds[c].us[runs / 2], cmds[c].us[0], runs);
	}
	return 0;
}
