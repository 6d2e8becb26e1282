// The module's functions are inline, in its header; a C target needs a source file.
#include "CVigilBytes.h"
