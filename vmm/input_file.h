/*
 * The user's input files, opened without ever blocking, and what errno says about whose
 * fault a failure is.
 */
#ifndef VMM_INPUT_FILE_H
#define VMM_INPUT_FILE_H

#include <stddef.h>
#include <sys/stat.h>

/*
 * Open path read-only if it is a regular file. => 0 with *fd_out and *st, or 66 (input:
 * missing, unreadable, not a regular file; the message ends with hint) or 71 (the host
 * ran out of descriptors or memory) with a one-line message naming path.
 */
int input_open(const char *path, const char *hint, struct stat *st, int *fd_out,
    char *err, size_t errlen);

/* When errno e means the host ran short of something: what, for a message. Else NULL. */
const char *vmm_errno_resource(int e);

#endif /* VMM_INPUT_FILE_H */
