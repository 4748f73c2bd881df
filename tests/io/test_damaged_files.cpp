// Damaged model files and checkpoints found by the fuzzers (tests/fuzz/): each is a parafit::Error
// that names the file, never another exception (which the command line reports as an internal
// error).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>

#include "parafit/error.h"
#include "parafit/mlp_file.h"
#include "parafit/model_file.h"
#include "train/checkpoint.h"

namespace {

// The message of the parafit::Error that `f` throws; fails the test for anything else.
std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const parafit::Error& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "not a parafit::Error: " << e.what();
    return {};
  }
  ADD_FAILURE() << "no error";
  return {};
}

// JSON syntax that nlohmann cannot hold: a number beyond double's range (fuzzer finding).
constexpr const char* kOverflow = R"({"format": "parafit-model", "version": 1e999})";

}  // namespace

TEST(DamagedFiles, ANumberBeyondDoubleInAModelFileIsAnError) {
  const std::string curve = error_of([] { parafit::parse_model(kOverflow, "m.json"); });
  EXPECT_NE(curve.find("m.json: invalid model file: not valid JSON (damaged?)"), std::string::npos) << curve;
  EXPECT_NE(curve.find("number overflow parsing '1e999'"), std::string::npos) << curve;
  const std::string mlp = error_of([] { parafit::parse_mlp(kOverflow, "n.json"); });
  EXPECT_NE(mlp.find("n.json: invalid model file: not valid JSON (damaged?)"), std::string::npos) << mlp;
  EXPECT_NE(mlp.find("number overflow parsing '1e999'"), std::string::npos) << mlp;
}

TEST(DamagedFiles, ANumberBeyondDoubleInACheckpointIsAnError) {
  const std::string path =
      (std::filesystem::temp_directory_path() / ("parafit-damaged-" + std::to_string(::getpid()) + ".ckpt")).string();
  {
    std::ofstream out(path);
    out << R"({"format": "parafit-checkpoint", "version": 1, "epoch": 1e999})";
  }
  const std::string message = error_of([&] { parafit::detail::read_checkpoint(path, "{}"); });
  std::remove(path.c_str());
  EXPECT_NE(message.find("checkpoint '" + path + "' is damaged (not valid JSON: "), std::string::npos) << message;
  EXPECT_NE(message.find("number overflow parsing '1e999'"), std::string::npos) << message;
}
