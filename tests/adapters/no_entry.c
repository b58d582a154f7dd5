#define TA_NO_ENTRY 1
#include "test_adapter.h"
