#define TA_NAME "test_small"
#define TA_SIZE 16
#include "test_adapter.h"
