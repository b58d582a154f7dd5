/*
 * settings/internal.h - helpers shared by the files of host/src/settings only
 * (values.c, resolve.c, storage.c); not part of the module's interface.
 */
#ifndef SMELT_SETTINGS_INTERNAL_H
#define SMELT_SETTINGS_INTERNAL_H

#include <cjson/cJSON.h>

/*
 * The value of setting `name` in the config object `cfg`, found as a flat key
 * ("a.b") or nested ({"a": {"b": ...}}), trying every split at a dot; NULL when
 * absent or when cfg is not an object.  Borrowed from cfg.
 */
const cJSON *settings_config_lookup(const cJSON *cfg, const char *name);

#endif
