/*
 * GDT layout. The user selectors follow the order SYSCALL/SYSRET need:
 * STAR[47:32] = GSEL_KCODE (kernel SS = +8), STAR[63:48] = GSEL_UCODE32 (user SS = +8,
 * 64-bit user CS = +16).
 */
#ifndef AMD64_SEGMENTS_H
#define AMD64_SEGMENTS_H

#define GSEL_NULL       0x00
#define GSEL_KCODE      0x08
#define GSEL_KDATA      0x10
#define GSEL_UCODE32    0x18
#define GSEL_UDATA      0x20
#define GSEL_UCODE      0x28
#define GSEL_TSS        0x30    /* 16-byte system descriptor: slots 6 and 7 */
#define GDT_SIZE        0x40

#define SEL_UPL         3

/* IST slots of the TSS used by the IDT. */
#define IST_DF          1
#define IST_NMI         2
#define IST_MC          3
#define IST_PF          4   /* exception.S: pf_entry's frame, out of RSP0's way */

#endif /* AMD64_SEGMENTS_H */
