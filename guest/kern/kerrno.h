/*
 * The kernel's error numbers: the VM core's (vm/vm_errno.h) and the rest the system
 * calls, signals, files and drivers return. Linux's values, since the programs the
 * kernel runs are Linux's: a system call hands them back negated, unchanged.
 */
#ifndef KERN_KERRNO_H
#define KERN_KERRNO_H

#include "vm/vm_errno.h"

#define ENOENT          2
#define ESRCH           3
#define EINTR           4
#define ENXIO           6
#define ECHILD          10
#define ENOTTY          25
#define EMFILE          24
#define EROFS           30
#define EPIPE           32
#define ENOSYS          38
#define ETIMEDOUT       110

#endif /* KERN_KERRNO_H */
