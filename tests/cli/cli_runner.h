// Runs the parafit binary in a shell and captures its exit code, stdout and stderr.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <system_error>
#include <fstream>
#include <sstream>
#include <string>

namespace parafit::testing {

struct CliResult {
  int code = -1;
  std::string out, err;
};

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void write_file(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

// A scratch directory unique to the running test.
inline std::string scratch_dir() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string dir = ::testing::TempDir() + "parafit_cli_" + info->test_suite_name() + "_" + info->name();
  for (auto& c : dir)
    if (c == '/') continue;
    else if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.') c = '_';
  std::system(("rm -rf '" + dir + "' && mkdir -p '" + dir + "'").c_str());
  return dir;
}

// Runs `parafit <args>` (args are passed to /bin/sh as written).
inline CliResult run_parafit(const std::string& args, const std::string& dir) {
  const std::string out = dir + "/stdout.txt", err = dir + "/stderr.txt";
  const std::string cmd = std::string("'") + PARAFIT_EXE + "' " + args + " >'" + out + "' 2>'" + err + "'";
  const int status = std::system(cmd.c_str());
  CliResult r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = read_file(out);
  r.err = read_file(err);
  return r;
}

#ifdef PARAFIT_MPIEXEC
// Flags for Open MPI as root in a container: allow root, allow more ranks than cores, and avoid
// the shared-memory single-copy mechanism that containers often forbid. A timeout guards every
// run, so a hang fails the test instead of the whole CI job.
// With `env` (PARAFIT_TESTING_... settings) the ranks run parafit_testing, parafit with its test seam.
// Each test process gives its mpiruns a session directory base of their own: Open MPI creates
// /tmp/ompi.<host>.<uid> on first use, and two mpiruns of tests running in parallel can race to
// create it ("mkdir ... File exists", orte_init failed).
inline const std::string& mpi_session_base() {
  struct Base {
    std::string path;
    Base() {
      char name[] = "/tmp/pfmpi.XXXXXX";
      const char* made = mkdtemp(name);
      path = made != nullptr ? made : "/tmp";
    }
    ~Base() {
      std::error_code ignored;
      if (path != "/tmp") std::filesystem::remove_all(path, ignored);
    }
  };
  static const Base base;
  return base.path;
}

inline std::string mpirun(int ranks, const std::string& env = "") {
  return "timeout 120 env OMPI_MCA_btl_vader_single_copy_mechanism=none OMPI_MCA_orte_tmpdir_base='" +
         mpi_session_base() + "' " + env + " '" PARAFIT_MPIEXEC
         "' --allow-run-as-root --oversubscribe -np " + std::to_string(ranks) + " '" +
         (env.empty() ? PARAFIT_EXE : PARAFIT_TESTING_EXE) + "' ";
}

inline CliResult run_mpi(int ranks, const std::string& args, const std::string& dir, const std::string& env = "") {
  const std::string out = dir + "/stdout.txt", err = dir + "/stderr.txt";
  const int status = std::system((mpirun(ranks, env) + args + " >'" + out + "' 2>'" + err + "'").c_str());
  CliResult r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = read_file(out);
  r.err = read_file(err);
  return r;
}

#endif

}  // namespace parafit::testing
