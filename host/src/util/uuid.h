/* uuid - random (version 4) UUIDs from /dev/urandom. */
#ifndef SMELT_UUID_H
#define SMELT_UUID_H
/* Fill out (37 bytes) with a new lowercase UUID v4; 0 on success. */
int uuid4(char out[37]);
#endif
