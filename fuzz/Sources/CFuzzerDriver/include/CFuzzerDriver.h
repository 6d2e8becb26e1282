#ifndef VIGIL_CFUZZERDRIVER_H
#define VIGIL_CFUZZERDRIVER_H

#include <stddef.h>
#include <stdint.h>

/// libFuzzer's driver (llvm/compiler-rt FuzzerInterface.h), in every binary linked with
/// libFuzzer (fuzz/build-flags). The fuzz targets call it from their own main: SwiftPM links an
/// executable's entry point under its own name, so libFuzzer's main is never used.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*UserCb)(const uint8_t *Data, size_t Size));

#endif
