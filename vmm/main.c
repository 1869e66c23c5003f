/*
 * build/vmm: parse the command line, dispatch, exit with the status. All the work is
 * in cli.c and run.c so the unit tests can reach it.
 */
#include <signal.h>
#include <stdio.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "vmm/cli.h"
#include "vmm/dump_cmd.h"
#include "vmm/run.h"
#include "vmm/trace.h"
#include "vmm/vmm.h"

/* What went to stdout must have got there (a closed stdout, a full disk): else say so. */
static int main_stdout_done(const char *what)
{
	if (fflush(stdout) == 0 && !ferror(stdout))
		return VMM_EXIT_OK;
	fprintf(stderr, "vmm: cannot write %s to stdout: %s\n", what, strerror(errno));
	return VMM_EXIT_HOST;
}

/*
 * A closed stdin, stdout or stderr would be taken by the first file we open (/dev/kvm,
 * the kernel, a trace file): guest output would go into it, or our messages. Park
 * /dev/null there, read-only, so writes to a closed stdout still fail (EBADF) and are
 * reported instead of vanishing.
 */
static void main_hold_std_fds(void)
{
	for (int fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) == -1 && errno == EBADF &&
		    open("/dev/null", O_RDONLY) != fd)
			_exit(VMM_EXIT_HOST);   /* nowhere left to say so */
	}
}

int main(int argc, char **argv)
{
	struct cli_opts o;
	char err[CLI_ERR_MAX + 256];
	int rc;

	main_hold_std_fds();
	trace_init();
	/*
	 * No core file, ever: whatever kills us (a failed KASSERT's abort, SIGBUS from a
	 * kernel file truncated while mapped) must leave nothing on disk (DESIGN.md's rule
	 * for bad input); the message on stderr is the report.
	 */
	setrlimit(RLIMIT_CORE, &(struct rlimit){ 0, 0 });
	/* A closed stdout must not kill us mid-run: console writes just fail (console.c
	 * ends the run on EPIPE itself). Past ulimit -f, writes fail with EFBIG and are
	 * reported instead of SIGXFSZ killing us with a temporary file left behind. */
	signal(SIGPIPE, SIG_IGN);
	signal(SIGXFSZ, SIG_IGN);
	if ((rc = cli_parse(argc, argv, &o, err, sizeof(err))) != 0) {
		fprintf(stderr, "vmm: %s\n", err);
		return rc;
	}
	switch (o.co_cmd) {
	case CLI_CMD_HELP:
		cli_usage(stdout);
		return main_stdout_done("the help");
	case CLI_CMD_VERSION:
		printf("vmm %s\n", VMM_VERSION);
		return main_stdout_done("the version");
	case CLI_CMD_DUMP:
		rc = dump_cmd_main(o.co_dump_argc, o.co_dump_argv, stdout, stderr);
		/* A failure already said why; else what we printed must have got out. */
		return rc != 0 ? rc : main_stdout_done("vmm dump's output");
	case CLI_CMD_RUN:
		break;
	}
	trace_enabled = o.co_verbose;
	TRACE("vmm %s: %llu MiB, %u vCPU", VMM_VERSION,
	    (unsigned long long)(o.co_mem_size >> 20), o.co_ncpus);
	rc = vmm_run(&o);
	TRACE("exit status %d after %.2f ms", rc, trace_ms());
	return rc;
}
