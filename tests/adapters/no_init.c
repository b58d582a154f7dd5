#define TA_NAME "test_noinit"
#define TA_INIT NULL
#include "test_adapter.h"
