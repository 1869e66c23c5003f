/*
 * Exception and interrupt vectors, the trap frame the common entry builds, and the
 * expected-trap mechanism tests (and later copyin/copyout) use.
 */
#ifndef AMD64_TRAP_H
#define AMD64_TRAP_H

#define T_DE        0   /* divide error */
#define T_DB        1
#define T_NMI       2
#define T_BP        3
#define T_OF        4
#define T_BR        5
#define T_UD        6   /* invalid opcode */
#define T_NM        7
#define T_DF        8   /* double fault */
#define T_TS        10
#define T_NP        11
#define T_SS        12
#define T_GP        13  /* general protection */
#define T_PF        14  /* page fault */
#define T_MF        16
#define T_AC        17
#define T_MC        18
#define T_XM        19
#define T_VE        20
#define T_CP        21
#define T_NEXCEPT   32

/* Interrupt vectors. */
#define IDT_LAPIC_TIMER     0xf0
#define IDT_LAPIC_SPURIOUS  0xff

/* Page-fault error code bits. */
#define PGEX_P      0x01
#define PGEX_W      0x02
#define PGEX_U      0x04
#define PGEX_RSV    0x08
#define PGEX_I      0x10

/* Offsets in struct trapframe, for the assembler. */
#define TF_VECTOR   120
#define TF_ERR      128
#define TF_RIP      136
#define TF_CS       144
#define TF_RFLAGS   152
#define TF_RSP      160
#define TF_SS       168
#define TF_RAX      112
#define TF_RDI      72
#define TF_RSI      80
#define TF_CR2      176
#define TF_SIZE     184

/* The room a stub takes below TSS.RSP0 for a frame in flight to the kernel (exception.S:
 * the forwarded frame's 9 words, rounded to keep RSP0 16-byte aligned). */
#define FWD_SIZE        80

/* Marks a trap's vector: it came in syscall_kentry's first instructions and is the
 * user's (exception.S: trap_syscall_window; trap.c: trap_user_window). */
#define TRAP_WINDOW     0x100

/* RFLAGS of the kernel: IF set (at CPL 3 kvm_pvm keeps it set anyway; the soft mask
 * decides), bit 1 reserved. IOPL 0: its ports are in the TSS's I/O bitmap. */
#define KERNEL_RFLAGS   0x202

#ifndef __ASSEMBLY__
#include <stdbool.h>
#include <stdint.h>

/* What trap_kentry builds on the kernel stack (low address first): GPRs, then vector and
 * error code (0 when the CPU pushes none), then the CPU's own frame, then CR2 as the
 * stub read it (meaningful for #PF only). */
struct trapframe {
	uint64_t tf_r15, tf_r14, tf_r13, tf_r12, tf_r11, tf_r10, tf_r9, tf_r8;
	uint64_t tf_rbp, tf_rdi, tf_rsi, tf_rdx, tf_rcx, tf_rbx, tf_rax;
	uint64_t tf_vector;
	uint64_t tf_err;
	uint64_t tf_rip, tf_cs, tf_rflags, tf_rsp, tf_ss;
	uint64_t tf_cr2;
};

/* A forwarded trap, at CPL 3 (amd64/exception.S). */
void trap(struct trapframe *tf);
/* An interrupt's half of it, for trap() and trap_user(). => unmasked. */
void trap_intr(struct trapframe *tf);
/* This CPU ready for user mode: where `syscall` goes, and the hot entries' fixed words
 * (exception.S: ud_entry, pf_entry). */
void trap_user_init(void);

/* A trap that came in syscall_kentry's first instructions, on the user's stack, and was
 * taken as the user's (its vector marked TRAP_WINDOW): the mark taken off, and tf made
 * the trampoline's #UD that entry was for, the entry's per-CPU state given back.
 * => false for any other trap. */
bool trap_user_window(struct trapframe *tf);
/* How many this CPU took: for tests (systramp). */
extern uint64_t trap_window_count;
/* An exception at CPL 0: a bug of the stubs. tf has no tf_cr2 (the CPU's frame ends at
 * tf_ss); cr2 is passed apart. Prints and stops. */
void trap_fatal_cpl0(struct trapframe *tf, uint64_t cr2) __attribute__((noreturn));

/* The soft interrupt mask (the kernel cannot cli at CPL 3 here): while intr_soft_mask
 * is set, the stubs record interrupts in intr_pending instead of forwarding them.
 * Written by the kernel (cpufunc.h's disable_intr/enable_intr) and read by the stubs. */
extern volatile uint8_t intr_soft_mask;
extern volatile uint8_t intr_pending_any;
extern volatile uint64_t intr_pending[4];
/* Run the handlers of the recorded interrupts. => the soft mask clear. */
void intr_run_pending(void);
const char *trap_name(unsigned vector);

/*
 * Expected traps. An instruction that may fault on purpose is wrapped in TRAP_FIXUP(),
 * which records (its address, the address after it) in the linker set "set_trapfix".
 * A test arms an expectation for one vector with trap_expect(); when that vector hits an
 * instruction that has a fixup, trap() records the vector, error code and cr2, and
 * resumes after the instruction. Any other trap still panics.
 *
 *   trap_expect(T_UD);
 *   __asm__ volatile(TRAP_FIXUP("ud2"));
 *   KT_ASSERT(trap_expect_done(&rec));
 */
#define TRAP_FIXUP(insn)                                                   \
	"661:\n\t" insn "\n662:\n\t"                                        \
	".pushsection set_trapfix, \"a\"\n\t.balign 8\n\t"                   \
	".quad 661b, 662b\n\t.popsection\n\t"

struct trap_fixup {
	uint64_t tfx_rip;       /* the instruction that may fault */
	uint64_t tfx_resume;    /* where execution continues */
};

struct trap_record {
	unsigned tr_vector;
	uint64_t tr_err;
	uint64_t tr_cr2;        /* #PF only */
	uint64_t tr_rip;
};

void trap_expect(unsigned vector);
/* Disarms; true (and *rec filled) when the expected trap was taken since trap_expect. */
bool trap_expect_done(struct trap_record *rec);

/* Interrupt handlers for vectors >= 32; h runs with interrupts (soft-)masked, EOI is its
 * job. tf is the interrupted frame, or NULL for an interrupt run when the kernel
 * unmasked (it was recorded while masked). */
typedef void (*intr_handler_t)(struct trapframe *tf);
void intr_register(unsigned vector, intr_handler_t h);
uint64_t intr_count(unsigned vector);

#endif /* !__ASSEMBLY__ */
#endif /* AMD64_TRAP_H */
