#define TA_NAME "test_newer"
#define TA_ABI SMELT_ABI_MAKE(SMELT_ABI_MAJOR, SMELT_ABI_MINOR + 1)
#include "test_adapter.h"
