/**
 * @file media_int.h  Internals of src/media shared by its files and tests
 *
 * Not for other folders: they use media.h.
 */

#ifndef RELAIS_MEDIA_INT_H
#define RELAIS_MEDIA_INT_H

struct media;
struct portpool;

struct portpool *media_pool(const struct media *m);

#endif
