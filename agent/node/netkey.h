/*
 * netkey.h - <home>/keys/network.key, the network key of a node home: the
 * capability of the future secret handshake, made once by the county's
 * `init --new-network` and handed on by invitations (node/invite.h). The
 * file is "vledger-network-key-v1 <base64 of 32 bytes>\n", mode 0600 like
 * keys/node.key, and never enters the config branch.
 */
#ifndef VL_NETKEY_H
#define VL_NETKEY_H

#include "store/error.h"

/* Write a new random network key to <home>/keys/network.key. */
int vl_netkey_create(const char *home) VL_MUST_CHECK;
/* Write `key` (a joined network's, from an invitation) to
 * <home>/keys/network.key. */
int vl_netkey_write(const char *home, const unsigned char key[32]) VL_MUST_CHECK;
/*
 * Read <home>/keys/network.key into out. VL_ENOTFOUND when the home has
 * none (only a node made by 'init --new-network' or 'join' holds one);
 * VL_EDENIED when others may read the file; VL_EINVALID when it is not a
 * network key file.
 */
int vl_netkey_load(unsigned char out[32], const char *home) VL_MUST_CHECK;

#endif
