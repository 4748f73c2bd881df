// The parafit program, callable: `parafit` and its test build (tests/cli/testing_main.cpp, which
// sets the test seam first) both call it.
#pragma once

namespace parafit::cli {

// Parses the command line, runs the chosen command and returns the exit code.
int run_main(int argc, char** argv);

}  // namespace parafit::cli
