/*
 * libFuzzer target: the protocol trace's formatters (common/trace.c),
 * which walk bytes a peer sent (received frames, and plaintext messages
 * after gss_unwrap) without decoding them first.
 *
 * Input: one byte choosing the entry (even: trace_frames over the rest,
 * as a stream of frames; odd: trace_msg over the rest, as one plaintext
 * message), then the bytes.  Properties: no crash, leak or sanitizer
 * report; the trace stays on; each call writes at least one line (a
 * message always has one; frames have one for a non-empty input).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "trace.h"

#include "fuzz_check.h"

static const char *fuzz_trace_path;

static void
fuzz_trace_cleanup(void)
{
	trace_close();
	unlink(fuzz_trace_path);
}

/* The trace goes to a private file that is truncated now and then and
 * removed at exit. */
static void
fuzz_trace_init(void)
{
	static char path[64];

	if (fuzz_trace_path != NULL)
		return;
	snprintf(path, sizeof(path), "/tmp/fuzz_trace.%ld", (long)getpid());
	fuzz_trace_path = path;
	FUZZ_CHECK(trace_open(fuzz_trace_path, NULL, 0) == 0);
	atexit(fuzz_trace_cleanup);
}

static long
fuzz_trace_size(void)
{
	struct stat st;

	FUZZ_CHECK(stat(fuzz_trace_path, &st) == 0);
	return (long)st.st_size;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	long before;

	fuzz_trace_init();
	if (fuzz_trace_size() > 64L * 1024 * 1024)
		FUZZ_CHECK(truncate(fuzz_trace_path, 0) == 0);
	if (size < 1)
		return 0;
	before = fuzz_trace_size();
	if (data[0] & 1)
		trace_msg("fuzz", "recv", data + 1, size - 1);
	else
		trace_frames("fuzz", "recv", data + 1, size - 1);
	FUZZ_CHECK(trace_on());
	if ((data[0] & 1) || size > 1)
		FUZZ_CHECK(fuzz_trace_size() > before);
	return 0;
}
