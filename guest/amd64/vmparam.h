/*
 * The kernel's virtual and physical layout. Shared by C, assembler and (by hand, checked
 * with ASSERTs) guest/kernel.ld, so constants here carry no C suffixes.
 *
 *   0xffff808000000000  DMAP_BASE: direct map of RAM (PML4 slot 257, up to 512 GiB).
 *                       Not slot 256: kvm_pvm refuses CPL 3 accesses there (the host's
 *                       hypervisor hole), and the kernel runs at CPL 3.
 *   0xffffff0000000000  KVA_BASE: kernel mappings made by pmap (PML4 slot 510, 512 GiB)
 *   0xffffffff80000000  KERNBASE: physical 0..1 GiB (the boot page directory, 2 MiB pages)
 *   0xffffffff80100000    the kernel image, loaded at physical KERNEL_PHYS
 *   0xffffffff80101000    TRAP_STUBS_VA: 256 trap entry stubs, TRAP_STUB_SIZE apart
 *   0xffffffff80102000    TSS_VA: the TSS (then the GDT) at a fixed address
 *   0xffffffff80104000    SYSCALL_TRAMP_VA: the syscall trampoline, alone on its page
 *   0xffffffff80105000    UTRAP_STUBS_VA: user mode's 256 trap entry stubs
 *   0xffffffff80106000    CPL0_ENTRY_VA: the hot CPL 0 entries, then the rest of CPL 0
 *   0xffffffffc0000000  LAPIC_VA: the xAPIC registers (physical 0xfee00000, uncached)
 *
 * The stub and TSS addresses are fixed so that the assembler can compute every IDT gate
 * and the TSS descriptor as constants: no descriptor is built at run time.
 */
#ifndef AMD64_VMPARAM_H
#define AMD64_VMPARAM_H

#define KERNBASE            0xffffffff80000000
#define KERNEL_PHYS         0x100000
#define KERNEL_MAP_SIZE     0x40000000          /* KERNBASE maps physical [0, 1 GiB) */
#define DMAP_BASE           0xffff808000000000
#define DMAP_MAX_GIB        512                 /* one page-directory-pointer table */
#define DMAP_SIZE           0x8000000000        /* DMAP_MAX_GIB GiB */
#define KVA_BASE            0xffffff0000000000  /* kernel_pmap's own range (pmap.c) */
#define KVA_SIZE            0x8000000000        /* one PML4 slot */

#define TRAP_STUBS_VA       0xffffffff80101000
#define TRAP_STUB_SIZE      16
#define TSS_VA              0xffffffff80102000
#define SYSCALL_TRAMP_VA    0xffffffff80104000  /* LSTAR: the page user mode may run */
/* User mode's stub table (its IDT's gates; exception.S). */
#define UTRAP_STUBS_VA      0xffffffff80105000
/* The CPL 0 entries the IDTs name directly (no stub's jmp first): the hot ones. */
#define CPL0_ENTRY_VA       0xffffffff80106000
#define DE_ENTRY_VA         (CPL0_ENTRY_VA + 0x00)      /* #DE: the return to user mode */
#define UD_ENTRY_VA         (CPL0_ENTRY_VA + 0x40)      /* #UD: system calls */
#define PF_ENTRY_VA         (CPL0_ENTRY_VA + 0x80)      /* #PF */
#define GP_ENTRY_VA         (CPL0_ENTRY_VA + 0xc0)      /* #GP: the return with a PTE */
#define TSS_SIZE            104                 /* the 64-bit TSS itself */
#define TSS_IOMAP_OFF       0x1000              /* its I/O bitmap: the next page */
#define TSS_IOMAP_BYTES     0xc1                /* ports 0..0x607 */
#define TSS_LIMIT           (TSS_IOMAP_OFF + TSS_IOMAP_BYTES)  /* + the 0xff terminator */

#define LAPIC_PHYS          0xfee00000
#define LAPIC_VA            0xffffffffc0000000

#define KSTACK_SIZE         16384               /* boot (thread 0) stack */
#define ISTSTACK_SIZE       8192                /* #DF, NMI, #MC stacks */
#define CPL0STACK_SIZE      8192                /* the stubs' stack (TSS.RSP0) */

#define PAGE_SIZE_4K        4096
#define NBPDR               0x200000            /* bytes a page-directory entry maps */
#define NBPDP               0x40000000          /* bytes a PDPT entry maps */
/* GiB 1..DMAP_PD_GIB of the direct map have page directories in the image (locore.S). */
#define DMAP_PD_GIB         66

#endif /* AMD64_VMPARAM_H */
