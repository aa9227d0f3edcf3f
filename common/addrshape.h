/*
 * The shape of an allo address (issue 22): "allo1" then bech32's data characters, 39 to 90
 * characters in all.  What the listener and the trainer can say about an inferer's address
 * without the checksum, which the submitter (submitter/bech32.c) verifies before signing.
 */
#ifndef AW_ADDRSHAPE_H
#define AW_ADDRSHAPE_H

int	 allo_address_shape(const char *);

#endif
