/* Reading mnemonic files: refused when readable by group or others. */
#ifndef AW_KEYFILE_H
#define AW_KEYFILE_H

#include <stddef.h>

/*
 * Reads the mnemonic in path into a new buffer (caller clears with keyfile_free).  NULL with
 * err naming the file (and its mode when it is readable by group or others).
 */
char	*keyfile_read(const char *path, char *err, size_t errlen);
void	 keyfile_free(char *);
/* Writes a new 0600 file (refuses to overwrite).  -1 with err. */
int	 keyfile_write_new(const char *path, const char *mnemonic, char *err, size_t errlen);

#endif
