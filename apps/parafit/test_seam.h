// The command line's test seam: hooks that only the test build of the command line
// (tests/cli/testing_main.cpp, the `parafit_testing` program) sets, to make a rank lose its data
// file, die in a collective, stop training as if killed, or be killed or hang at a given step. The `parafit` program never sets
// them: its behaviour does not depend on any test setting.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "parafit/communicator.h"

namespace parafit::cli {

struct TestSeam {
  // Wraps the communicator of the run (fault injection).
  std::function<std::unique_ptr<Communicator>(std::unique_ptr<Communicator>)> wrap_communicator;
  // The data path that rank `rank` reads instead of `path`.
  std::function<std::string(const std::string& path, int rank)> data_path;
  // `train`: stop after this many optimizer steps, as if the process were killed (0: never).
  std::size_t stop_after_steps = 0;
  // `train`: called on every rank after each optimizer step (numbered from 1), to kill the rank or
  // make it hang there.
  std::function<void(int rank, std::size_t step)> after_step;
};

TestSeam& test_seam();

}  // namespace parafit::cli
