/* netkey.c - the network key file of a node home (see netkey.h). */
#include "agent/node/netkey.h"

#include <sodium.h>
#include <string.h>
#include <sys/stat.h>

#include "store/buf.h"
#include "store/sshsig.h"

#define NETKEY_MAGIC "vledger-network-key-v1 "

int vl_netkey_write_file(const char *path, const unsigned char key[32])
{
	vl_buf line = VL_BUF_INIT;
	int rc;

	if ((rc = vl_buf_puts(&line, NETKEY_MAGIC)) == 0 && (rc = vl_base64_encode(&line, key, 32)) == 0 &&
			(rc = vl_buf_putc(&line, '\n')) == 0)
		rc = vl_buf_write_file(path, line.ptr, line.len, 0600);
	vl_buf_free_secure(&line);
	return rc;
}

int vl_netkey_write(const char *home, const unsigned char key[32])
{
	vl_buf path = VL_BUF_INIT;
	int rc;

	if ((rc = vl_buf_printf(&path, "%s/keys/network.key", home)) == 0)
		rc = vl_netkey_write_file(path.ptr, key);
	vl_buf_free(&path);
	return rc;
}

int vl_netkey_beside(vl_buf *out, const char *network_file)
{
	const char *slash = strrchr(network_file, '/');

	vl_buf_clear(out);
	if (!slash)
		return vl_buf_puts(out, "network.key");
	if (slash == network_file)
		return vl_buf_puts(out, "/network.key");
	return vl_buf_printf(out, "%.*s/network.key", (int)(slash - network_file), network_file);
}

/* Parse a network key file's bytes (b, len) into out. */
static int netkey_parse(unsigned char out[32], const char *b, size_t len, const char *path)
{
	vl_buf raw = VL_BUF_INIT;
	size_t ml = strlen(NETKEY_MAGIC);
	int rc = 0;

	if (len < ml + 2 || strncmp(b, NETKEY_MAGIC, ml) != 0 || b[len - 1] != '\n' ||
			vl_base64_decode(&raw, b + ml, len - ml - 1) < 0 || raw.len != 32)
		rc = vl_error_set(VL_EINVALID, "'%s' is not a network key file", path);
	else
		memcpy(out, raw.ptr, 32);
	vl_buf_free_secure(&raw);
	return rc;
}

int vl_netkey_read_file(unsigned char out[32], const char *path)
{
	vl_buf b = VL_BUF_INIT;
	int rc;

	if ((rc = vl_buf_read_file(&b, path, 256)) == 0)
		rc = netkey_parse(out, b.ptr, b.len, path);
	else if (rc == VL_ETOOBIG)
		rc = vl_error_set(VL_EINVALID, "'%s' is not a network key file", path);
	vl_buf_free_secure(&b);
	return rc;
}

int vl_netkey_create(const char *home)
{
	unsigned char key[32];
	int rc;

	if ((rc = vl_crypto_init()) < 0)
		return rc;
	randombytes_buf(key, sizeof(key));
	rc = vl_netkey_write(home, key);
	sodium_memzero(key, sizeof(key));
	return rc;
}

int vl_netkey_load(unsigned char out[32], const char *home)
{
	vl_buf path = VL_BUF_INIT, b = VL_BUF_INIT;
	struct stat st;
	int rc;

	if ((rc = vl_buf_printf(&path, "%s/keys/network.key", home)) < 0)
		goto out;
	if (stat(path.ptr, &st) < 0) {
		rc = vl_error_set(VL_ENOTFOUND, "this node has no network key ('%s'): a county makes one with "
				"'init --new-network'; another node gets it with 'join', or copy it as network.key "
				"beside the network file that 'export network' wrote", path.ptr);
		goto out;
	}
	if (st.st_mode & 077) {
		rc = vl_error_set(VL_EDENIED, "'%s' may be read by others; chmod 600 it", path.ptr);
		goto out;
	}
	if ((rc = vl_buf_read_file(&b, path.ptr, 256)) < 0)
		goto out;
	rc = netkey_parse(out, b.ptr, b.len, path.ptr);
out:
	vl_buf_free_secure(&b);
	vl_buf_free(&path);
	return rc;
}
