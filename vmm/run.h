/*
 * `vmm run`: build the machine the options describe, run it, and return the exit
 * status the process should end with.
 */
#ifndef VMM_RUN_H
#define VMM_RUN_H

struct cli_opts;

int vmm_run(const struct cli_opts *o);

#endif /* VMM_RUN_H */
