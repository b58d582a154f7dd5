#include "test_adapter.h"
