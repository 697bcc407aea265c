// SPDX-License-Identifier: MIT
// ARM semihosting calls the benchmark image needs: text out and exit with a status.
#ifndef BENCH_SEMIHOST_H
#define BENCH_SEMIHOST_H

void semihost_write(const char *text);
_Noreturn void semihost_exit(int status);

#endif
