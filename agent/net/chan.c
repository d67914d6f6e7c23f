/* chan.c - the secure channel: handshake I/O and buffered box-stream (see chan.h). */
#include "agent/net/chan.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/net/boxstream.h"
#include "agent/net/shs.h"
#include "agent/net/sock.h"
#include "store/i18n.h"

#define BOX_WIRE (VL_BOX_HEADER + VL_BOX_MAX_BODY)
/* Sealed boxes staged for one send(2), and raw received bytes parsed from. */
#define OUT_BOXES 16
#define RAW_CAP (8 * BOX_WIRE)

/*
 * Invariants: pend holds pend_len (< VL_BOX_MAX_BODY after any call) bytes
 * not yet sealed; stage holds stage_len sealed bytes not yet sent; plain
 * holds plain_len decrypted bytes of which plain_off were returned;
 * raw[raw_off..raw_len) are received bytes not yet parsed. dead: an error
 * broke the stream (the nonces are out of step), nothing more is done.
 */
struct vl_chan {
	int fd;
	vl_box enc, dec;
	unsigned char peer_pk[32];
	int idle_ms;
	int dead, peer_done, said_goodbye;
	uint64_t in_cap, bytes_in, bytes_out;
	size_t pend_len, stage_len, plain_off, plain_len, raw_off, raw_len;
	unsigned char pend[VL_BOX_MAX_BODY];
	unsigned char stage[OUT_BOXES * BOX_WIRE];
	unsigned char plain[VL_BOX_MAX_BODY];
	unsigned char raw[RAW_CAP];
};

static int remaining(int64_t deadline)
{
	int64_t left;

	if (deadline < 0)
		return -1;
	left = deadline - vl_sock_now_ms();
	return left <= 0 ? 0 : (left > 0x7fffffff ? 0x7fffffff : (int)left);
}

/* The handshake's reads: exactly len bytes before the deadline. A close by
 * the peer is a refusal (the reference closes on any failed check). */
static int hs_read(int fd, unsigned char *buf, size_t len, int64_t deadline, const char *refusal)
{
	int rc = vl_sock_read_full(fd, buf, len, remaining(deadline), NULL);

	if (rc == VL_EPROTO)
		return vl_error_set(VL_EDENIED, "%s", refusal);
	return rc;
}

/* The deadlines need a non-blocking fd, whoever made it. */
static int nonblocking(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return vl_error_set(VL_ERROR, "cannot make the connection non-blocking: %s", strerror(errno));
	return 0;
}

static int chan_new(vl_chan **out, int fd, const vl_shs *s, uint64_t hs_in, uint64_t hs_out)
{
	vl_chan *c = calloc(1, sizeof(*c));

	if (!c)
		return vl_error_set(VL_ENOMEM, "out of memory");
	c->fd = fd;
	vl_shs_keys(s, &c->enc, &c->dec);
	memcpy(c->peer_pk, s->peer_pk, 32);
	c->idle_ms = VL_CHAN_DEFAULT_TIMEOUT_MS;
	c->bytes_in = hs_in;
	c->bytes_out = hs_out;
	*out = c;
	return 0;
}

int vl_shs_client(vl_chan **out, int fd, const unsigned char netkey[32], const vl_key *me,
		const unsigned char server_pk[32], int timeout_ms)
{
	vl_shs s;
	unsigned char m1[VL_SHS_MSG1], m2[VL_SHS_MSG2], m3[VL_SHS_MSG3], m4[VL_SHS_MSG4];
	int64_t deadline = timeout_ms < 0 ? -1 : vl_sock_now_ms() + timeout_ms;
	int rc;

	*out = NULL;
	memset(&s, 0, sizeof(s));
	if ((rc = vl_crypto_init()) < 0 || (rc = nonblocking(fd)) < 0)
		goto fail;
	vl_shs_init(&s, netkey, me, server_pk, NULL);
	vl_shs_hello(&s, m1);
	if ((rc = vl_sock_write_full(fd, m1, sizeof(m1), remaining(deadline))) < 0 ||
			(rc = hs_read(fd, m2, sizeof(m2), deadline, _("the server closed the connection at "
				"the handshake's first message: it is on another network (its network key "
				"differs)"))) < 0 ||
			(rc = vl_shs_check_hello(&s, m2)) < 0 || (rc = vl_shs_client_auth(&s, m3)) < 0 ||
			(rc = vl_sock_write_full(fd, m3, sizeof(m3), remaining(deadline))) < 0 ||
			(rc = hs_read(fd, m4, sizeof(m4), deadline, _("the server closed the connection at "
				"the handshake's third message: it has another key than the one given, or it "
				"does not accept this node"))) < 0 ||
			(rc = vl_shs_client_check_accept(&s, m4)) < 0 ||
			(rc = chan_new(out, fd, &s, sizeof(m2) + sizeof(m4), sizeof(m1) + sizeof(m3))) < 0)
		goto fail;
	vl_shs_wipe(&s);
	return 0;
fail:
	vl_shs_wipe(&s);
	close(fd);
	return vl_error_wrap(rc, "secret handshake with the server");
}

int vl_shs_server(vl_chan **out, int fd, const unsigned char netkey[32], const vl_key *me,
		int timeout_ms)
{
	vl_shs s;
	unsigned char m1[VL_SHS_MSG1], m2[VL_SHS_MSG2], m3[VL_SHS_MSG3], m4[VL_SHS_MSG4];
	int64_t deadline = timeout_ms < 0 ? -1 : vl_sock_now_ms() + timeout_ms;
	int rc;

	*out = NULL;
	memset(&s, 0, sizeof(s));
	if ((rc = vl_crypto_init()) < 0 || (rc = nonblocking(fd)) < 0)
		goto fail;
	vl_shs_init(&s, netkey, me, NULL, NULL);
	/* nothing is written before msg1's HMAC has proved the network key */
	if ((rc = vl_sock_read_full(fd, m1, sizeof(m1), remaining(deadline), NULL)) < 0 ||
			(rc = vl_shs_check_hello(&s, m1)) < 0)
		goto fail;
	vl_shs_hello(&s, m2);
	if ((rc = vl_sock_write_full(fd, m2, sizeof(m2), remaining(deadline))) < 0 ||
			(rc = vl_sock_read_full(fd, m3, sizeof(m3), remaining(deadline), NULL)) < 0 ||
			(rc = vl_shs_server_check_auth(&s, m3)) < 0)
		goto fail;
	vl_shs_server_accept(&s, m4);
	if ((rc = vl_sock_write_full(fd, m4, sizeof(m4), remaining(deadline))) < 0 ||
			(rc = chan_new(out, fd, &s, sizeof(m1) + sizeof(m3), sizeof(m2) + sizeof(m4))) < 0)
		goto fail;
	vl_shs_wipe(&s);
	return 0;
fail:
	vl_shs_wipe(&s);
	close(fd);
	return vl_error_wrap(rc, "secret handshake with a client");
}

const unsigned char *vl_chan_peer_key(const vl_chan *c)
{
	return c->peer_pk;
}

void vl_chan_set_idle_timeout(vl_chan *c, int ms)
{
	c->idle_ms = ms;
}

void vl_chan_set_byte_cap(vl_chan *c, uint64_t in_cap)
{
	c->in_cap = in_cap;
}

int vl_chan_fd(const vl_chan *c)
{
	return c->fd;
}

uint64_t vl_chan_bytes_in(const vl_chan *c)
{
	return c->bytes_in;
}

uint64_t vl_chan_bytes_out(const vl_chan *c)
{
	return c->bytes_out;
}

static int broken(vl_chan *c, int rc)
{
	c->dead = 1;
	return rc;
}

static int check_usable(vl_chan *c)
{
	if (c->dead)
		return vl_error_set(VL_EPROTO, "the channel broke on an earlier error; open a new session");
	return 0;
}

/* Send the stage a box's worth at a time, each within the idle timeout:
 * a slow link is fine as long as the peer takes a box per timeout. */
static int send_stage(vl_chan *c)
{
	size_t off = 0, n;
	int rc;

	while (off < c->stage_len) {
		n = c->stage_len - off < BOX_WIRE ? c->stage_len - off : BOX_WIRE;
		if ((rc = vl_sock_write_full(c->fd, c->stage + off, n, c->idle_ms)) < 0)
			return broken(c, rc);
		off += n;
		c->bytes_out += n;
	}
	c->stage_len = 0;
	return 0;
}

/* Seal len bytes as one box into the stage, sending the stage first if full. */
static int seal(vl_chan *c, const void *data, size_t len)
{
	int rc;

	if (sizeof(c->stage) - c->stage_len < VL_BOX_HEADER + len && (rc = send_stage(c)) < 0)
		return rc;
	vl_box_seal(&c->enc, c->stage + c->stage_len, data, len);
	c->stage_len += VL_BOX_HEADER + len;
	return 0;
}

int vl_chan_write(vl_chan *c, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	size_t n;
	int rc;

	if ((rc = check_usable(c)) < 0)
		return rc;
	if (c->said_goodbye)
		return vl_error_set(VL_EINVALID, "write after goodbye on a channel");
	while (len > 0) {
		if (c->pend_len == 0 && len >= VL_BOX_MAX_BODY) {
			/* whole boxes straight from the caller's buffer */
			if ((rc = seal(c, p, VL_BOX_MAX_BODY)) < 0)
				return rc;
			p += VL_BOX_MAX_BODY;
			len -= VL_BOX_MAX_BODY;
			continue;
		}
		n = VL_BOX_MAX_BODY - c->pend_len;
		if (n > len)
			n = len;
		memcpy(c->pend + c->pend_len, p, n);
		c->pend_len += n;
		p += n;
		len -= n;
		if (c->pend_len == VL_BOX_MAX_BODY) {
			if ((rc = seal(c, c->pend, c->pend_len)) < 0)
				return rc;
			c->pend_len = 0;
		}
	}
	return 0;
}

int vl_chan_flush(vl_chan *c)
{
	int rc;

	if ((rc = check_usable(c)) < 0)
		return rc;
	if (c->pend_len > 0) {
		if ((rc = seal(c, c->pend, c->pend_len)) < 0)
			return rc;
		c->pend_len = 0;
	}
	return send_stage(c);
}

/* Make raw hold at least need unparsed bytes, all by deadline. */
static int fill(vl_chan *c, size_t need, int64_t deadline)
{
	size_t got = 0;
	int rc;

	if (c->raw_len - c->raw_off >= need)
		return 0;
	if (c->raw_off > 0) {
		memmove(c->raw, c->raw + c->raw_off, c->raw_len - c->raw_off);
		c->raw_len -= c->raw_off;
		c->raw_off = 0;
	}
	while (c->raw_len < need) {
		/* one deadline for the whole box: past it, poll waits 0 ms */
		rc = vl_sock_read_some(c->fd, c->raw + c->raw_len, sizeof(c->raw) - c->raw_len,
				remaining(deadline), &got);
		if (rc == VL_EPROTO)
			return c->raw_len ? vl_error_set(VL_EPROTO, "the peer closed the connection in the middle of a box") :
				vl_error_set(VL_EPROTO, "the peer closed the connection without saying goodbye");
		if (rc < 0)
			return rc;
		c->raw_len += got;
	}
	return 0;
}

static int check_cap(vl_chan *c, size_t more)
{
	if (c->in_cap && c->bytes_in + more > c->in_cap)
		return vl_error_set(VL_ETOOBIG, "the peer sent more than this session's cap of %llu bytes",
				(unsigned long long)c->in_cap);
	return 0;
}

/* Receive the next box into plain (or peer_done at the goodbye). */
static int next_box(vl_chan *c)
{
	int64_t deadline = c->idle_ms < 0 ? -1 : vl_sock_now_ms() + c->idle_ms;
	unsigned char tag[VL_BOX_TAG];
	size_t len = 0;
	int rc;

	if ((rc = check_cap(c, VL_BOX_HEADER)) < 0 || (rc = fill(c, VL_BOX_HEADER, deadline)) < 0)
		return broken(c, rc);
	rc = vl_box_open_header(&c->dec, &len, tag, c->raw + c->raw_off);
	if (rc < 0)
		return broken(c, rc);
	c->raw_off += VL_BOX_HEADER;
	c->bytes_in += VL_BOX_HEADER;
	if (rc == 1) {
		c->peer_done = 1;
		return 0;
	}
	if ((rc = check_cap(c, len)) < 0 || (rc = fill(c, len, deadline)) < 0 ||
			(rc = vl_box_open_body(&c->dec, c->plain, c->raw + c->raw_off, len, tag)) < 0)
		return broken(c, rc);
	c->raw_off += len;
	c->bytes_in += len;
	c->plain_off = 0;
	c->plain_len = len;
	return 0;
}

int vl_chan_read(vl_chan *c, void *buf, size_t cap, size_t *got)
{
	size_t n;
	int rc;

	if ((rc = check_usable(c)) < 0)
		return rc;
	if (cap == 0)
		return vl_error_set(VL_EINVALID, "a channel read needs room for a byte");
	if (!c->said_goodbye && (rc = vl_chan_flush(c)) < 0)
		return rc;
	while (c->plain_off == c->plain_len) {
		if (c->peer_done) {
			*got = 0;
			return 0;
		}
		if ((rc = next_box(c)) < 0)
			return rc;
	}
	n = c->plain_len - c->plain_off;
	if (n > cap)
		n = cap;
	memcpy(buf, c->plain + c->plain_off, n);
	c->plain_off += n;
	*got = n;
	return 0;
}

int vl_chan_read_exact(vl_chan *c, void *buf, size_t len)
{
	unsigned char *p = buf;
	size_t got = 0;
	int rc;

	while (len > 0) {
		if ((rc = vl_chan_read(c, p, len, &got)) < 0)
			return rc;
		if (got == 0)
			return vl_error_set(VL_EPROTO, "the peer ended the stream %zu bytes early", len);
		p += got;
		len -= got;
	}
	return 0;
}

int vl_chan_goodbye(vl_chan *c)
{
	int rc;

	if (c->said_goodbye)
		return 0;
	if ((rc = vl_chan_flush(c)) < 0)
		return rc;
	if (sizeof(c->stage) - c->stage_len < VL_BOX_HEADER && (rc = send_stage(c)) < 0)
		return rc;
	vl_box_goodbye(&c->enc, c->stage + c->stage_len);
	c->stage_len += VL_BOX_HEADER;
	c->said_goodbye = 1;
	return send_stage(c);
}

void vl_chan_free(vl_chan *c)
{
	if (!c)
		return;
	close(c->fd);
	sodium_memzero(c, sizeof(*c));
	free(c);
}
