#define TA_NULL_ENTRY 1
#include "test_adapter.h"
