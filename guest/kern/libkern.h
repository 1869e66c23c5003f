/*
 * The kernel's C library subset. Signatures match the standard ones (vm/vm_platform.h
 * declares the same functions for the VM core).
 */
#ifndef KERN_LIBKERN_H
#define KERN_LIBKERN_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vm/vm_macros.h"

void *memset(void *dst, int c, size_t n);
void *memcpy(void *restrict dst, const void *restrict src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);
char *strrchr(const char *s, int c);
char *strstr(const char *haystack, const char *needle);
size_t strlcpy(char *dst, const char *src, size_t size);

/* Parse an unsigned number (decimal, or hex with 0x); *endp after the digits. */
uint64_t strtou64(const char *s, const char **endp, int base);


#endif /* KERN_LIBKERN_H */
