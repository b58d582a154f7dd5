#define TA_NAME "test_major"
#define TA_ABI SMELT_ABI_MAKE(SMELT_ABI_MAJOR + 1, 0)
#include "test_adapter.h"
