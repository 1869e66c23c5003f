/*
 * The kernel's layout table for dump readers (devices/dump_layout.h), and the variable
 * the process list starts at: both registered in hc_dump_desc (dev/hostcall.c).
 */
#ifndef KERN_DUMP_LAYOUT_H
#define KERN_DUMP_LAYOUT_H

#include <stdint.h>

#include "devices/dump_layout.h"

extern const uint32_t dump_layout[DL_NSLOTS];

/* kern_proc.c: every process, newest first, through p_allnext (hc_dump_desc.allproc). */
struct proc;
extern struct proc *proc_all;

#endif /* KERN_DUMP_LAYOUT_H */
