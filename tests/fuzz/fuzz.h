/* fuzz.h - what every libFuzzer harness in tests/fuzz/ shares: the entry points, a scratch folder, the sources. */
#ifndef QRW_FUZZ_H
#define QRW_FUZZ_H

#include <stddef.h>
#include <stdint.h>

/*
 * Each fuzz_NAME.c defines LLVMFuzzerTestOneInput() and may define
 * LLVMFuzzerInitialize(). Built with clang -fsanitize=fuzzer (make fuzz)
 * libFuzzer drives them; built with the test build (make test) replay.c
 * feeds them every file of their corpus once. A harness checks properties
 * of what the code under test returns and abort()s when one fails: a
 * crash, a sanitizer report, a leak and a broken property all count.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/*
 * A scratch folder for this process, made on first use (in $TMPDIR, else
 * /dev/shm where writes and syncs cost nothing, else /tmp) and removed at
 * exit by the process that made it. Aborts when it cannot be made.
 */
const char *fuzz_tmpdir(void);

/* Remove everything inside dir (not dir itself). Returns 0 or -1. */
int fuzz_dir_clear(const char *dir);

/* Write n bytes to dir/name, replacing it; aborts on failure. Returns the path, valid until the next call. */
const char *fuzz_put(const char *dir, const char *name, const void *data, size_t n);

/*
 * A malloc'ed copy of the n bytes at data in which every "@DIR@" is the
 * scratch folder, so that an input can name files the harness made there
 * (a probe's secret file). Sets *len; aborts when out of memory.
 */
char *fuzz_expand(const uint8_t *data, size_t n, size_t *len);

/* The path of a file in the source tree ("targets/examples/..."), valid until the next call. */
const char *fuzz_source(const char *rel);

#endif
