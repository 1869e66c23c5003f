/*
 * Control registers, MSRs and page-table entry bits (names after the Intel SDM and
 * FreeBSD's specialreg.h/pte.h). Usable from assembler.
 */
#ifndef AMD64_SPECIALREG_H
#define AMD64_SPECIALREG_H

#define CR0_PE      0x00000001
#define CR0_MP      0x00000002
#define CR0_ET      0x00000010
#define CR0_NE      0x00000020
#define CR0_WP      0x00010000
#define CR0_PG      0x80000000

#define CR4_PAE     0x00000020
#define CR4_PGE     0x00000080
#define CR4_OSFXSR  0x00000200
#define CR4_OSXMMEXCPT 0x00000400

#define MSR_EFER            0xc0000080
#define EFER_SCE            0x00000001
#define EFER_LME            0x00000100
#define EFER_LMA            0x00000400
#define EFER_NXE            0x00000800
#define MSR_GSBASE          0xc0000101
#define MSR_KGSBASE         0xc0000102

#define MSR_APICBASE        0x0000001b
#define APICBASE_X2APIC     0x00000400
#define APICBASE_ENABLE     0x00000800
#define APICBASE_ADDR_MASK  0xfffff000

#define MSR_KVM_SYSTEM_TIME_NEW 0x4b564d01
#define MSR_LSTAR           0xc0000082
#define MSR_SFMASK          0xc0000084

/* RFLAGS bits. */
#define PSL_C       0x00000001
#define PSL_PF      0x00000004
#define PSL_AF      0x00000010
#define PSL_Z       0x00000040
#define PSL_N       0x00000080
#define PSL_T       0x00000100
#define PSL_I       0x00000200
#define PSL_D       0x00000400
#define PSL_V       0x00000800
#define PSL_NT      0x00004000
#define PSL_AC      0x00040000
/* The flags `syscall` clears on its way to the trampoline. ud_entry irets into the
 * kernel with what is left, so none that would change how the kernel runs: TF, DF, AC,
 * NT. The program's own come back from r11 on the return. */
#define SYSCALL_FMASK   (PSL_T | PSL_D | PSL_AC | PSL_NT)
/* What a program may set in its own flags (popf, sigreturn); the kernel adds IF. */
#define PSL_USER_CHANGE (PSL_C | PSL_PF | PSL_AF | PSL_Z | PSL_N | PSL_T | PSL_D | PSL_V | \
	PSL_AC)

/* Page-table entry bits. */
#define PG_V        0x001
#define PG_RW       0x002
#define PG_U        0x004
#define PG_PWT      0x008
#define PG_PCD      0x010
#define PG_A        0x020
#define PG_M        0x040
#define PG_PS       0x080
#define PG_G        0x100
#define PG_NX       0x8000000000000000
#define PG_FRAME    0x000ffffffffff000

/* CPUID bits the kernel looks at. */
#define CPUID1_ECX_X2APIC       (1u << 21)
#define CPUID1_ECX_TSCDLINE     (1u << 24)
#define CPUID1_ECX_HYPERVISOR   (1u << 31)
#define CPUID1_EDX_APIC         (1u << 9)
#define CPUIDX_EDX_PAGE1GB      (1u << 26)      /* leaf 0x80000001 */
#define KVM_FEATURE_CLOCKSOURCE2 (1u << 3)      /* leaf 0x40000001 eax */

#endif /* AMD64_SPECIALREG_H */
