/*
 * The error numbers the VM core returns. The guest runs Linux programs, so these are
 * Linux's values: the system-call layer hands them back unchanged. Each is defined only
 * where the host's <errno.h> has not (with the same value and spelling, so including
 * both in either order is harmless).
 */
#ifndef VM_VM_ERRNO_H
#define VM_VM_ERRNO_H

#ifndef EPERM
#define EPERM 1
#endif
#ifndef EIO
#define EIO 5
#endif
#ifndef EBADF
#define EBADF 9
#endif
#ifndef ENOMEM
#define ENOMEM 12
#endif
#ifndef EACCES
#define EACCES 13
#endif
#ifndef EFAULT
#define EFAULT 14
#endif
#ifndef EBUSY
#define EBUSY 16
#endif
#ifndef EEXIST
#define EEXIST 17
#endif
#ifndef EINVAL
#define EINVAL 22
#endif
#ifndef EAGAIN
#define EAGAIN 11
#endif

#endif /* VM_VM_ERRNO_H */
