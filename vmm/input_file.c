/*
 * Opening the user's input files (the kernel, PROGRAM). Whatever the path names, this
 * never blocks: O_NONBLOCK keeps open() from waiting for a FIFO's writer, and anything
 * but a regular file is refused before a byte is read. A failure the host causes (out of
 * descriptors or memory) is a host failure (71) naming the resource, not the input's.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "vmm/input_file.h"
#include "vmm/vmm.h"

const char *vmm_errno_resource(int e)
{
	switch (e) {
	case EMFILE:
		return "the process's open-file limit is reached; raise ulimit -n";
	case ENFILE:
		return "the system's open-file table is full";
	case ENOMEM:
	case ENOBUFS:
		return "the host is out of memory";
	default:
		return NULL;
	}
}

static const char *input_kind(mode_t m)
{
	if (S_ISDIR(m))
		return "a directory";
	if (S_ISFIFO(m))
		return "a FIFO";
	if (S_ISCHR(m))
		return "a character device";
	if (S_ISBLK(m))
		return "a block device";
	if (S_ISSOCK(m))
		return "a socket";
	return "not a regular file";
}

int input_open(const char *path, const char *hint, struct stat *st, int *fd_out,
    char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);

	if (fd < 0) {
		int e = errno;
		const char *res = vmm_errno_resource(e);
		if (res != NULL)
			return vmm_errf(err, errlen, VMM_EXIT_HOST, "%s: cannot open it: %s: %s",
			    path, strerror(e), res);
		return vmm_errf(err, errlen, VMM_EXIT_INPUT, "%s: %s; %s", path, strerror(e),
		    hint);
	}
	if (fstat(fd, st) != 0) {
		int e = errno;
		close(fd);
		return vmm_errf(err, errlen, vmm_errno_resource(e) != NULL ? VMM_EXIT_HOST :
		    VMM_EXIT_INPUT, "%s: cannot stat it: %s", path, strerror(e));
	}
	if (!S_ISREG(st->st_mode)) {
		close(fd);
		return vmm_errf(err, errlen, VMM_EXIT_INPUT, "%s: %s, not a regular file; %s",
		    path, input_kind(st->st_mode), hint);
	}
	/* Regular files ignore O_NONBLOCK; clear it anyway so reads mean what they say. */
	int fl = fcntl(fd, F_GETFL);
	if (fl >= 0)
		fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
	*fd_out = fd;
	return 0;
}
