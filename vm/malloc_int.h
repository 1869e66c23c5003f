/*
 * Between kern_malloc.c, which owns the type list, and malloc_stats.c, which writes the
 * statistics stream from it.
 */
#ifndef VM_MALLOC_INT_H
#define VM_MALLOC_INT_H

#include "vm/malloc.h"

/* Take the type list's lock (wait: as mtx_lock; else only if free). => held or not. */
bool malloc_types_lock(bool wait);
void malloc_types_unlock(void);
/* The list's head; the list goes on through ks_next. => the lock held. */
struct malloc_type *malloc_types_first(void);

#endif /* VM_MALLOC_INT_H */
