/*
 * Boot-time calls at CPL 3 (amd64/boot_user.S says why and what such code may touch).
 */
#ifndef AMD64_BOOT_USER_H
#define AMD64_BOOT_USER_H

/* Run fn(arg) at CPL 3 and return when it does. Only before any process exists. */
void boot_user_call(void (*fn)(void *), void *arg);

/* A panic at CPL 3 ends here: its ud2 brings trap() to panic_finish at CPL 0. */
void boot_user_panic(void) __attribute__((noreturn));
void panic_finish(void) __attribute__((noreturn));

#endif /* AMD64_BOOT_USER_H */
