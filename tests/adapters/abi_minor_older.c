#define TA_NAME "test_older"
#define TA_ABI SMELT_ABI_MAKE(1, 0)
#define TA_SIZE SMELT_ADAPTER_V1_0_SIZE
#include "test_adapter.h"
