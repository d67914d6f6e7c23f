/*
 * netkey.h - <home>/keys/network.key, the network key of a node home: the
 * capability of the secret handshake (agent/net/chan.h), made once by the county's
 * `init --new-network` and handed on by invitations (node/invite.h). The
 * file is "vledger-network-key-v1 <base64 of 32 bytes>\n", mode 0600 like
 * keys/node.key, and never enters the config branch.
 */
#ifndef VL_NETKEY_H
#define VL_NETKEY_H

#include "store/buf.h"
#include "store/error.h"

/* Write a new random network key to <home>/keys/network.key. */
int vl_netkey_create(const char *home) VL_MUST_CHECK;
/* Write `key` (a joined network's, from an invitation) to
 * <home>/keys/network.key. */
int vl_netkey_write(const char *home, const unsigned char key[32]) VL_MUST_CHECK;
/*
 * The network key file beside a network file, as 'export network --output
 * DIR/network.yaml' writes it and 'init --network DIR/network.yaml' takes
 * it: DIR/network.key, same format and mode 0600, never in the config
 * branch. vl_netkey_write_file writes one (atomic replace);
 * vl_netkey_read_file reads one whatever its mode (a copy brought on
 * removable media may show any mode; the node stores its own 0600):
 * VL_ENOTFOUND when absent, VL_EINVALID when it is not a network key file.
 * vl_netkey_beside sets out to "<directory of network_file>/network.key".
 */
int vl_netkey_write_file(const char *path, const unsigned char key[32]) VL_MUST_CHECK;
int vl_netkey_read_file(unsigned char out[32], const char *path) VL_MUST_CHECK;
int vl_netkey_beside(vl_buf *out, const char *network_file) VL_MUST_CHECK;
/*
 * Read <home>/keys/network.key into out. VL_ENOTFOUND when the home has
 * none (a node made by 'init --network' without a network.key beside the
 * file, before this release);
 * VL_EDENIED when others may read the file; VL_EINVALID when it is not a
 * network key file.
 */
int vl_netkey_load(unsigned char out[32], const char *home) VL_MUST_CHECK;

#endif
