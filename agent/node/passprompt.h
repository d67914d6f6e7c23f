/*
 * passprompt.h - asking for a passphrase on the terminal, without echo.
 *
 * A sealed key (store/sshsig.h) is unlocked with a passphrase file, the
 * file named by $VLEDGER_PASSPHRASE_FILE, or, when neither is given and
 * stdin is a terminal, a prompt. The passphrase is read with echo off
 * (termios) from /dev/tty (stdin when there is none); the terminal is
 * restored on every path: success, error, end of input, and SIGINT,
 * SIGTERM, SIGHUP or SIGQUIT during the prompt (the handler restores it,
 * then the signal is raised again with its former action). What is typed
 * is never echoed, logged or put in a message.
 */
#ifndef VL_NODE_PASSPROMPT_H
#define VL_NODE_PASSPROMPT_H

#include "store/error.h"

/* The longest passphrase a prompt accepts, in bytes (as a passphrase file). */
#define VL_PASSPHRASE_MAX 1023

/* 1 when a passphrase may be asked for: stdin is a terminal; 0 otherwise. */
int vl_passphrase_can_prompt(void);

/*
 * Write prompt (a whole sentence, already translated) to the terminal and
 * read one line with echo off. *out: the passphrase (malloc'd, NUL-ended,
 * without the newline); the caller zeroes it (sodium_memzero) and frees it.
 * VL_EDENIED when nothing was typed or input ended; VL_ETOOBIG past
 * VL_PASSPHRASE_MAX; VL_ERROR when the terminal cannot be set.
 */
int vl_passphrase_prompt(char **out, const char *prompt) VL_MUST_CHECK;

#endif
