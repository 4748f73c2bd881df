// libFuzzer target: the training checkpoint loader (read_checkpoint) on arbitrary file contents,
// against a fixed fingerprint of settings.
//
// The contract: a damaged checkpoint, or one written with other settings, is a parafit::Error
// naming the file, never a crash, overflow, leak or undefined behaviour.
#include <cstddef>
#include <cstdint>

#include "fuzz_file.h"
#include "parafit/error.h"
#include "train/checkpoint.h"

namespace {

parafit::fuzz::ScratchFile scratch(".ckpt");

// The settings of the seed checkpoint tests/fuzz/corpus/checkpoint/curve:
// `parafit train --data <40 rows> --model exp-decay --epochs 3 --batch 4 --optimizer adam --seed 1`.
constexpr const char* kFingerprint =
    R"({"model":"exp-decay","inputs":["x"],"response":"y","parameters":3,"optimizer":"adam","learning_rate":0.001,"beta1":0.9,"beta2":0.999,"epsilon":1e-08,"weight_decay":0.0,"schedule":"constant","batch":4,"accumulate":1,"epochs":3,"strata":1,"rows":40,"validation_fraction":0.0,"early_stop":0,"seed":1,"divergence_factor":1000000.0})";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string& path = scratch.write(data, size);
  try {
    (void)parafit::detail::read_checkpoint(path, kFingerprint);
  } catch (const parafit::Error&) {
  }
  return 0;
}
