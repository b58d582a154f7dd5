/*
 * pickle - a reader for the Python pickles Meltano keeps in its system
 * database (`plugin_settings.value`, SQLAlchemy PickleType, protocol 5 in
 * Meltano 4.4).  Only plain data is understood: str, int, float, bool,
 * None, and lists and dicts (string keys) made of them (a value met twice,
 * a memo reference, is copied).  Anything else (a class, a tuple, a set)
 * is refused, never executed:
 * the reader has no notion of importing or calling anything.
 */
#ifndef SMELT_PICKLE_H
#define SMELT_PICKLE_H

#include <stddef.h>

/*
 * Decode the pickle in buf[0..len) into compact JSON text (*json, caller
 * frees with free()).  Returns SMELT_OK, or SMELT_ERR with err naming the
 * first opcode it cannot read ("unsupported pickle opcode 0x63 at byte 2")
 * or the truncation.  Big integers keep their exact digits.
 */
int pickle_to_json(const unsigned char *buf, size_t len, char **json, char *err, size_t errlen);

#endif
