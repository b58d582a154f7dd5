/*
 * libFuzzer harness for the reader of Meltano's pickled settings
 * (host/src/store/pickle.c): any bytes either decode to JSON text that
 * cJSON parses back, or fail with a message.
 */
#include "store/pickle.h"

#include <smelt/sdk.h>
#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *json = NULL, err[256];
	if (pickle_to_json(data, size, &json, err, sizeof err) == SMELT_OK) {
		cJSON *v = cJSON_Parse(json);
		if (!v)
			abort();
		cJSON_Delete(v);
	}
	free(json);
	return 0;
}
