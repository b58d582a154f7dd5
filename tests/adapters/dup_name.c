#define TA_NAME "test_ok"
#include "test_adapter.h"
