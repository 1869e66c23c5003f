/*
 * Output files (out_file.h). Refusals are usage errors (64): the user named the wrong
 * path. Running out of descriptors, memory or disk is the host's doing (71).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmm/input_file.h"
#include "vmm/out_file.h"
#include "vmm/vmm.h"

static int of_errno_status(int e)
{
	return vmm_errno_resource(e) != NULL || e == ENOSPC || e == EDQUOT || e == EIO ?
	    VMM_EXIT_HOST : VMM_EXIT_USAGE;
}

int out_file_check(const char *what, const char *path, const char *const *inputs,
    const char *const *roles, unsigned ninputs, char *err, size_t errlen)
{
	static const char *const std_names[] = { "stdin", "stdout", "stderr" };
	struct stat st, in;

	/* What path names now, following links: it must be a regular file that is none
	 * of this run's inputs nor its standard streams (/dev/stdout lands here). */
	if (stat(path, &st) == 0) {
		if (!S_ISREG(st.st_mode))
			return vmm_errf(err, errlen, VMM_EXIT_USAGE, "%s %s: exists and is not "
			    "a regular file; give a new file's name", what, path);
		for (unsigned i = 0; i < ninputs; i++) {
			if (inputs[i] != NULL && stat(inputs[i], &in) == 0 &&
			    in.st_dev == st.st_dev && in.st_ino == st.st_ino)
				return vmm_errf(err, errlen, VMM_EXIT_USAGE, "%s %s: that is %s "
				    "(%s), which this run reads; give another file's name", what,
				    path, roles[i], inputs[i]);
		}
		for (int fd = 0; fd <= 2; fd++) {
			if (fstat(fd, &in) == 0 && in.st_dev == st.st_dev &&
			    in.st_ino == st.st_ino)
				return vmm_errf(err, errlen, VMM_EXIT_USAGE, "%s %s: that is this "
				    "run's %s; give another file's name", what, path,
				    std_names[fd]);
		}
	}
	return 0;
}

int out_file_open(struct out_file *of, const char *what, const char *path,
    const char *const *inputs, const char *const *roles, unsigned ninputs, char *err,
    size_t errlen)
{
	struct stat in;
	int rc;

	memset(of, 0, sizeof(*of));
	of->of_what = what;
	of->of_path = path;
	if ((rc = out_file_check(what, path, inputs, roles, ninputs, err, errlen)) != 0)
		return rc;
	/* What is replaced: a link's target, never the link. */
	if (lstat(path, &in) == 0 && S_ISLNK(in.st_mode)) {
		if (realpath(path, of->of_dest) == NULL) {
			of->of_errno = errno;
			return vmm_errf(err, errlen, VMM_EXIT_USAGE, "%s %s: a symbolic link "
			    "to no file (%s); give a regular file's name", what, path,
			    strerror(of->of_errno));
		}
	} else if ((size_t)snprintf(of->of_dest, sizeof(of->of_dest), "%s", path) >=
	    sizeof(of->of_dest)) {
		return vmm_errf(err, errlen, VMM_EXIT_USAGE, "%s %s: the path is too long",
		    what, path);
	}
	/* The temporary name: ".NAME.XXXXXX" beside the destination, so the rename stays
	 * in one file system. */
	const char *dest = of->of_dest;
	const char *slash = strrchr(dest, '/');
	size_t dirlen = slash != NULL ? (size_t)(slash - dest) + 1 : 0;
	if ((size_t)snprintf(of->of_tmp, sizeof(of->of_tmp), "%.*s.%s.XXXXXX", (int)dirlen,
	    dest, dest + dirlen) >= sizeof(of->of_tmp)) {
		of->of_tmp[0] = '\0';
		return vmm_errf(err, errlen, VMM_EXIT_USAGE, "%s %s: the path is too long",
		    what, path);
	}
	int fd = mkstemp(of->of_tmp);
	if (fd < 0) {
		int e = errno;
		of->of_tmp[0] = '\0';
		of->of_errno = e;
		return vmm_errf(err, errlen, of_errno_status(e), "%s %s: cannot create it: %s; "
		    "give a file in a writable directory", what, path, strerror(e));
	}
	/* mkstemp makes it 0600; the user's umask decides, as for any file they create. */
	mode_t mask = umask(0);
	umask(mask);
	(void)fchmod(fd, 0666 & ~mask);
	of->of_fp = fdopen(fd, "w");
	if (of->of_fp == NULL) {
		int e = errno;
		close(fd);
		out_file_abort(of);
		of->of_errno = e;
		return vmm_errf(err, errlen, VMM_EXIT_HOST, "%s %s: %s", what, path, strerror(e));
	}
	return 0;
}

int out_file_commit(struct out_file *of, char *err, size_t errlen)
{
	KASSERT(of->of_fp != NULL, ("%s: %s is not open", __func__, of->of_what));
	/* ferror: a write that failed mid-run (a full disk) is as bad as a failed close.
	 * stdio keeps no errno for it: a flush of what it still holds fails again the same
	 * way (ENOSPC, EFBIG) and names the cause; the file is bad whatever it says. */
	int bad = ferror(of->of_fp);
	int e = 0;
	if (bad) {
		clearerr(of->of_fp);
		e = fflush(of->of_fp) != 0 ? errno : EIO;
	}
	if (fclose(of->of_fp) != 0 && !bad) {
		bad = 1;
		e = errno;
	}
	of->of_fp = NULL;
	if (!bad && rename(of->of_tmp, of->of_dest) != 0) {
		bad = 1;
		e = errno;
	}
	if (bad) {
		unlink(of->of_tmp);
		of->of_tmp[0] = '\0';
		of->of_errno = e;
		return vmm_errf(err, errlen, VMM_EXIT_HOST, "%s %s: cannot write it: %s; "
		    "nothing was written", of->of_what, of->of_path, strerror(e));
	}
	of->of_tmp[0] = '\0';
	return 0;
}

void out_file_abort(struct out_file *of)
{
	if (of->of_fp != NULL) {
		fclose(of->of_fp);
		of->of_fp = NULL;
	}
	if (of->of_tmp[0] != '\0') {
		unlink(of->of_tmp);
		of->of_tmp[0] = '\0';
	}
}
