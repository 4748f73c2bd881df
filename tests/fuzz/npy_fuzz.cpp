// libFuzzer target: the .npy reader (read_npy_header, read_npy) on arbitrary file contents.
//
// The contract: a bad file is a parafit::Error naming the file, never a crash, hang, overflow
// (a header's shape can claim any size), leak or undefined behaviour.
#include <cstddef>
#include <cstdint>

#include "fuzz_file.h"
#include "parafit/error.h"
#include "parafit/npy.h"

namespace {

parafit::fuzz::ScratchFile scratch(".npy");

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string& path = scratch.write(data, size);
  try {
    (void)parafit::read_npy_header(path);
  } catch (const parafit::Error&) {
  }
  try {
    (void)parafit::read_npy(path);
  } catch (const parafit::Error&) {
  }
  return 0;
}
