/*
 * Basic types and constants of the VM core.
 */
#ifndef VM_VM_H
#define VM_VM_H

#include "vm_macros.h"
#include "vm_platform.h"

typedef uint64_t vm_offset_t;
typedef uint64_t vm_size_t;
typedef uint64_t vm_pindex_t;
typedef uint64_t vm_ooffset_t;   /* a byte offset in an object */
typedef int vm_prot_t;

#define PAGE_SHIFT      12
#define PAGE_SIZE       (1ul << PAGE_SHIFT)
#define PAGE_MASK       (PAGE_SIZE - 1)
#define atop(x)         ((uint64_t)(x) >> PAGE_SHIFT)
#define ptoa(x)         ((uint64_t)(x) << PAGE_SHIFT)
#define round_page(x)   (((uint64_t)(x) + PAGE_MASK) & ~PAGE_MASK)
#define trunc_page(x)   ((uint64_t)(x) & ~PAGE_MASK)

#define VM_PROT_NONE    0x0
#define VM_PROT_READ    0x1
#define VM_PROT_WRITE   0x2
#define VM_PROT_EXECUTE 0x4

/* Allocation flags shared by malloc, UMA and contigmalloc. */
#define M_NOWAIT        0x0001  /* fail rather than sleep */
#define M_WAITOK        0x0002  /* sleep until satisfied; never returns NULL */
#define M_ZERO          0x0100  /* hand back zeroed memory */
#define M_USE_RESERVE   0x0400  /* may dip into the system reserve (with M_NOWAIT) */


#endif /* VM_VM_H */
