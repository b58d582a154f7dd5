#define TA_NAME "test_bad_command_size"
#define TA_COMMAND_SIZE 8 /* smaller than the 1.1 struct smelt_command */
#include "test_adapter.h"
