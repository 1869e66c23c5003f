/*
 * Files the VMM writes for the user (--trace-insns; dumps later): never over one of the
 * run's inputs or its own stdin/stdout/stderr, never into a FIFO or device, and whole or
 * absent. Written under a temporary name in the same directory and renamed over the
 * path at the end; a symbolic link is followed, so the link stays and its target is
 * replaced (renaming over /dev/stdout would replace the link itself).
 */
#ifndef VMM_OUT_FILE_H
#define VMM_OUT_FILE_H

#include <limits.h>
#include <stddef.h>
#include <stdio.h>

struct out_file {
	FILE *of_fp;                    /* NULL when not open */
	const char *of_what;            /* the option, for messages: "--trace-insns" */
	const char *of_path;            /* as the user gave it, for messages */
	char of_dest[PATH_MAX];         /* what is replaced: path, or a link's target */
	char of_tmp[PATH_MAX];
	int of_errno;                   /* the system's reason for the last failure, or 0 */
};

/*
 * The refusals of out_file_open alone, without creating anything: for a file written
 * only later, if at all (a dump), checked with the rest of the command line. => 0, or 64
 * with a one-line message.
 */
int out_file_check(const char *what, const char *path, const char *const *inputs,
    const char *const *roles, unsigned ninputs, char *err, size_t errlen);

/*
 * Start writing path for option what. inputs[0..ninputs) are the files this run reads
 * and roles[] what each is ("the guest kernel"); NULL inputs are skipped. path may be
 * none of them. => 0 with of->of_fp open, or 64
 * (path unusable: an input, not a regular file, no such directory) or 71 (the host is
 * out of a resource) with a one-line message (and of_errno set when the system said
 * why).
 */
int out_file_open(struct out_file *of, const char *what, const char *path,
    const char *const *inputs, const char *const *roles, unsigned ninputs, char *err,
    size_t errlen);

/* Finish: everything written and renamed into place. => 0, or 71 with a message (the
 * temporary file is removed and path is left as it was). */
int out_file_commit(struct out_file *of, char *err, size_t errlen);

/* Give up: the temporary file is removed, path is left as it was. */
void out_file_abort(struct out_file *of);

#endif /* VMM_OUT_FILE_H */
