/* reveal.c - the reveal log (reveal.h). */
#include "agent/node/reveal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store/yaml.h"

static int put_str_or_null(vl_buf *b, const char *s)
{
	return s ? vl_json_str(b, s, strlen(s)) : vl_buf_puts(b, "null");
}

int vl_reveal_log(const vl_node *n, const vl_reveal_entry *e)
{
	vl_buf line = VL_BUF_INIT, dir = VL_BUF_INIT, path = VL_BUF_INIT;
	char when[32];
	time_t t = time(NULL);
	struct tm tm;
	size_t i, off;
	ssize_t w;
	int fd = -1, rc;

	if (!gmtime_r(&t, &tm) || !strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm))
		return vl_error_set(VL_ERROR, "reveal refused: the system clock cannot be read for the reveal log");
	if ((rc = vl_buf_printf(&line, "{\"at\":\"%s\",\"fingerprint\":\"%s\",\"node\":", when, n->fp)) < 0 ||
			(rc = put_str_or_null(&line, n->name)) < 0 || (rc = vl_buf_puts(&line, ",\"command\":")) < 0 ||
			(rc = put_str_or_null(&line, e->command)) < 0 || (rc = vl_buf_puts(&line, ",\"ledger\":")) < 0 ||
			(rc = put_str_or_null(&line, e->ledger)) < 0 || (rc = vl_buf_puts(&line, ",\"scope\":")) < 0 ||
			(rc = put_str_or_null(&line, e->scope)) < 0 ||
			(rc = vl_buf_printf(&line, ",\"count\":%zu,\"ids\":[", e->count)) < 0)
		goto out;
	for (i = 0; e->ids && i < e->nids && i < VL_REVEAL_MAX_IDS; i++)
		if ((rc = vl_buf_puts(&line, i ? "," : "")) < 0 || (rc = vl_json_str(&line, e->ids[i], strlen(e->ids[i]))) < 0)
			goto out;
	if ((rc = vl_buf_printf(&line, "],\"ids_complete\":%s}\n", e->nids == e->count && e->nids <= VL_REVEAL_MAX_IDS ?
			"true" : "false")) < 0 ||
			(rc = vl_buf_printf(&dir, "%s/log", n->home)) < 0 ||
			(rc = vl_buf_printf(&path, "%s/reveal.log", dir.ptr)) < 0)
		goto out;
	if (mkdir(dir.ptr, 0700) < 0 && errno != EEXIST) {
		rc = vl_error_set(VL_ERROR, "reveal refused: cannot create the reveal log directory '%s' (%s); "
				"fix its permissions", dir.ptr, strerror(errno));
		goto out;
	}
	if ((fd = open(path.ptr, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600)) < 0) {
		rc = vl_error_set(VL_ERROR, "reveal refused: cannot open the reveal log '%s' (%s); "
				"fix its permissions", path.ptr, strerror(errno));
		goto out;
	}
	/* One write per line: O_APPEND keeps concurrent lines whole. */
	for (off = 0; off < line.len; off += (size_t)w) {
		w = write(fd, line.ptr + off, line.len - off);
		if (w < 0 && errno == EINTR) {
			w = 0;
			continue;
		}
		if (w <= 0) {
			rc = vl_error_set(VL_ERROR, "reveal refused: cannot write the reveal log '%s' (%s); "
					"free disk space or fix its permissions", path.ptr, w < 0 ? strerror(errno) : "short write");
			goto out;
		}
	}
	if (fsync(fd) < 0) {
		rc = vl_error_set(VL_ERROR, "reveal refused: cannot sync the reveal log '%s' (%s)", path.ptr,
				strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (fd >= 0 && close(fd) < 0 && rc == 0)
		rc = vl_error_set(VL_ERROR, "reveal refused: cannot close the reveal log '%s' (%s)", path.ptr,
				strerror(errno));
	vl_buf_free(&line);
	vl_buf_free(&dir);
	vl_buf_free(&path);
	return rc;
}
