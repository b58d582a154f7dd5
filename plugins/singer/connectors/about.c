/* about: see about.h. */
#include "about.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>

/* <NAME>_<SETTING>, upper-cased, '-' -> '_' (the SDK's env var names). */
static void print_env_name(const char *name, const char *setting)
{
	for (const char *p = name; *p; p++)
		putchar(*p == '-' ? '_' : toupper((unsigned char)*p));
	putchar('_');
	for (const char *p = setting; *p; p++)
		putchar(*p == '-' ? '_' : toupper((unsigned char)*p));
}

int conn_about_print(const struct conn_about *a, cJSON *settings, int as_json)
{
	if (!as_json) {
		const cJSON *p;
		printf("Name: %s\nDescription: %s\nVersion: %s\nSDK Version: smelt-native\nCapabilities:\n", a->name,
		       a->description, a->version);
		for (size_t i = 0; i < a->ncaps; i++)
			printf("  - %s\n", a->caps[i]);
		printf("Settings:\n");
		cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(settings, "properties"))
		{
			const cJSON *ty = cJSON_GetObjectItemCaseSensitive(p, "type");
			printf("  - Name: %s\n    Type: %s\n    Environment Variable: ", p->string,
			       cJSON_IsString(ty) ? ty->valuestring : "any");
			print_env_name(a->name, p->string);
			putchar('\n');
		}
		cJSON_Delete(settings);
		return 0;
	}
	cJSON *o = cJSON_CreateObject(), *caps = cJSON_CreateArray();
	cJSON_AddStringToObject(o, "name", a->name);
	cJSON_AddStringToObject(o, "description", a->description);
	cJSON_AddStringToObject(o, "version", a->version);
	cJSON_AddStringToObject(o, "sdk_version", "smelt-native");
	cJSON_AddNullToObject(o, "supported_python_versions");
	for (size_t i = 0; i < a->ncaps; i++)
		cJSON_AddItemToArray(caps, cJSON_CreateString(a->caps[i]));
	cJSON_AddItemToObject(o, "capabilities", caps);
	cJSON_AddItemToObject(o, "settings", settings ? settings : cJSON_CreateObject());
	char *txt = cJSON_Print(o);
	cJSON_Delete(o);
	if (!txt)
		return -1;
	puts(txt);
	free(txt);
	return 0;
}
