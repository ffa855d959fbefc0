/* replay.c - make test's side of a harness: every corpus file and stored reproducer, once, without libFuzzer. */
#include "fuzz.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../common/fileio.h"
#include "../../common/banned.h"

/*
 * Usage: fuzz_NAME [-t SECONDS] DIR-OR-FILE...
 *
 * Each input runs in a child of its own, so that one crash, sanitizer
 * report, leak or broken property fails that input and names it while the
 * others still run. An input that takes longer than the limit (default 20 s,
 * far above any input's cost under the sanitizers) fails as a hang: a
 * reproducer of an endless loop stays one. Prints one line per folder and
 * per failure, then "N passed, N failed".
 */
#define REPLAY_MAX_BYTES (16u * 1024 * 1024)	/* the largest image the loader takes */
#define REPLAY_MAX_FILES 100000			/* per folder */

/* libFuzzer's own driver calls it when a harness defines it; so do we. */
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static int passed, failed;
static unsigned limit_s = 20;

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void run_one(const char *path)
{
	struct err e;
	size_t len;
	char *text = file_read(path, REPLAY_MAX_BYTES, &len, &e);
	pid_t pid;
	int st;

	if (!text) {
		printf("FAIL %s\n", e.msg);
		failed++;
		return;
	}
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		printf("FAIL %s: cannot fork: %s\n", path, strerror(errno));
		failed++;
		free(text);
		return;
	}
	if (pid == 0) {
		/* an exact-size copy, so that reading past the input is caught */
		uint8_t *data = malloc(len ? len : 1);

		if (!data)
			_exit(3);
		memcpy(data, text, len);
		free(text);
		alarm(limit_s);
		LLVMFuzzerTestOneInput(data, len);
		free(data);
		exit(0);
	}
	free(text);
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR) {
			printf("FAIL %s: waitpid: %s\n", path, strerror(errno));
			failed++;
			return;
		}
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
		passed++;
	} else if (WIFSIGNALED(st) && WTERMSIG(st) == SIGALRM) {
		printf("FAIL %s: still running after %u s (a hang)\n", path, limit_s);
		failed++;
	} else if (WIFSIGNALED(st)) {
		printf("FAIL %s: killed by signal %d (%s)\n", path, WTERMSIG(st),
		       strsignal(WTERMSIG(st)));
		failed++;
	} else {
		printf("FAIL %s: exit status %d\n", path, WEXITSTATUS(st));
		failed++;
	}
}

static void run_dir(const char *dir)
{
	char **names = NULL;
	size_t n = 0, cap = 0;
	int before = failed + passed;
	struct dirent *de;
	DIR *d = opendir(dir);

	if (!d) {
		printf("FAIL cannot open '%s': %s\n", dir, strerror(errno));
		failed++;
		return;
	}
	while ((de = readdir(d)) != NULL && n < REPLAY_MAX_FILES) {
		char path[4200];
		struct stat st;

		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (de->d_name[0] == '.' || stat(path, &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		if (n == cap) {
			char **grown = realloc(names, (cap = cap ? 2 * cap : 64) * sizeof(*names));

			if (!grown)
				break;
			names = grown;
		}
		if (!(names[n] = strdup(path)))
			break;
		n++;
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), by_name);	/* the same order every run */
	for (size_t i = 0; i < n; i++) {
		run_one(names[i]);
		free(names[i]);
	}
	free(names);
	if (n == 0) {
		printf("FAIL '%s' holds no inputs\n", dir);
		failed++;
	}
	printf("     %s: %d inputs\n", dir, failed + passed - before);
}

int main(int argc, char **argv)
{
	int first = 1;

	if (argc > 2 && !strcmp(argv[1], "-t")) {
		limit_s = (unsigned)strtoul(argv[2], NULL, 10);
		first = 3;
		if (!limit_s || limit_s > 3600) {
			fprintf(stderr, "%s: -t takes 1 to 3600 seconds\n", argv[0]);
			return 2;
		}
	}
	if (first >= argc) {
		fprintf(stderr, "usage: %s [-t SECONDS] DIR-OR-FILE...\n", argv[0]);
		return 2;
	}
	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	for (int i = first; i < argc; i++) {
		struct stat st;

		if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode))
			run_dir(argv[i]);
		else
			run_one(argv[i]);
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
