#define TA_NAME "Bad-Name"
#include "test_adapter.h"
